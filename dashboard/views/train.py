"""Train: pick an architecture and hyperparameters, train in a background thread, watch it live."""

import json
import time

import pandas as pd
import streamlit as st

from core.errors import StudioError
from core.models import REGISTRY
from core.training.config import TrainConfig
from dashboard import common, train_form, train_panel, training

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

st.subheader("1 · Architecture")
arch_name = st.selectbox("Architecture", list(REGISTRY), index=list(REGISTRY).index(TrainConfig.arch),
                         format_func=lambda n: REGISTRY[n].display_name, key="train_arch")
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

mine = jobs.jobs(owner=me)
busy = [j for j in mine if j.active]
if st.button("Start training", icon=":material/play_arrow:", type="primary", disabled=settings is None, key="train_start"):
    try:
        config = TrainConfig(arch=arch_name, arch_settings=settings, **hyper)
        st.session_state.train_job = jobs.submit(config, data, owner=me, name=name.strip() or None)
        st.session_state.pop("train_error", None)
        mine = jobs.jobs(owner=me)
    except StudioError as e:
        st.session_state.train_error = str(e)
if busy:
    st.caption("Another start waits in the queue until this session's training ends.")
if st.session_state.get("train_error"):
    st.error(st.session_state.train_error)

# ---- progress -------------------------------------------------------------------------------

st.subheader("3 · Progress")
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


if job is None:
    st.info("Nothing is training in this session yet: choose settings above and press Start.")
elif job.active:
    live(job.id)
else:
    train_panel.show(job, stop)

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
