"""Feature maps, the sizes explorer: kernel, stride, padding and dilation on a 28×28 input; the output size and
the receptive field of one output cell, drawn. A layer of the chosen model loads its real settings and the
input size it receives, and the explorer's output size is checked against the one the model computes."""

import streamlit as st

from core.analysis import conv_sizes, layer_sizes
from core.base.errors import StudioError
from dashboard.images import show_image

KEY = "sizes"
FREE = ""  # the explorer on its own: a 28×28 input
CONTROLS = ("kernel", "stride", "padding", "dilation")


def _clamp(key: str, high: int) -> None:
    if key in st.session_state and not 0 <= int(st.session_state[key]) <= high:
        st.session_state[key] = max(0, min(int(st.session_state[key]), high))


def _settings(layer: layer_sizes.LayerSize) -> tuple[int, int, int, int]:
    g = layer.geometry
    return g.kernel, g.stride, g.padding, g.dilation


def _load(layers: dict[str, layer_sizes.LayerSize]) -> None:
    """Set the controls to the picked layer's settings and input size (a 28×28 input for the free explorer)."""
    state = st.session_state
    layer = layers.get(state.get(f"{KEY}_layer", FREE))
    for name, value in zip(CONTROLS, _settings(layer) if layer else (3, 1, 0, 1)):
        state[f"{KEY}_{name}"] = value
    state[f"{KEY}_input"] = layer.geometry.size if layer else conv_sizes.INPUT


def _fits(layer: layer_sizes.LayerSize) -> bool:
    """Whether the explorer's controls can show the layer's settings."""
    if layer.geometry is None:
        return False
    ranges = (conv_sizes.KERNELS, conv_sizes.STRIDES, conv_sizes.PADDINGS, conv_sizes.DILATIONS)
    return all(value in options for value, options in zip(_settings(layer), ranges))


def _pick_layer(model, model_name: str) -> layer_sizes.LayerSize | None:
    """The model's layer the explorer is loaded from, or None for the free explorer."""
    try:
        found = layer_sizes.model_layers(model)
    except (StudioError, RuntimeError):
        found = []
    layers = {layer.name: layer for layer in found if _fits(layer)}
    if not layers:
        return None
    state = st.session_state
    if state.get(f"{KEY}_layer", FREE) not in [FREE, *layers]:  # a layer of the model picked before
        state[f"{KEY}_layer"] = FREE
        _load(layers)
    picked = st.selectbox(
        f"Load a layer of {model_name}",
        [FREE, *layers],
        format_func=lambda n: "none: a 28×28 picture, settings of your own"
        if n == FREE
        else f"{n} · {layers[n].kind} · {layers[n].kernel[0]}×{layers[n].kernel[1]} kernel · "
        f"{layers[n].input[0]}×{layers[n].input[1]} input",
        key=f"{KEY}_layer",
        on_change=_load,
        args=(layers,),
        help="Load a convolution or pooling layer's kernel, stride, padding and dilation, and the size of the "
        "map it receives in the model (smaller after each pooling)",
    )
    skipped = [layer.name for layer in found if layer.name not in layers]
    if skipped:
        st.caption(f"Not shown (settings outside these controls): {', '.join(skipped)}.")
    return layers.get(picked)


def _check(layer: layer_sizes.LayerSize, values: list[int], out: int) -> None:
    """Whether the explorer, on the loaded layer's settings, gives the size the model computes."""
    real = f"{layer.output[0]}×{layer.output[1]}"
    if tuple(values) != _settings(layer):
        k, s, p, d = _settings(layer)
        st.info(
            f"These settings are yours, not {layer.name}'s (kernel {k}, stride {s}, padding {p}, dilation {d}); "
            f"in the model it gives {real}."
        )
        st.button(f"Back to {layer.name}'s settings", key=f"{KEY}_reload", on_click=_load, args=({layer.name: layer},))
    elif (out, out) == layer.output:
        st.success(
            f"In the model, **{layer.name}** receives {layer.input[0]}×{layer.input[1]} and gives **{real}** (one "
            f"forward pass of a blank picture): the same as the formula's {out}×{out}.",
            icon=":material/check_circle:",
        )
    else:
        st.error(f"In the model, {layer.name} gives {real}, but the formula says {out}×{out}.")


def show(image=None, model=None, model_name: str = "the model") -> None:
    """The explorer; `image` (28×28) is drawn inside the grid when the input is the picture, and `model`'s
    convolution and pooling layers can be loaded into it."""
    st.subheader("Sizes explorer")
    st.markdown(
        "How big is a convolution's output, and which pixels does one output cell see? The **kernel** is the "
        "filter's size, the **stride** how far it jumps between cells, the **padding** the ring of zeros added "
        "around the picture, and the **dilation** the gap between the pixels the kernel reads. A pooling layer "
        "slides its window the same way, so the same arithmetic gives its size."
    )
    layer = _pick_layer(model, model_name) if model is not None else None
    size = int(st.session_state.get(f"{KEY}_input", conv_sizes.INPUT)) if layer else conv_sizes.INPUT
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
        g = conv_sizes.Geometry(*values, size=size)
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
        f"Output: ⌊({size} + 2×{p} − {d}×({k} − 1) − 1) / {s}⌋ + 1 = **{out}×{out}**. Output cell ({row}, {col}) "
        f"reads {k}×{k} {'pixels' if layer is None or layer.reads_picture else 'cells of its input'} spread over "
        f"{g.span}×{g.span}: "
        f"rows {g.taps(row)[0]} to {g.taps(row)[-1]}, columns {g.taps(col)[0]} to {g.taps(col)[-1]} (below 0 or "
        f"from {size} on: padding)."
    )
    if layer is not None:
        _check(layer, values, out)
    left, right = st.columns(2)
    inside = len(g.receptive_field(row, col))
    side = size + 2 * p
    on_picture = layer is None or layer.reads_picture
    picture = None if image is None or not on_picture else image.numpy()
    what = "picture" if on_picture else f"map {layer.name} receives"
    show_image(
        conv_sizes.input_picture(g, row, col, picture, cell=max(9, min(24, 270 // side))),
        alt=f"the {side}×{side} padded input grid; the {k * k} cells output cell ({row}, {col}) reads are "
        f"orange ({inside} inside the {what}, {k * k - inside} in the padding), spanning a {g.span}×{g.span} "
        "square outlined in blue",
        where=left,
        caption=f"Input, {size}×{size} plus {p} of padding on each side",
    )
    show_image(
        conv_sizes.output_picture(g, row, col, cell=max(6, min(24, 240 // out))),
        alt=f"the {out}×{out} output grid with cell ({row}, {col}) in orange",
        where=right,
        caption=f"Output, {out}×{out}",
    )
