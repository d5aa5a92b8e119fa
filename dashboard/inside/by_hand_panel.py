"""Feature maps, one number worked out by hand: pick a convolution, an output channel and a cell (click it on
the channel's map, or type its row and column); the patch, the kernel, their products, the sum, the bias and
each step to the activation, checked against the model."""

from functools import partial

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from core.analysis import conv_by_hand
from core.base.errors import StudioError
from core.data.classes import MEAN, STD
from core.models import conv_layers
from dashboard import charts

KEY = "hand"


def _clamp(key: str, high: int) -> None:
    """Keep a number input's stored value inside its range when the range shrinks (another layer)."""
    if key in st.session_state and not 0 <= int(st.session_state[key]) <= high:
        st.session_state[key] = max(0, min(int(st.session_state[key]), high))


def _step(rows: int, cols: int, delta: int) -> None:
    """Move the cell by `delta` in reading order (left to right, then the next row), wrapping at the ends."""
    state = st.session_state
    flat = (int(state.get(f"{KEY}_row", 0)) * cols + int(state.get(f"{KEY}_col", 0)) + delta) % (rows * cols)
    state[f"{KEY}_row"], state[f"{KEY}_col"] = divmod(flat, cols)


def clicked_cell(event, rows: int, cols: int) -> tuple[int, int] | None:
    """The (row, column) a click on the map selected, from the chart's selection state; None when nothing is
    selected or the point is not a cell of a `rows`×`cols` map."""
    points = ((event or {}).get("selection") or {}).get("cell") or []
    if not points:
        return None
    try:
        row, col = int(points[0]["row"]), int(points[0]["col"])
    except (KeyError, TypeError, ValueError):
        return None
    return (row, col) if 0 <= row < rows and 0 <= col < cols else None


def _on_click(chart_key: str, rows: int, cols: int) -> None:
    """Move the cell to the one clicked on the map: the row and column inputs follow."""
    found = clicked_cell(st.session_state.get(chart_key), rows, cols)
    if found is not None:
        st.session_state[f"{KEY}_row"], st.session_state[f"{KEY}_col"] = found


def _grid(values: np.ndarray, rows: list[int], cols: list[int]) -> pd.DataFrame:
    """A k×k block of numbers, written with three decimals, labelled with the input rows and columns it sits on
    (text rather than a styled table: a pandas Styler cost a third of the page's time)."""
    text = [[f"{v:.3f}" for v in row] for row in np.asarray(values, dtype=np.float64) + 0.0]  # no "-0.000"
    return pd.DataFrame(text, index=[str(r) for r in rows], columns=[str(c) for c in cols])


def show(model, image, maps: dict[str, np.ndarray]) -> None:
    """The panel for `model` on `image`; `maps` holds each convolution's output (channels, rows, cols) on it."""
    st.subheader("One number, worked out by hand")
    st.markdown(
        "Every number in a feature map is a **weighted sum**: the filter (kernel) lies on a small patch of the "
        "layer's input, each input value is multiplied by the weight on top of it, the products are added up, "
        "and a bias is added. The model then applies what follows the convolution — batch norm, a shortcut, "
        "the activation function. Pick a place and check the arithmetic against the model's own number."
    )
    layers = [name for name in conv_layers(model) if name in maps]
    if not layers:
        return
    if st.session_state.get(f"{KEY}_layer") not in layers:
        st.session_state.pop(f"{KEY}_layer", None)
    pick, channel_col, row_col, col_col = st.columns([2, 1, 1, 1])
    layer = pick.selectbox("Convolution", layers, key=f"{KEY}_layer")
    channels, rows, cols = maps[layer].shape
    for key, high in (("channel", channels - 1), ("row", rows - 1), ("col", cols - 1)):
        _clamp(f"{KEY}_{key}", high)
    channel = channel_col.number_input(f"Output channel (0-{channels - 1})", 0, channels - 1, key=f"{KEY}_channel")
    row = row_col.number_input(f"Row (0-{rows - 1})", 0, rows - 1, key=f"{KEY}_row")
    col = col_col.number_input(f"Column (0-{cols - 1})", 0, cols - 1, key=f"{KEY}_col")
    back, forward, _ = st.columns([1, 1, 3])
    back.button("Previous cell", icon=":material/arrow_back:", key=f"{KEY}_back", on_click=_step, args=(rows, cols, -1))
    forward.button(
        "Next cell", icon=":material/arrow_forward:", key=f"{KEY}_next", on_click=_step, args=(rows, cols, 1)
    )
    _map_chart(layer, int(channel), maps[layer][int(channel)], int(row), int(col))
    try:
        r = conv_by_hand.compute(model, image, layer, int(channel), int(row), int(col))
    except (StudioError, RuntimeError) as e:
        st.error(f"Cannot work it out here: {str(e).splitlines()[0]}")
        return
    _patch(model, r)
    _sum(r)


def _map_chart(layer: str, channel: int, values: np.ndarray, row: int, col: int) -> None:
    """The channel's output map, one square per cell: clicking a cell picks it, the chosen one is outlined."""
    rows, cols = values.shape
    key = f"{KEY}_map_{layer}_{channel}_{row}_{col}"  # a fresh selection for each chosen cell
    charts.draw(
        map_spec(layer, channel, values, row, col),
        key=key,
        on_select=partial(_on_click, key, rows, cols),
        selection_mode="cell",
        width="content",
    )


@charts.shared
def map_spec(layer: str, channel: int, values: np.ndarray, row: int, col: int) -> alt.LayerChart:
    """The heat map of `_map_chart` (the same for every session on the same model, picture and cell)."""
    rows, cols = values.shape
    cells = pd.DataFrame(conv_by_hand.map_cells(values))
    reach = max(float(cells.value.abs().max()), 1e-6)
    side = max(9, min(36, 252 // max(rows, cols)))  # about 250 pixels a side: it fits a phone
    ticks = max(1, -(-max(rows, cols) // 8))  # about eight labels along a side
    pick = alt.selection_point(name="cell", fields=["row", "col"], on="click", clear=False, empty=False)
    base = alt.Chart(cells).encode(
        x=alt.X("col:O", title="column", axis=alt.Axis(values=list(range(0, cols, ticks)), labelAngle=0)),
        y=alt.Y("row:O", title="row", axis=alt.Axis(values=list(range(0, rows, ticks)))),
    )
    heat = (
        base.mark_rect(cursor="pointer")
        .encode(
            color=alt.Color(
                "value:Q",
                scale=alt.Scale(scheme="redblue", reverse=True, domain=[-reach, reach]),
                legend=alt.Legend(title="output", orient="bottom", gradientLength=min(200, cols * side)),
            ),
            tooltip=[
                alt.Tooltip("row:O"),
                alt.Tooltip("col:O", title="column"),
                alt.Tooltip("value:Q", title="convolution output", format=".4f"),
            ],
        )
        .add_params(pick)
    )
    here = f"datum.row == {row} && datum.col == {col}"
    outline = [  # black around white: the chosen cell shows on any colour
        base.transform_filter(here).mark_rect(filled=False, stroke=colour, strokeWidth=width)
        for colour, width in (("black", 4), ("white", 1.5))
    ]
    high, low = cells.loc[cells.value.idxmax()], cells.loc[cells.value.idxmin()]
    chosen = float(values[row, col])
    return alt.layer(heat, *outline).properties(
        width=cols * side,
        height=rows * side,
        title=f"Output of {layer}, channel {channel} (click a cell)",
        autosize=alt.AutoSizeParams(type="pad"),  # the cells keep their size; axes and legend go around them
        description=f"Heatmap of the {rows}×{cols} output map of channel {channel} of {layer}, the convolution's "
        f"output before what follows it: red positive, blue negative. Highest {high.value:.3f} at row "
        f"{int(high.row)}, column {int(high.col)}; lowest {low.value:.3f} at row {int(low.row)}, column "
        f"{int(low.col)}. The chosen cell, row {row}, column {col}, is outlined and holds {chosen:.4f}. Click a "
        "cell to work it out, or use the Row and Column inputs.",
    )


def _patch(model, r: conv_by_hand.ByHand) -> None:
    k = r.kernel.shape[1:]
    taps_r = [r.corner[0] + r.dilation[0] * i for i in range(k[0])]
    taps_c = [r.corner[1] + r.dilation[1] * j for j in range(k[1])]
    size = r.input_shape
    outside = sum(1 for t in taps_r if not 0 <= t < size[0]) + sum(1 for t in taps_c if not 0 <= t < size[1])
    first = r.layer == conv_layers(model)[0]
    where = (
        f"The {k[0]}×{k[1]} kernel of **{r.layer}** (stride {r.stride[0]}, padding {r.padding[0]}, dilation "
        f"{r.dilation[0]}{f', {r.groups} groups' if r.groups > 1 else ''}) lies on input rows {taps_r[0]} to "
        f"{taps_r[-1]} and columns {taps_c[0]} to {taps_c[-1]}"
    )
    where += (
        "; rows or columns outside the input are its padding (zeros)." if outside else "."
    ) + f" It reads {len(r.input_channels)} input channel{'s' if len(r.input_channels) > 1 else ''}."
    if first:
        where += (
            f" This first layer reads the picture **normalised**: (pixel / 255 − {MEAN}) / {STD}, so black is "
            f"{(0 - MEAN) / STD:.2f} and white {(1 - MEAN) / STD:.2f}."
        )
    st.markdown(where + " Below, each table's rows and columns are the input's.")
    index = 0
    if len(r.input_channels) > 1:
        index = st.selectbox(
            "Input channel shown",
            range(len(r.input_channels)),
            format_func=lambda i: f"input channel {r.input_channels[i]}",
            key=f"{KEY}_input_{r.layer}",
        )
    patch_col, kernel_col, product_col = st.columns(3)
    for column, title, values in (
        (patch_col, "Input patch", r.patch[index]),
        (kernel_col, f"Kernel of channel {r.channel}", r.kernel[index]),
        (product_col, "Products", r.products[index]),
    ):
        column.markdown(f"**{title}**")
        column.table(_grid(values, taps_r, taps_c))
    if len(r.input_channels) > 1:
        _partial_sums(r)


def _partial_sums(r: conv_by_hand.ByHand) -> None:
    sums = r.products.reshape(len(r.input_channels), -1).sum(1)
    frame = pd.DataFrame({"input channel": r.input_channels, "sum of its products": sums})
    chart = (
        alt.Chart(frame)
        .mark_bar(color="#3b6ea5")
        .encode(
            x=alt.X("input channel:O", axis=alt.Axis(labelOverlap=True)),
            y=alt.Y("sum of its products:Q"),
            tooltip=["input channel", alt.Tooltip("sum of its products:Q", format=".4f")],
        )
        .properties(
            height=160,
            title="Each input channel's share of the sum",
            description=f"Bar chart of the {len(sums)} input channels' sums of products; they add up to "
            f"{r.sum:.4f}; the largest is input channel {r.input_channels[int(np.argmax(sums))]} at {sums.max():.4f}",
        )
    )
    st.altair_chart(chart, width="stretch")


def _sum(r: conv_by_hand.ByHand) -> None:
    count = r.products.size
    lines = [
        f"1. Sum of the {count} products: **{r.sum:.4f}**",
        f"2. Plus the bias {r.bias:.4f}: **{r.conv:.4f}** — the convolution's output (the model's: {r.model_conv:.4f})"
        if r.has_bias
        else f"2. No bias (batch norm follows, which has its own): **{r.conv:.4f}** — the convolution's output "
        f"(the model's: {r.model_conv:.4f})",
    ]
    for i, step in enumerate(r.steps, start=3):
        lines.append(f"{i}. {step.name}{f' ({step.module})' if step.module else ''}: {step.formula}")
    st.markdown("\n".join(lines))
    if any(step.name == "Plus the shortcut" for step in r.steps):
        st.caption(
            "The shortcut's value is the model's own: the block's input, or its 1×1 convolution when the block "
            "changes size."
        )
    if r.stop:
        st.info(f"After the convolution: {r.stop}.")
    gap = r.error
    verdict = f"By hand: **{r.activation:.6f}**; the model's own activation: **{r.model_activation:.6f}**"
    if gap <= 1e-4:
        st.success(
            f"{verdict} — equal (they differ by {gap:.1e}, rounding in the last digits).",
            icon=":material/check_circle:",
        )
    else:
        st.error(f"{verdict} — they differ by {gap:.1e}.")
