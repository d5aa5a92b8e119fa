"""Show one experiment (the runs of a sweep): overall progress, curves overlaid live, the final table and summary."""

import altair as alt
import pandas as pd
import streamlit as st

from core.library import experiments
from core.serving.jobs import Job
from dashboard.train.train_panel import STATE_LABELS


def show(experiment: experiments.Experiment, jobs: list[Job], labels: list[str], on_stop) -> None:
    """`jobs` and `labels` in the order of the grid; `on_stop` stops every run that is still active."""
    finished = [j for j in jobs if not j.active]
    st.markdown(f"**{experiment.name}** — {len(finished)} of {len(jobs)} runs finished")
    active = [j for j in jobs if j.active]
    if active:
        st.button(
            "Stop the experiment",
            key=f"stop_experiment_{experiment.id}",
            on_click=on_stop,
            icon=":material/stop_circle:",
            help="Stops the running run and cancels the waiting ones; finished runs are kept.",
        )
        progress = sum(j.progress for j in jobs) / len(jobs)
        running = [(label, j) for label, j in zip(labels, jobs) if j.state == "running"]
        text = f"{len(finished)} of {len(jobs)} runs done"
        if running:
            label, job = running[0]
            b = job.last_batch
            text += f" · running {label}" + (f", epoch {b['epoch']}/{job.config.epochs}" if b else "")
        st.progress(progress, text=text)
    _curves(jobs, labels)
    if not active:
        _results(experiment)
    _runs_table(jobs, labels)


def _curves(jobs: list[Job], labels: list[str]) -> None:
    rows = [
        {"run": label, "epoch": e["epoch"], "metric": metric, "value": e[f"val_{metric}"]}
        for label, job in zip(labels, jobs)
        for e in job.epochs
        if not e.get("partial")
        for metric in ("loss", "accuracy")
    ]
    if not rows:
        st.caption("The validation curves of every run appear here, overlaid, as their epochs end.")
        return
    data = pd.DataFrame(rows)
    epochs = max(j.config.epochs for j in jobs)
    left, right = st.columns(2)
    for col, metric, fmt in ((left, "loss", ".3f"), (right, "accuracy", ".1%")):
        chart = (
            alt.Chart(data[data.metric == metric])
            .mark_line(point=True)
            .encode(
                x=alt.X("epoch:Q", scale=alt.Scale(domain=[0, max(epochs, 1)]), axis=alt.Axis(tickMinStep=1)),
                y=alt.Y(
                    "value:Q", title=f"validation {metric}", axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False)
                ),
                color=alt.Color(
                    "run:N",
                    sort=labels,
                    title="run",
                    scale=alt.Scale(scheme="category10"),
                    legend=alt.Legend(labelLimit=300),
                ),
                tooltip=["run", "epoch", alt.Tooltip("value:Q", format=fmt)],
            )
            .properties(
                title=f"Validation {metric} per epoch, every run",
                description=f"Line chart of the validation {metric} per epoch, one line per run: "
                + "; ".join(
                    f"{run} {format(last.value, fmt)} at epoch {last.epoch}"
                    for run, last in data[data.metric == metric].groupby("run", sort=False).last().iterrows()
                ),
                height=260,
            )
        )
        col.altair_chart(chart, width="stretch")


def _runs_table(jobs: list[Job], labels: list[str]) -> None:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "run": label,
                    "state": STATE_LABELS[j.state],
                    "progress": 100 * j.progress,
                    "queue": j.queue_position,
                    "epochs": len(j.epochs),
                    "val acc": 100 * j.epochs[-1]["val_accuracy"] if j.epochs else None,
                }
                for label, j in zip(labels, jobs)
            ]
        ),
        hide_index=True,
        width="stretch",
        key="experiment_runs",
        column_config={
            "progress": st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100),
            "val acc": st.column_config.NumberColumn(format="%.2f %%"),
        },
    )


def _results(experiment: experiments.Experiment) -> None:
    rows = experiments.table(experiment)
    if not rows:
        return
    st.markdown("**Results**")
    table = pd.DataFrame(
        [
            {
                "best": "★" if r["best"] else "",
                **{k: r[k] for k in experiment.swept},
                "status": r["status"],
                "test acc": None if r["test_accuracy"] is None else 100 * r["test_accuracy"],
                "best val acc": None if r["best_val_accuracy"] is None else 100 * r["best_val_accuracy"],
                "epochs": r["epochs_run"],
                "time (s)": r["seconds"],
            }
            for r in rows
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="experiment_results",
        column_config={
            "test acc": st.column_config.NumberColumn(format="%.2f %%"),
            "best val acc": st.column_config.NumberColumn(format="%.2f %%"),
            "time (s)": st.column_config.NumberColumn(format="%.1f"),
        },
    )
    st.info(experiments.summary(experiment, rows))
