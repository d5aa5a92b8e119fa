"""Feature maps, the sizes explorer: kernel, stride, padding and dilation on a 28×28 input; the output size and
the receptive field of one output cell, drawn."""

import streamlit as st

from core.analysis import conv_sizes
from core.base.errors import StudioError
from dashboard.images import show_image

KEY = "sizes"


def _clamp(key: str, high: int) -> None:
    if key in st.session_state and not 0 <= int(st.session_state[key]) <= high:
        st.session_state[key] = max(0, min(int(st.session_state[key]), high))


def show(image=None) -> None:
    """The explorer; `image` (28×28) is drawn inside the grid when given."""
    st.subheader("Sizes explorer")
    st.markdown(
        "How big is a convolution's output, and which pixels does one output cell see? The **kernel** is the "
        "filter's size, the **stride** how far it jumps between cells, the **padding** the ring of zeros added "
        "around the picture, and the **dilation** the gap between the pixels the kernel reads."
    )
    kernel_col, stride_col, padding_col, dilation_col = st.columns(4)
    ranges = (conv_sizes.KERNELS, conv_sizes.STRIDES, conv_sizes.PADDINGS, conv_sizes.DILATIONS)
    defaults = (3, 1, 0, 1)
    values = []
    for column, name, options, default in zip(
        (kernel_col, stride_col, padding_col, dilation_col),
        ("Kernel", "Stride", "Padding", "Dilation"),
        ranges,
        defaults,
    ):
        st.session_state.setdefault(f"{KEY}_{name.lower()}", default)
        values.append(column.select_slider(name, options=list(options), key=f"{KEY}_{name.lower()}"))
    try:
        g = conv_sizes.Geometry(*values)
        out = g.output
    except StudioError as e:
        st.error(str(e))
        return
    for axis in ("row", "col"):
        st.session_state.setdefault(f"{KEY}_{axis}", 0)
        _clamp(f"{KEY}_{axis}", out - 1)
    row_col, col_col = st.columns(2)
    row = row_col.slider("Output row", 0, out - 1, key=f"{KEY}_row") if out > 1 else 0
    col = col_col.slider("Output column", 0, out - 1, key=f"{KEY}_col") if out > 1 else 0
    k, s, p, d = values
    st.markdown(
        f"Output: ⌊(28 + 2×{p} − {d}×({k} − 1) − 1) / {s}⌋ + 1 = **{out}×{out}**. Output cell ({row}, {col}) "
        f"reads {k}×{k} pixels spread over {g.span}×{g.span}: rows {g.taps(row)[0]} to {g.taps(row)[-1]}, "
        f"columns {g.taps(col)[0]} to {g.taps(col)[-1]} (below 0 or from 28 on: padding)."
    )
    left, right = st.columns(2)
    inside = len(g.receptive_field(row, col))
    show_image(
        conv_sizes.input_picture(g, row, col, None if image is None else image.numpy(), cell=9),
        alt=f"the {28 + 2 * p}×{28 + 2 * p} padded input grid; the {k * k} pixels output cell ({row}, {col}) reads are "
        f"orange ({inside} inside the picture, {k * k - inside} in the padding), spanning a {g.span}×{g.span} "
        "square outlined in blue",
        where=left,
        caption=f"Input, 28×28 plus {p} of padding on each side",
    )
    show_image(
        conv_sizes.output_picture(g, row, col, cell=max(6, min(16, 240 // out))),
        alt=f"the {out}×{out} output grid with cell ({row}, {col}) in orange",
        where=right,
        caption=f"Output, {out}×{out}",
    )
