"""Challenge: beat the model. The class and a model answer the same hard test pictures against the clock."""

import streamlit as st

from dashboard import challenge_parts as parts
from dashboard import common, projector

if projector.on():
    st.title("Challenge: beat the model")
else:
    common.intro(
        "Challenge",
        "Can the class beat the model? Everyone sees the same test picture at the same moment and has a few seconds "
        "to pick its class. The pictures are the model's **hard cases** — shirts and T-shirts, pullovers and coats "
        "it gets wrong or is unsure of — so after each one you see the true class, what the model said and how the "
        "class voted. At the end: your score, the class's majority vote, the model, and people in the dataset "
        "authors' study (83.5% on the whole test set).",
    )

data = common.get_dataset()
if data is None:
    st.stop()
st.html(parts.STYLE)
game = parts.game()

if parts.may_host():
    if game.moment().active:
        parts.end_button()
    else:
        with st.expander("A new round", expanded=True, icon=":material/sports_score:"):
            parts.start_form(data)
if parts.plays() and not projector.on():
    parts.nickname_field()


@st.fragment(run_every=parts.POLL_SECONDS)
def live(drawn_active: bool) -> None:
    """Polled each second by every browser. When a round starts or ends by itself, the teacher's page reruns whole
    so its buttons follow."""
    view = parts.settled_view()
    if parts.may_host() and view.moment.active != drawn_active:
        st.rerun()
    parts.show(view, data)


live(game.moment().active)
