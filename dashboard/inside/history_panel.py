"""How training changed the network: a slider over a run's epochs showing its first layer's filters and a
layer's weight and gradient histograms as they were after that epoch. On Train (live or finished) and Compare."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from core.analysis.feature_maps import filter_grid
from core.training import epoch_snapshots
from dashboard.images import show_image


def show(run_dir, key: str) -> None:
    """The panel for the run in `run_dir`; `key` keeps its widgets apart from another run's."""
    snapshots = epoch_snapshots.read(run_dir) if run_dir else []
    if not snapshots:
        st.caption("No per-epoch filters and histograms were recorded for this run (runs record them from now on).")
        return
    epochs = [s.epoch for s in snapshots]
    if len(epochs) > 1:
        state, slider = st.session_state, f"history_epoch_{key}"
        if state.get(slider) not in epochs or state.get(slider) == state.get(f"{slider}_newest"):
            state[slider] = epochs[-1]  # follow a live run's newest epoch until the student picks another
        state[f"{slider}_newest"] = epochs[-1]
        chosen = st.select_slider(
            "After epoch",
            options=epochs,
            key=slider,
            help="Slide to see the filters and histograms as they were after each epoch.",
        )
    else:
        chosen = epochs[0]
        st.caption(f"Recorded after epoch {chosen}; more epochs appear here as they finish.")
    snapshot = snapshots[epochs.index(chosen)]
    first = snapshots[0]
    left, right = st.columns([2, 3])
    with left:
        if snapshot.filters is not None:
            moved = float(np.abs(snapshot.filters - first.filters).mean()) if snapshot is not first else 0.0
            show_image(
                filter_grid(snapshot.filters, columns=min(8, len(snapshot.filters)), tile=48, gap=4),
                alt=f"the {len(snapshot.filters)} first-layer filters after epoch {chosen}: red positive weights, "
                "blue negative",
                caption=f"First layer filters after epoch {chosen}"
                + (f" (mean change since epoch {first.epoch}: {moved:.3f})" if snapshot is not first else ""),
                width="stretch",
            )
        else:
            st.caption("This model has no convolution: no filters to draw, only the histograms.")
    with right:
        names = list(snapshot.weights)
        layer = st.selectbox("Layer", names, key=f"history_layer_{key}")
        st.altair_chart(_histograms(snapshot, layer), width="stretch")


def _histograms(snapshot, layer: str) -> alt.VConcatChart:
    rows = []
    for kind, found in (("weights", snapshot.weights), ("gradients (last batch)", snapshot.gradients)):
        h = found.get(layer)
        if h is None:
            continue
        edges = h.edges
        rows += [
            {"kind": kind, "from": float(a), "to": float(b), "count": int(c)}
            for a, b, c in zip(edges[:-1], edges[1:], h.counts)
        ]
    frame = pd.DataFrame(rows)
    charts = []
    for kind in dict.fromkeys(frame["kind"]):
        part = frame[frame.kind == kind]
        charts.append(
            alt.Chart(part)
            .mark_bar(color="#3b6ea5" if kind == "weights" else "#d9622b")
            .encode(
                x=alt.X("from:Q", title=f"{kind} of {layer}", bin="binned"),
                x2="to:Q",
                y=alt.Y("count:Q", title="count"),
                tooltip=[alt.Tooltip("from:Q", format=".4f"), alt.Tooltip("to:Q", format=".4f"), "count"],
            )
            .properties(
                height=120,
                description=f"Histogram of the {kind} of {layer} after epoch {snapshot.epoch}: from "
                f"{part['from'].min():.4f} to {part['to'].max():.4f}",
            )
        )
    weights = frame[frame.kind == "weights"]
    return alt.vconcat(*charts).properties(
        title=f"{layer} after epoch {snapshot.epoch}",
        description=f"Histograms of the weights and the last batch's gradients of {layer} after epoch "
        f"{snapshot.epoch}; the weights run from {weights['from'].min():.4f} to {weights['to'].max():.4f}",
    )


def pick_and_show(paths: dict) -> None:
    """For Compare: a run among `paths` (label -> run folder or checkpoint file) and its panel."""
    from pathlib import Path

    folders = {label: Path(p) for label, p in paths.items() if Path(p).is_dir()}
    if not folders:
        st.caption("Pick a trained run above: the shipped models were trained before filters were recorded.")
        return
    label = st.selectbox("Run", list(folders), key="history_run") if len(folders) > 1 else next(iter(folders))
    show(folders[label], key=f"compare_{folders[label].name}")
