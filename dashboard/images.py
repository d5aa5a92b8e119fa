"""Every picture on a page goes through `show_image`, which will not draw one without its alternative text: what
the picture shows, for a screen reader and for anyone whose browser does not load it."""

import streamlit as st


def show_image(image, alt, caption=None, where=st, **options) -> None:
    """st.image with `alt` on the <img>: one picture and one text, or lists of pictures, texts (and captions).
    `where` is the column or container to draw in; `options` go to st.image (width, output_format...)."""
    several = isinstance(image, (list, tuple))
    alts = list(alt) if several and not isinstance(alt, str) else [alt]
    if len(alts) != (len(image) if several else 1):
        raise ValueError(f"{len(alts)} alternative texts for {len(image) if several else 1} pictures")
    if not all(isinstance(a, str) and a.strip() for a in alts):
        raise ValueError("every picture needs a non-empty alternative text")
    where.image(image, caption=caption, alt=alts if several else alt, **options)
