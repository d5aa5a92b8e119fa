"""Class: for the teacher, every student's trainings and taught classes at a glance, and runs pinned for everyone."""

import time

import pandas as pd
import streamlit as st

from core.base.errors import StudioError
from core.library import pins
from core.serving import class_board
from dashboard import challenge_parts, common

REFRESH_SECONDS = 5

common.intro(
    "Class",
    "Every training started on this server and every class a student taught, best test accuracy first: who "
    "(their Challenge nickname), the architecture, the settings that tell them apart, the test accuracy and "
    "the time it took. Click a column's header to sort by it. Pin a run to put it on everyone's Compare runs page.",
)

if not challenge_parts.may_host():
    st.info("This page is for the teacher: type the teacher key in the sidebar to open it.", icon=":material/lock:")
    st.stop()


def board() -> list[dict]:
    return class_board.board(challenge_parts.game().nicknames.all())


@st.fragment(run_every=REFRESH_SECONDS)
def leaderboard() -> None:
    rows = board()
    if not rows:
        st.info("Nothing yet: the students' trainings and taught classes appear here as they start them.")
        return
    students = {r["owner"] for r in rows if r["who"] != class_board.TEACHER}
    best = max((r["test_accuracy"] for r in rows if r["test_accuracy"] is not None), default=None)
    a, b, c = st.columns(3)
    a.metric("Trainings", sum(r["kind"] == "training" for r in rows))
    b.metric("Students", len(students))
    c.metric("Best test accuracy", "—" if best is None else f"{best:.2%}")
    table = pd.DataFrame(
        [
            {
                "rank": r["rank"],
                "who": r["who"],
                "test accuracy": None if r["test_accuracy"] is None else 100 * r["test_accuracy"],
                "time (s)": r["seconds"],
                "architecture": r["architecture"],
                "settings": r["settings"],
                "model": r["model"],
                "what": r["kind"],
                "state": r["state"],
                "started": time.strftime("%H:%M:%S", time.localtime(r["when"])) if r["when"] else "",
                "pinned": "yes" if r["pinned"] else "",
            }
            for r in rows
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="class_board",
        column_config={
            "rank": st.column_config.NumberColumn(format="%d", width="small"),
            "test accuracy": st.column_config.NumberColumn(format="%.2f %%"),
            "time (s)": st.column_config.NumberColumn(format="%.0f"),
            "settings": st.column_config.TextColumn(width="large"),
        },
    )


leaderboard()

st.subheader("Pin a run for everyone")
finished = [r for r in board() if r["run"] and r["test_accuracy"] is not None]
if not finished:
    st.caption("Finished trainings can be pinned; none yet.")
    st.stop()
labels = {r["run"]: f"{r['model']} — {r['who']} — {r['test_accuracy']:.2%}" for r in finished}
run = st.selectbox("Run", list(labels), format_func=labels.get, key="class_pin_run")
pinned = pins.pinned()
left, right = st.columns(2)
try:
    if run in pinned:
        if left.button("Unpin", icon=":material/push_pin:", key="class_unpin"):
            pins.set_pinned(run, False, teacher=challenge_parts.may_host())
            st.rerun()
    elif left.button("Pin for everyone", icon=":material/push_pin:", type="primary", key="class_pin"):
        pins.set_pinned(run, True, teacher=challenge_parts.may_host())
        st.rerun()
except StudioError as e:
    st.error(challenge_parts.sentence(e))
if pinned:
    st.caption("Pinned on every Compare runs page: " + ", ".join(pinned))
