"""Show one training job: queue position, progress with ETA, live curves, the epoch table, the outcome."""

import altair as alt
import pandas as pd
import streamlit as st

from core.models import get as get_arch
from core.serving.job_events import WAITING
from core.serving.jobs import Job
from core.training import training_set
from dashboard import common, pages, projector
from dashboard.inside import history_panel

STATE_LABELS = {
    "queued": "queued",
    "running": "running",
    "completed": "completed",
    "early_stopped": "stopped early",
    "stopped": "stopped",
    "diverged": "diverged",
    "failed": "failed",
    "interrupted": "interrupted",
    "dropped": "dropped",
}
ON_EVERY_PAGE = ("evaluate", "feature_maps", "classify", "compare")  # linked once a training has finished
SPLIT_COLORS = {"train": "#f58518", "val": "#4c78a8"}


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def title(job: Job) -> str:
    return job.name or f"{get_arch(job.config.arch).display_name} · {job.id}"


def show(job: Job, on_stop=None) -> None:
    """The whole panel for `job`; `on_stop` is the Stop button's callback (None: read only, no button)."""
    st.markdown(f"**{title(job)}** — {STATE_LABELS[job.state]}")
    if job.state == "queued":
        st.info(
            f"Waiting in the queue: position **{job.queue_position}**. It starts as soon as the training "
            "ahead of it finishes."
        )
    if job.active and on_stop is not None:
        st.button(
            "Stop" if job.state == "running" else "Cancel",
            key=f"stop_{job.id}",
            on_click=on_stop,
            icon=":material/stop_circle:",
            args=(job.id,),
            help="Ends within one batch; the best checkpoint so far is kept.",
        )
    if job.state == "running":
        progress(job)
    _outcome(job)
    if job.epochs or job.batches:
        curves(job)
    if job.epochs:
        _epoch_table(job)
        with st.expander("How training changed the network", expanded=False):
            history_panel.show(job.run_dir, job.id)


def progress(job: Job) -> None:
    """The running job's progress bar: epoch, batch and time left."""
    b = job.last_batch
    if b is None:  # not started yet: the cluster may have no room for it now
        text = f"{WAITING.capitalize()}…" if job.message == WAITING else "Preparing the data and the model…"
        st.progress(0.0, text=text)
        return
    eta = job.eta_seconds()
    text = f"Epoch {b['epoch']}/{job.config.epochs} · batch {b['batch']}/{b['batches']}"
    text += f" · ETA {duration(eta)}" if eta is not None else ""
    if job.message == "stopping…":
        text += " · stopping…"
    st.progress(job.progress, text=text)


def tested_on(job: Job) -> str:
    """The test images the run's accuracy counts, in words: all of them, or those of the classes it learned."""
    data = common.dataset_if_present()
    classes = job.config.classes
    if data is None:
        return "the test images of its classes" if classes else "the test images"
    count = training_set.test_count(data, job.config)
    if not classes:
        return f"the {count:,} test images"
    return f"the {count:,} test images of its {len(classes)} classes ({', '.join(classes)})"


def _outcome(job: Job) -> None:
    result = job.result or {}
    if job.state == "failed":
        st.error(f"Training failed: {job.error}")
    elif job.state in ("diverged", "interrupted", "dropped"):
        st.warning(job.message)
    elif job.state in ("completed", "early_stopped", "stopped") and result.get("test_accuracy") is not None:
        ended = {"completed": "Finished", "early_stopped": "Stopped early", "stopped": "Stopped"}[job.state]
        st.success(
            f"{ended} after {duration(result['seconds'])}. Test accuracy **{result['test_accuracy']:.2%}** "
            f"on {tested_on(job)} (best epoch {result['best_epoch']}). "
            "The model is now on every page:"
        )
        for col, name in zip(st.columns(len(ON_EVERY_PAGE)), ON_EVERY_PAGE):
            pages.link(name, where=col)
        if job.state != "completed":
            st.caption(job.message)
    elif job.state == "stopped":
        st.info(job.message)


def curves(job: Job) -> None:
    """The live curves: loss and accuracy per epoch, then the training loss per batch."""
    x = alt.X(
        "epoch:Q", title="epoch", scale=alt.Scale(domain=[0, max(job.config.epochs, 1)]), axis=alt.Axis(tickMinStep=1)
    )
    if job.epochs:
        _epoch_curves(job, x)
    else:
        st.caption("Loss and accuracy per epoch appear when the first epoch ends.")
    if job.batches:
        batches = pd.DataFrame(
            [
                {"epoch": (p["epoch"] - 1) + p["batch"] / p["batches"], "loss": p["loss"], "step": p["step"]}
                for p in job.batches
            ]
        )
        chart = (
            alt.Chart(batches)
            .mark_line(strokeWidth=1)
            .encode(
                x=x,
                y=alt.Y("loss:Q", title="train loss", scale=alt.Scale(zero=False)),
                tooltip=["step", alt.Tooltip("loss:Q", format=".4f")],
            )
            .properties(
                title="Training loss per batch",
                description=f"Line chart of the training loss of {len(batches):,} batches so far: the latest "
                f"{batches.loss.iloc[-1]:.4f} at epoch {batches.epoch.iloc[-1]:.2f}, the lowest {batches.loss.min():.4f}",
                height=projector.height(200),
            )
        )
        st.altair_chart(projector.style(chart), width="stretch")


def _number(value, fmt: str) -> str:
    return "none" if value is None else format(value, fmt)


def _epoch_curves(job: Job, x: alt.X) -> None:
    # without a validation split the trainer's "val" figures are the training ones: one line, not two alike
    validated = job.config.val_fraction > 0
    splits = ("train", "val") if validated else ("train",)
    epochs = pd.DataFrame(
        [
            {"epoch": e["epoch"], "metric": metric, "split": split, "value": e[f"{split}_{metric}"]}
            for e in job.epochs
            for metric in ("loss", "accuracy")
            for split in splits
        ]
    )
    left, right = (st.container(), st.container()) if projector.on() else st.columns(2)  # one chart per screen
    for col, metric, fmt in ((left, "loss", ".3f"), (right, "accuracy", ".1%")):
        chart = (
            alt.Chart(epochs[epochs.metric == metric])
            .mark_line(point=True)
            .encode(
                x=x,
                y=alt.Y("value:Q", title=metric, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False)),
                color=alt.Color(  # above the plot in projector view: a phone keeps its width for the curves
                    "split:N",
                    title=None,
                    scale=alt.Scale(
                        domain=list(splits), range=[SPLIT_COLORS[x] for x in splits]
                    ),  # no legend for a missing split
                    legend=alt.Legend(orient="top" if projector.on() else "right"),
                ),
                tooltip=["epoch", "split", alt.Tooltip("value:Q", format=fmt)],
            )
            .properties(
                title=f"{metric.capitalize()} per epoch",
                description=(
                    f"Line chart of the training and validation {metric} per epoch: "
                    if validated
                    else f"Line chart of the training {metric} per epoch (no validation split; the test set is "
                    "evaluated once, at the end): "
                )
                + "; ".join(
                    f"epoch {e['epoch']} train {_number(e.get(f'train_{metric}'), fmt)}"
                    + (f", validation {_number(e.get(f'val_{metric}'), fmt)}" if validated else "")
                    for e in job.epochs[-5:]
                ),
                height=projector.height(240),
            )
        )
        col.altair_chart(projector.style(chart), width="stretch")


def _epoch_table(job: Job) -> None:
    rows = [
        {
            "epoch": e["epoch"],
            "train loss": e["train_loss"],
            "train acc": 100 * e["train_accuracy"],
            "val loss": e["val_loss"],
            "val acc": 100 * e["val_accuracy"],
            "lr": e["lr"],
            "images/s": e["images_per_s"],
            "seconds": e["seconds"],
            "best": "★" if e["best"] else "",
        }
        for e in job.epochs
    ]
    table = pd.DataFrame(rows)
    if job.config.val_fraction <= 0:  # no validation split: its columns would repeat the training ones
        table = table.drop(columns=["val loss", "val acc"])
    pct = st.column_config.NumberColumn(format="%.2f %%")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "train loss": st.column_config.NumberColumn(format="%.4f"),
            "val loss": st.column_config.NumberColumn(format="%.4f"),
            "train acc": pct,
            "val acc": pct,
            "lr": st.column_config.NumberColumn(format="%.2e"),
            "images/s": st.column_config.NumberColumn(format="%.0f"),
            "seconds": st.column_config.NumberColumn(format="%.1f"),
        },
    )
