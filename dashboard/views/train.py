"""Train: pick an architecture and hyperparameters, train in the background (a Ray worker), watch it live. In projector view
the page is the room's: the training under way and its curves only (dashboard.train.room_view)."""

import json
import time

import pandas as pd
import streamlit as st

from core.base.errors import StudioError
from core.io import runs
from core.library import experiments
from core.models import REGISTRY
from core.training import sweeps
from core.training.config import TrainConfig
from dashboard import classroom, common, projector
from dashboard.train import (
    experiment_panel,
    job_controls,
    resume_form,
    room_view,
    sweep_form,
    train_form,
    train_panel,
    training,
)

TITLE = "Train a model"
if projector.on():  # the room's view: no form, no controls
    st.title(TITLE)
else:
    common.intro(
        TITLE,
        "Training shows the network batches of labelled images and nudges its weights to lower the loss — how "
        "wrong its predictions are. Pick an architecture and hyperparameters, press Start, and watch the loss fall "
        "and the accuracy rise: the training images it learns from, and the held-out validation images that tell "
        "you whether it generalises. Training runs in the background, so you can visit other pages meanwhile.",
    )

data = common.get_dataset()
if data is None:
    st.stop()

try:
    jobs = training.manager()
except StudioError as e:  # e.g. a limit set to something that is not a number
    st.error(f"The server's training settings are wrong: {e}")
    st.stop()
me = classroom.owner_secret()
teacher = classroom.is_teacher()
if projector.on():
    room_view.show(jobs, me)
    st.stop()


@st.cache_data(show_spinner=False)
def parameter_count(arch: str, settings_json: str) -> int:
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(settings_json).items()}
    return REGISTRY[arch].parameter_count(**settings)


def stop(job_id: str) -> None:
    job_controls.act(jobs.stop, job_id, None if teacher else me)


# ---- settings ---------------------------------------------------------------------------------

train_form.recipe_picker()

st.subheader("1 · Architecture")
arch_name = train_form.architecture_choice()
arch = REGISTRY[arch_name]
st.markdown(arch.description)
settings = train_form.arch_settings(arch)
if settings is not None:
    try:
        count = parameter_count(arch_name, json.dumps(arch.settings(settings)))
        st.caption(f"**{count:,}** trainable parameters with these settings.")
    except StudioError as e:
        st.error(str(e))
        settings = None

st.subheader("2 · Hyperparameters")
hyper = train_form.hyperparameters()
name = st.columns(2)[0].text_input(
    "Model name (optional)",
    key="train_name",
    placeholder="e.g. my first CNN",
    help=f"How the model is listed on the other pages (up to {runs.MAX_NAME} characters); by default the run's "
    "folder name.",
)

st.subheader("3 · Sweep (optional)")
swept = sweep_form.sweep_choice()


def stop_experiment(job_ids: list[str]) -> None:
    """The waiting runs are cancelled first, so none of them starts when the running one stops."""
    for job_id in reversed(job_ids):
        stop(job_id)


def start_experiment(config: TrainConfig, swept: dict, name: str | None) -> None:
    """Every run of the sweep queued at once under the server's cap; the page then follows the experiment."""
    experiment, configs = experiments.plan(config, swept, name=name)
    experiments.save(experiment)
    ids = []
    try:
        for c, label in zip(configs, experiment.labels):
            ids.append(jobs.submit(c, data, owner=me, name=f"{experiment.name} · {label}", teacher=teacher))
    except StudioError:
        stop_experiment(ids)  # all or nothing: one request
        raise
    st.session_state.train_experiment = {"id": experiment.id, "jobs": ids, "labels": experiment.labels}
    st.session_state.pop("train_show", None)


mine = jobs.jobs(owner=me)
busy = [j for j in mine if j.active]
label = f"Start sweep ({len(sweeps.grid(swept))} runs)" if swept else "Start training"
if st.button(
    label, icon=":material/play_arrow:", type="primary", disabled=settings is None or swept is None, key="train_start"
):
    try:
        config = TrainConfig(arch=arch_name, arch_settings=settings, **hyper)
        chosen_name = runs.display_name(name, "the model name")
        if swept:
            start_experiment(config, swept, chosen_name)
        else:
            st.session_state.train_show = jobs.submit(config, data, owner=me, name=chosen_name, teacher=teacher)
            st.session_state.pop("train_experiment", None)
        st.session_state.pop("train_error", None)
        mine = jobs.jobs(owner=me)
    except StudioError as e:
        st.session_state.train_error = str(e)
if busy:
    st.caption("Another start waits in the queue until your training ends.")
if st.session_state.get("train_error"):
    st.error(st.session_state.train_error)

# ---- progress: any training on this server, with controls only for its owner and the teacher ------------

st.subheader("4 · Progress")
everything = jobs.jobs()
if "train_show_next" in st.session_state:  # set by Resume below, applied before the picker is drawn
    st.session_state.train_show = st.session_state.pop("train_show_next")
labels = {
    j.id: f"{train_panel.title(j)} — {train_panel.STATE_LABELS[j.state]}" + (" (yours)" if jobs.owns(j, me) else "")
    for j in everything
}
if st.session_state.get("train_show") not in labels:
    default = mine or [j for j in everything if j.active] or everything
    st.session_state.train_show = default[0].id if default else None


@st.fragment(run_every=1)
def live(job_id: str, controls: bool) -> None:
    """Polls the job each second; when it ends, one full rerun refreshes the page (and the model lists)."""
    current = jobs.snapshot(job_id)
    if current is None:
        return
    train_panel.show(current, stop if controls else None)
    if not current.active:
        st.rerun()


def show_experiment(info: dict) -> bool:
    """Draw the experiment's panel; True while any of its runs is queued or running."""
    experiment = experiments.load(info["id"])
    snapshots = [jobs.snapshot(i) for i in info["jobs"]]
    pairs = [(j, label) for j, label in zip(snapshots, info["labels"]) if j is not None]
    if experiment is None or not pairs:
        st.info("This experiment is no longer on this server; its runs are on the Compare runs page.")
        return False
    experiment_panel.show(
        experiment, [j for j, _ in pairs], [label for _, label in pairs], lambda: stop_experiment(info["jobs"])
    )
    return any(j.active for j, _ in pairs)


@st.fragment(run_every=1)
def live_experiment(info: dict) -> None:
    if not show_experiment(info):
        st.rerun()


experiment_info = st.session_state.get("train_experiment")
if experiment_info:
    if st.button("Show single trainings", key="train_leave_experiment", icon=":material/list:"):
        st.session_state.pop("train_experiment", None)
        st.rerun()
    if any(j.active for j in (jobs.snapshot(i) for i in experiment_info["jobs"]) if j is not None):
        live_experiment(experiment_info)
    else:
        show_experiment(experiment_info)
elif not everything:
    st.info("Nothing is training on this server yet: choose settings above and press Start.")
else:
    shown = st.selectbox(
        "Training shown",
        list(labels),
        key="train_show",
        format_func=labels.get,
        help="Every training on this server. You can stop, resume or delete only your own.",
    )
    job = jobs.snapshot(shown)
    if job is not None:
        controls = teacher or jobs.owns(job, me)
        if not controls:
            st.caption("Someone else's training: you can watch it, not change it.")
        if job.active:
            live(job.id, controls)
        else:
            train_panel.show(job)
            if controls:
                job_controls.finished_controls(jobs, job, None if teacher else me)

resume_form.show(jobs, me, teacher)

# ---- every job on this server ----------------------------------------------------------------

with st.expander(f"All trainings on this server ({len(everything)})", expanded=teacher):
    st.caption(
        "Your trainings stay yours after a reload or in a new tab of this browser. Finished runs are "
        "also on the Compare runs page."
    )
    if everything:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "job": j.id,
                        "model": train_panel.title(j),
                        "state": train_panel.STATE_LABELS[j.state],
                        "progress": 100 * j.progress,
                        "queue": j.queue_position,
                        "started": time.strftime("%H:%M:%S", time.localtime(j.started)) if j.started else "",
                        "yours": "yes" if jobs.owns(j, me) else "",
                    }
                    for j in everything
                ]
            ),
            hide_index=True,
            width="stretch",
            column_config={"progress": st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100)},
        )
    if teacher:
        job_controls.teacher_tools(jobs)
        if st.session_state.get("train_notice"):
            st.info(st.session_state.pop("train_notice"))
