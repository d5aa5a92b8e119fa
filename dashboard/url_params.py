"""The parameters a page reads from its address: declared here, read and checked here. An address can be
typed, edited or copied, so anything odd in it becomes one line on the page, never an exception.

Every page also reads the old `owner` parameter (dashboard.classroom), which it takes out of the address, and
`projector` (dashboard.projector).
"""

import streamlit as st

PARAMS = {  # page name (dashboard.pages) -> the parameters it reads
    "explain": ("model", "index", "target", "layer"),
}
EVERY_PAGE = ("owner", "projector")  # projector: dashboard.projector
MAX_LENGTH = 200  # characters; longer values are refused before anything looks at them


def shown(value, limit: int = 40) -> str:
    """A value as a one-line message can quote it: repr, at most `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read(page: str) -> dict[str, str | None]:
    """The page's declared parameters (None where absent); an over-long one is refused with one line."""
    out = {}
    for name in PARAMS[page]:
        value = st.query_params.get(name)
        if value is not None and len(value) > MAX_LENGTH:
            st.error(f"The link's {name} is {len(value):,} characters long, too long to be one: it is ignored.")
            value = None
        out[name] = value
    return out


def whole_number(value: str, low: int, high: int) -> int | None:
    """`value` as a whole number in [low, high] written with ASCII digits only (not "²", "①" or "５"); else None."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None
