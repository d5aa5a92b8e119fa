"""Train: pick an architecture and hyperparameters, train in a background thread, watch it live."""

import json
import time

import pandas as pd
import streamlit as st

from core.errors import StudioError
from core.models import REGISTRY
from core.training import experiments, sweeps
from core.training.config import TrainConfig
from dashboard import common, experiment_panel, resume_form, sweep_form, train_form, train_panel, training

common.intro(
    "Train a model",
    "Training shows the network batches of labelled images and nudges its weights to lower the loss — how "
    "wrong its predictions are. Pick an architecture and hyperparameters, press Start, and watch the loss fall "
    "and the accuracy rise: the training images it learns from, and the held-out validation images that tell "
    "you whether it generalises. Training runs in the background, so you can visit other pages meanwhile.",
)

data = common.get_dataset()
if data is None:
    st.stop()

jobs = training.manager()
me = training.session_id()


@st.cache_data(show_spinner=False)
def parameter_count(arch: str, settings_json: str) -> int:
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(settings_json).items()}
    return REGISTRY[arch].parameter_count(**settings)


def stop(job_id: str) -> None:
    try:
        jobs.stop(job_id, owner=me)
    except StudioError as e:
        st.session_state.train_error = str(e)


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
name = st.columns(2)[0].text_input("Model name (optional)", key="train_name", placeholder="e.g. my first CNN",
                     help="How the model is listed on the other pages; by default the run's folder name.")

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
            ids.append(jobs.submit(c, data, owner=me, name=f"{experiment.name} · {label}"))
    except StudioError:
        stop_experiment(ids)          # all or nothing: one request
        raise
    st.session_state.train_experiment = {"id": experiment.id, "jobs": ids, "labels": experiment.labels}
    st.session_state.pop("train_job", None)


mine = jobs.jobs(owner=me)
busy = [j for j in mine if j.active]
label = f"Start sweep ({len(sweeps.grid(swept))} runs)" if swept else "Start training"
if st.button(label, icon=":material/play_arrow:", type="primary", disabled=settings is None or swept is None,
             key="train_start"):
    try:
        config = TrainConfig(arch=arch_name, arch_settings=settings, **hyper)
        if swept:
            start_experiment(config, swept, name.strip() or None)
        else:
            st.session_state.train_job = jobs.submit(config, data, owner=me, name=name.strip() or None)
            st.session_state.pop("train_experiment", None)
        st.session_state.pop("train_error", None)
        mine = jobs.jobs(owner=me)
    except StudioError as e:
        st.session_state.train_error = str(e)
if busy:
    st.caption("Another start waits in the queue until this session's training ends.")
if st.session_state.get("train_error"):
    st.error(st.session_state.train_error)

# ---- progress -------------------------------------------------------------------------------

st.subheader("4 · Progress")
watched = st.session_state.get("train_job")
job = jobs.snapshot(watched) if watched else None
if job is None or job.owner != me:
    job = mine[0] if mine else None


@st.fragment(run_every=1)
def live(job_id: str) -> None:
    """Polls the job each second; when it ends, one full rerun refreshes the page (and the model lists)."""
    current = jobs.snapshot(job_id)
    if current is None:
        return
    train_panel.show(current, stop)
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
    experiment_panel.show(experiment, [j for j, _ in pairs], [label for _, label in pairs],
                          lambda: stop_experiment(info["jobs"]))
    return any(j.active for j, _ in pairs)


@st.fragment(run_every=1)
def live_experiment(info: dict) -> None:
    if not show_experiment(info):
        st.rerun()


experiment_info = st.session_state.get("train_experiment")
if experiment_info:
    if any(j.active for j in (jobs.snapshot(i) for i in experiment_info["jobs"]) if j is not None):
        live_experiment(experiment_info)
    else:
        show_experiment(experiment_info)
elif job is None:
    st.info("Nothing is training in this session yet: choose settings above and press Start.")
elif job.active:
    live(job.id)
else:
    train_panel.show(job, stop)

resume_form.show(jobs, me)

# ---- every job on this server ----------------------------------------------------------------

others = [j for j in jobs.jobs() if j.owner != me]
with st.expander(f"All trainings on this server ({len(jobs.jobs())})", expanded=job is None and any(j.active for j in others)):
    st.caption("Reloading the browser starts a new session. Trainings keep running: pick yours here to watch "
               "(and stop) it again. Finished runs are also on the Compare runs page.")
    everything = jobs.jobs()
    if everything:
        st.dataframe(pd.DataFrame([{
            "job": j.id, "model": train_panel.title(j), "state": train_panel.STATE_LABELS[j.state],
            "progress": 100 * j.progress, "queue": j.queue_position,
            "started": time.strftime("%H:%M:%S", time.localtime(j.started)) if j.started else "",
            "this session": "yes" if j.owner == me else "",
        } for j in everything]), hide_index=True, width="stretch",
            column_config={"progress": st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100)})
    if others:
        pick = st.selectbox("Training", [j.id for j in others], key="train_reattach_pick",
                            format_func=lambda i: f"{i} — " + next(train_panel.title(j) for j in others if j.id == i))
        if st.button("Watch this training here", key="train_reattach"):
            jobs.claim(pick, me)
            st.session_state.train_job = pick
            st.rerun()
