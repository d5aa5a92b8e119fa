"""Compare runs: overlay any recorded metric of several trainings and line up their settings and results."""

import altair as alt
import pandas as pd
import streamlit as st

from core.io import runs
from core.library import compare
from dashboard import common, pages
from dashboard.inside import history_panel

common.intro(
    "Compare runs",
    "Every training leaves a folder in the runs directory with its settings and a log of each epoch. Overlaying "
    "the curves of several runs shows what a change of hyperparameter did: faster learning, a better final "
    "accuracy, or a growing gap between training and validation loss — the sign of overfitting. The runs of one "
    "sweep are grouped as an experiment; the shipped models are here too.",
)

found = compare.sources(viewer=common.viewer())
if not found:
    st.info(f"No runs yet in `{runs.runs_dir()}`. Train a model on the Train page, then come back here.")
    pages.link("train", label="Train a model")
    st.stop()

ALL = "all"
group_names = {ALL: "All runs and models", **compare.groups(found)}
group = st.selectbox(
    "Group",
    list(group_names),
    format_func=group_names.get,
    key="compare_group",
    help="An experiment is the runs of one sweep, started together.",
)
in_group = [label for label, s in found.items() if group == ALL or s["group"] == group]
rows = {label: found[label]["row"] for label in in_group}


def label(run_id: str) -> str:
    row = rows[run_id]
    acc = f" — test {row['test_accuracy']:.2%}" if row["test_accuracy"] is not None else ""
    pin = " — pinned by the teacher" if found[run_id].get("pinned") else ""
    return f"{run_id} ({row['status']}){acc}{pin}"


pinned = [r for r in in_group if found[r].get("pinned")]
default = in_group if group != ALL else [r for r in in_group if found[r]["group"] != compare.SHIPPED_GROUP][:3]
default = pinned + [r for r in default if r not in pinned]  # the runs the teacher pinned for the class come first
if pinned:
    st.caption(":material/push_pin: Pinned by the teacher for the whole class: " + ", ".join(pinned))
chosen = st.multiselect(
    "Runs",
    in_group,
    default=default or in_group[:3],
    format_func=label,
    key=f"compare_runs_{group}",
    help="Newest first. Runs still training show the epochs they have finished so far.",
)
if not chosen:
    st.info("Pick one or more runs above.")
    st.stop()

left, right = st.columns(2)
metric = left.selectbox("Metric", list(compare.METRICS), format_func=compare.METRICS.get, key="compare_metric")
x_axis = (
    right.segmented_control(
        "Against", list(compare.X_AXES), format_func=compare.X_AXES.get, default="epoch", key="compare_x"
    )
    or "epoch"
)

curves = pd.DataFrame(compare.curves({r: found[r]["path"] for r in chosen}, metric=metric, x=x_axis))
missing = [r for r in chosen if curves.empty or r not in set(curves.run)]
if curves.empty:
    st.info("The chosen runs have no per-epoch history yet.")
else:
    fmt = ".1%" if metric.endswith("accuracy") else (".2e" if metric == "lr" else ".3f")
    chart = (
        alt.Chart(curves)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "x:Q", title=compare.X_AXES[x_axis], axis=alt.Axis(tickMinStep=1) if x_axis == "epoch" else alt.Axis()
            ),
            y=alt.Y("value:Q", title=compare.METRICS[metric], axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False)),
            color=alt.Color(
                "run:N", title="run", scale=alt.Scale(scheme="category10"), legend=alt.Legend(labelLimit=400)
            ),
            tooltip=[
                "run",
                "epoch",
                alt.Tooltip("x:Q", title=compare.X_AXES[x_axis], format=".1f"),
                alt.Tooltip("value:Q", format=fmt),
            ],
        )
        .properties(
            title=f"{compare.METRICS[metric].capitalize()} against {compare.X_AXES[x_axis]}",
            description=f"Line chart of {compare.METRICS[metric]} against {compare.X_AXES[x_axis]}, one line per run: "
            + "; ".join(
                f"{run} ends at {format(last.value, fmt)} (epoch {last.epoch})"
                for run, last in curves.groupby("run", sort=False).last().iterrows()
            ),
            height=320,
        )
    )
    st.altair_chart(chart, width="stretch")
if missing:
    st.caption(
        "No per-epoch history recorded for: " + ", ".join(missing) + ". The shipped models were trained "
        "before histories were kept; their final results are in the table."
    )

st.subheader("Settings and results")
picked = [rows[r] for r in chosen]
differ = compare.differing(picked)
table = pd.DataFrame(picked)
table = table[["run", *differ, *compare.RESULTS, *(k for k in compare.HYPERPARAMETERS if k not in differ)]]
for column in ("test_accuracy", "best_val_accuracy"):
    table[column] = table[column].map(lambda v: None if v is None else 100 * v)
if len(chosen) > 1:
    st.caption(
        "Highlighted: the settings that differ between the chosen runs."
        if differ
        else "The chosen runs share every setting."
    )
styled = table.style.map(lambda _: "background-color: #fff3bf", subset=differ) if differ else table
labels = {column: column.replace("_", " ") for column in table.columns}  # readable headers for the rest
labels.update(arch="architecture", arch_settings="settings", seconds="time (s)")
st.dataframe(
    styled,
    hide_index=True,
    width="stretch",
    key="compare_table",
    column_config={
        **labels,
        "test_accuracy": st.column_config.NumberColumn("test acc", format="%.2f %%"),
        "best_val_accuracy": st.column_config.NumberColumn("best val acc", format="%.2f %%"),
        "best_val_loss": st.column_config.NumberColumn("best val loss", format="%.4f"),
        "lr": st.column_config.NumberColumn("lr", format="%g"),
        "seconds": st.column_config.NumberColumn("time (s)", format="%.1f"),
    },
)
st.download_button(
    "Download this table (CSV)",
    table.to_csv(index=False).encode(),
    file_name="runs.csv",
    mime="text/csv",
    icon=":material/download:",
    key="compare_csv",
)

st.subheader("How training changed the network")
history_panel.pick_and_show({r: found[r]["path"] for r in chosen})
