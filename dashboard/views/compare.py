"""Compare runs: overlay the learning curves of several trainings and line up their settings and results."""

import altair as alt
import pandas as pd
import streamlit as st

from core.training import compare, runs
from dashboard import common

common.intro(
    "Compare runs",
    "Every training leaves a folder in the runs directory with its settings and a log of each epoch. Overlaying "
    "the curves of several runs shows what a change of hyperparameter did: faster learning, a better final "
    "accuracy, or a growing gap between training and validation loss — the sign of overfitting.",
)

folders = runs.list_runs()
if not folders:
    st.info(f"No runs yet in `{runs.runs_dir()}`. Train a model on the Train page, then come back here.")
    st.page_link("views/train.py", label="Train a model", icon=":material/model_training:")
    st.stop()

rows = {f.name: compare.describe(f) for f in folders}


def label(run_id: str) -> str:
    row = rows[run_id]
    acc = f" — test {row['test_accuracy']:.2%}" if row["test_accuracy"] is not None else ""
    return f"{run_id} ({row['status']}){acc}"


chosen = st.multiselect("Runs", list(rows), default=list(rows)[:3], format_func=label, key="compare_runs",
                        help="Newest first. Runs still training show the epochs they have finished so far.")
if not chosen:
    st.info("Pick one or more runs above.")
    st.stop()

curves = pd.DataFrame(compare.curves([runs.runs_dir() / r for r in chosen]))
if curves.empty:
    st.info("The chosen runs have not finished an epoch yet.")
else:
    splits = st.segmented_control("Curves", ["val", "train"], default=["val", "train"], selection_mode="multi",
                                  key="compare_splits") or ["val"]
    shown = curves[curves.split.isin(splits)]
    for metric, fmt in (("loss", ".3f"), ("accuracy", ".1%")):
        chart = alt.Chart(shown[shown.metric == metric]).mark_line(point=True).encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("value:Q", title=metric, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False)),
            color=alt.Color("run:N", title="run", scale=alt.Scale(scheme="category10"),
                            legend=alt.Legend(labelLimit=400)),
            strokeDash=alt.StrokeDash("split:N", title="split", sort=["val", "train"],
                                      legend=None),  # the caption below says which is which
            tooltip=["run", "split", "epoch", alt.Tooltip("value:Q", format=fmt)],
        ).properties(title=f"{metric.capitalize()} per epoch", height=280)
        st.altair_chart(chart, width="stretch")
    st.caption("Solid lines: validation; dashed: training. Validation loss rising while training loss falls "
               "means the model starts memorising the training images.")

st.subheader("Settings and results")
table = pd.DataFrame([rows[r] for r in chosen])
table = table[["run", *compare.RESULTS, *compare.HYPERPARAMETERS]]
for column in ("test_accuracy", "best_val_accuracy"):
    table[column] = table[column].map(lambda v: None if v is None else 100 * v)
labels = {column: column.replace("_", " ") for column in table.columns}  # readable headers for the rest
labels.update(arch="architecture", arch_settings="settings", seconds="time (s)")
st.dataframe(table, hide_index=True, width="stretch", column_config={
    **labels,
    "test_accuracy": st.column_config.NumberColumn("test acc", format="%.2f %%"),
    "best_val_accuracy": st.column_config.NumberColumn("best val acc", format="%.2f %%"),
    "best_val_loss": st.column_config.NumberColumn("best val loss", format="%.4f"),
    "lr": st.column_config.NumberColumn("lr", format="%g"),
    "seconds": st.column_config.NumberColumn("time (s)", format="%.1f"),
})
