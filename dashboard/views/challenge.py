"""Challenge: beat the model. The class and a model answer the same hard test pictures against the clock."""

import streamlit as st

from dashboard import challenge_parts as parts
from dashboard import common, projector

if projector.on():
    st.title("Challenge: beat the model")
else:
    common.intro(
        "Challenge",
        "Can the class beat the model? Everyone sees the same hard test picture at the same moment and picks its "
        "class before the time is up.",
    )
    with st.expander("How a round works", icon=":material/help:"):
        st.markdown(
            "The pictures are the model's **hard cases**: shirts and T-shirts, pullovers and coats (or two classes "
            "the teacher picks) that it gets wrong or is unsure of. After each picture you see the true class, what "
            "the model said and how the class voted. At the end: your score, the class's majority vote, the model, "
            "and people in the dataset authors' study (83.5% on the whole test set). Pick a nickname first; it "
            "stays with this browser."
        )

data = common.get_dataset()
if data is None:
    st.stop()
st.html(parts.STYLE)
game = parts.game()

host, active = parts.may_host(), game.moment().active
if host and active:
    parts.end_button()
if parts.plays():
    parts.nickname_field()


@st.fragment(run_every=parts.POLL_SECONDS)
def live(drawn_active: bool) -> None:
    """Polled each second by every browser. When a round starts or ends by itself, the teacher's page reruns whole
    so its controls follow."""
    view = parts.settled_view()
    if host and view.moment.active != drawn_active:
        st.rerun()
    parts.show(view)


live(active)
if host and not active:
    with st.expander("A new round", expanded=not projector.on(), icon=":material/sports_score:"):
        parts.start_form(data)
