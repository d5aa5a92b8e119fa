"""The Challenge page's parts: the server's one round, the teacher's controls, the picture with its countdown, the
ten answer buttons, the reveal after each picture and the results table. The round itself is
core.serving.challenge; this module only draws it."""

import copy
import functools
import io
import math
import time

import pandas as pd
import streamlit as st
from PIL import Image

from core.analysis import evaluation
from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES
from core.io import class_sources, preprocess
from core.serving import challenge, nicknames, ownership
from core.serving.challenge import Challenge, View
from dashboard import classroom, common, projector
from dashboard.images import show_image

POLL_SECONDS = 1  # every browser asks for the round's state this often
ERROR_SECONDS = 6  # how long a refused action's message stays on the round panel
PICTURE_PX, PROJECTED_PX = 280, 460
ANOTHER_PAIR = "Two classes of my choice"
RIGHT_COLOUR, OTHER_COLOUR = "#1b7a3a", "#5b6b7b"  # the true class's bar, the others' (both 5:1 or more on white)

# Ten answer buttons, big enough for a thumb: five to a row, two on a phone.
STYLE = """<style>
.st-key-challenge_answers [data-testid="stHorizontalBlock"] {
  display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 0.75rem;
}
.st-key-challenge_answers [data-testid="stColumn"] { width: auto !important; min-width: 0 !important; flex: none !important; }
.st-key-challenge_answers button { min-height: 3.75rem; width: 100%; }
.st-key-challenge_answers button p { font-size: 1.15rem; font-weight: 600; }
@media (max-width: 640px) {
  .st-key-challenge_answers [data-testid="stHorizontalBlock"] { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
</style>"""


def refuse(error: Exception) -> None:
    """Show a refused action's one line on the round panel for a few seconds (the panel redraws every second)."""
    st.session_state.challenge_error = (sentence(error), time.monotonic())


def sentence(error: Exception) -> str:
    """A core error's one line as the page shows it: its first letter capitalised (the rest as written)."""
    text = str(error)
    return text[:1].upper() + text[1:]


@st.cache_resource
def game() -> Challenge:
    """The server's one round, shared by every session (and kept in the runs folder)."""
    return Challenge()


def may_host() -> bool:
    """The teacher starts and ends rounds; on a server without a teacher key there is no one to ask, so anyone."""
    return classroom.is_teacher() or not ownership.teacher_key_set()


def plays() -> bool:
    """Everyone answers except the teacher and a screen in projector view: theirs is the room's."""
    return not classroom.is_teacher() and not projector.on()


# ---- the teacher's controls ------------------------------------------------------------------------------


def round_models() -> list:
    """The models a round can use: those of the ten Fashion-MNIST classes."""
    return [m for m in common.available_models() if len(class_sources.names(m.metadata)) == len(CLASS_NAMES)]


def chosen_classes() -> list[str]:
    """The classes the teacher picks the hard cases from: a known pair or two classes of their own."""
    options = [*challenge.PAIRS, ANOTHER_PAIR]
    pick = st.radio("Hard cases of", options, key="challenge_pair", horizontal=True)
    if pick != ANOTHER_PAIR:
        return list(challenge.PAIRS[pick])
    left, right = st.columns(2)
    first = left.selectbox("First class", CLASS_NAMES, index=CLASS_NAMES.index("Dress"), key="challenge_class_a")
    second = right.selectbox("Second class", CLASS_NAMES, index=CLASS_NAMES.index("Coat"), key="challenge_class_b")
    return [first, second]


def start_form(data) -> None:
    """Model, classes, pictures and seconds, then "Start a round"."""
    models = round_models()
    if not models:
        st.info("No model of the ten classes yet: train one on the Train page.")
        return
    labels = [m.label for m in models]
    entry = models[labels.index(st.selectbox("The model to beat", labels, key="challenge_model"))]
    classes = chosen_classes()
    left, right = st.columns(2)
    count = left.number_input(
        "Pictures",
        challenge.MIN_IMAGES,
        challenge.MAX_IMAGES,
        challenge.DEFAULT_IMAGES,
        key="challenge_images",
    )
    seconds = right.number_input(
        "Seconds per picture",
        challenge.MIN_SECONDS,
        challenge.MAX_SECONDS,
        challenge.DEFAULT_SECONDS,
        key="challenge_seconds",
    )
    if st.button("Start a round", type="primary", icon=":material/play_arrow:", key="challenge_start"):
        try:
            with st.spinner(f"Finding {entry.name}'s hard cases…"):
                result = evaluation.evaluate(entry.path, data)
            game().start(result, entry.name, teacher=may_host(), classes=classes, images=count, seconds=seconds)
            st.session_state.pop("challenge_error", None)
        except (StudioError, OSError) as e:
            refuse(e)
        st.rerun()


def end_button() -> None:
    st.button("End the round", icon=":material/stop_circle:", key="challenge_end", on_click=_end)


def _end() -> None:
    try:
        game().end(teacher=may_host())
    except StudioError as e:
        refuse(e)


# ---- a student's nickname ---------------------------------------------------------------------------------


def nickname_field() -> None:
    """A nickname, typed before answering; it stays this browser's on every round."""
    current = game().nicknames.get(classroom.my_digest())
    if "challenge_nickname" not in st.session_state and current:
        st.session_state.challenge_nickname = current
    st.columns([1, 1])[0].text_input(
        "Your nickname",
        key="challenge_nickname",
        max_chars=nicknames.MAX_LENGTH,
        placeholder="type a nickname, then press Enter",
        on_change=_set_nickname,
        help="How the results name you. No account: it belongs to this browser.",
    )
    if st.session_state.get("challenge_nickname_error"):
        st.error(st.session_state.challenge_nickname_error)
    elif current:
        st.caption(f"You play as **{current}**.")


def _set_nickname() -> None:
    try:
        kept = game().nicknames.set(classroom.my_digest(), st.session_state.challenge_nickname)
        st.session_state.challenge_nickname = kept
        st.session_state.challenge_nickname_error = ""
    except StudioError as e:
        st.session_state.challenge_nickname_error = sentence(e)


# ---- what every browser shows, polled ------------------------------------------------------------------------


def may_answer(view: View) -> bool:
    return (
        view.moment.phase == "question"
        and view.mine is None
        and plays()
        and bool(game().nicknames.get(classroom.my_digest()))
    )


def settled_view() -> View:
    """The round as this browser should draw it now. When the next phase is less than a poll away and this browser
    has nothing to click, wait for it: every screen then changes at the same moment, not up to a poll later."""
    view = game().view(classroom.my_digest())
    left = view.moment.seconds_left
    if left is not None and left <= POLL_SECONDS and not may_answer(view):
        time.sleep(left + 0.02)
        view = game().view(classroom.my_digest())
    return view


def show(view: View) -> None:
    """The whole round panel for this moment."""
    phase = view.moment.phase
    message, since = st.session_state.get("challenge_error") or ("", 0.0)
    if message and time.monotonic() - since < ERROR_SECONDS:
        st.error(message)
    if phase == "idle":
        st.info("No round yet. When the teacher starts one, the first picture appears here on every screen at once.")
    elif phase == "ready":
        st.markdown(f"### Get ready: picture 1 of {view.count} in {math.ceil(view.moment.seconds_left)} s")
        st.caption(f"The model to beat: **{view.model}**.")
    elif phase in ("question", "reveal"):
        picture_panel(view)
    else:
        results(view)


def picture_panel(view: View) -> None:
    index, count = view.moment.index, view.count
    big = projector.on()
    left, right = st.columns([2, 3] if big else [1, 2], gap="large")
    pixels = picture_png(view.image, PROJECTED_PX if big else PICTURE_PX)
    if view.moment.phase == "question":
        alt_text = (
            f"Picture {index + 1} of {count}: a piece of clothing from the Fashion-MNIST test set, 28 by 28 pixels "
            "shown enlarged, light on black. Which class is it?"
        )
    else:
        alt_text = (
            f"Picture {index + 1} of {count}: a {CLASS_NAMES[view.reveal.truth]} from the Fashion-MNIST test set; "
            f"the model said {CLASS_NAMES[view.reveal.model_answer]}."
        )
    show_image(pixels, alt=alt_text, where=left, width=PROJECTED_PX if big else PICTURE_PX)
    with right:
        if view.moment.phase == "question":
            question(view)
        else:
            reveal(view)
    if may_answer(view):  # below the picture, the whole width: room for ten big buttons
        answer_buttons(index)


@functools.lru_cache(maxsize=64)
def picture_png(index: int, size: int) -> bytes:
    """Test picture `index` enlarged to `size` pixels, as a PNG made once for every screen that shows it."""
    pixels = common.load_dataset_or_fail().test_images[index].numpy()
    buffer = io.BytesIO()
    Image.fromarray(preprocess.enlarge(pixels, size)).save(buffer, format="PNG")
    return buffer.getvalue()


def question(view: View) -> None:
    index, left = view.moment.index, view.moment.seconds_left
    st.markdown(f"### Picture {index + 1} of {view.count}: which class is it?")
    st.progress(max(0.0, min(1.0, left / view.seconds)), text=f"{math.ceil(left)} s left")
    if not plays():
        st.markdown(f"**{view.answered}** answered so far.")
    elif view.mine is not None:
        st.success(f"Your answer: **{CLASS_NAMES[view.mine]}**. The true class comes when the time is up.")
    elif not game().nicknames.get(classroom.my_digest()):
        st.warning("Type a nickname above to answer.")
    else:
        st.caption("Pick the class below.")


def answer_buttons(index: int) -> None:
    with st.container(key="challenge_answers"):
        for column, (c, name) in zip(st.columns(len(CLASS_NAMES)), enumerate(CLASS_NAMES)):
            column.button(name, key=f"challenge_answer_{c}", on_click=_answer, args=(index, c), width="stretch")


def _answer(index: int, choice: int) -> None:
    try:
        game().answer(classroom.my_digest(), index, choice)
        st.session_state.pop("challenge_error", None)
    except StudioError as e:
        refuse(e)


def reveal(view: View) -> None:
    shown, index = view.reveal, view.moment.index
    truth, model = CLASS_NAMES[shown.truth], CLASS_NAMES[shown.model_answer]
    st.markdown(f"### Picture {index + 1} of {view.count}: it was **{truth}**")
    verdict = "right" if shown.model_answer == shown.truth else "wrong"
    st.markdown(f"The model said **{model}** ({shown.model_confidence:.0%} sure): {verdict}.")
    if plays() and game().nicknames.get(classroom.my_digest()):
        if view.mine is None:
            st.markdown("You did not answer this one.")
        else:
            mine = "right" if view.mine == shown.truth else "wrong"
            st.markdown(f"You said **{CLASS_NAMES[view.mine]}**: {mine}.")
    votes_chart(shown)
    following = f"picture {index + 2}" if index + 1 < view.count else "the results"
    st.caption(f"Next: {following} in {math.ceil(view.moment.seconds_left)} s.")


def votes_chart(shown) -> None:
    """The class's votes as numbered bars, the true class in green. Every screen draws the same chart at the same
    moment, so its specification is built once per reveal and shared (`votes_spec`)."""
    spec = votes_spec(shown.votes, shown.truth, projector.on())
    st.vega_lite_chart(copy.deepcopy(spec), width="stretch")  # Streamlit takes the data out of the copy


@functools.lru_cache(maxsize=64)
def votes_spec(votes: tuple[int, ...], truth: int, big: bool) -> dict:
    values = [{"class": name, "votes": n, "true": c == truth} for c, (name, n) in enumerate(zip(CLASS_NAMES, votes))]
    size = (lambda normal: round(normal * projector.SCALE)) if big else (lambda normal: normal)
    described = "; ".join(f"{name} {n}" for name, n in zip(CLASS_NAMES, votes) if n) or "no votes"
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"The class's votes ({sum(votes)}); the true class in green",
        "description": f"Bar chart of the class's votes per class: {described}. "
        f"The true class is {CLASS_NAMES[truth]}.",
        "height": projector.SCREEN_HEIGHT if big else 260,
        "data": {"values": values},
        "encoding": {
            "x": {
                "field": "class",
                "type": "nominal",
                "sort": list(CLASS_NAMES),
                "title": None,
                "axis": {"labelAngle": -40, "labelOverlap": False},
            },
            "y": {"field": "votes", "type": "quantitative", "title": "votes", "axis": {"tickMinStep": 1}},
        },
        "layer": [
            {
                "mark": {"type": "bar"},
                "encoding": {
                    "color": {"condition": {"test": "datum.true", "value": RIGHT_COLOUR}, "value": OTHER_COLOUR},
                    "tooltip": [{"field": "class", "type": "nominal"}, {"field": "votes", "type": "quantitative"}],
                },
            },
            {
                "mark": {"type": "text", "dy": -8, "fontSize": size(13), "fontWeight": "bold"},
                "encoding": {"text": {"field": "votes", "type": "quantitative"}},
            },
        ],
        "config": {
            "axis": {"labelFontSize": size(11), "titleFontSize": size(12)},
            "title": {"fontSize": size(14)},
        },
    }


def results(view: View) -> None:
    res = view.results
    st.markdown(f"### Results: {view.model} against the class")
    if not res.images:
        st.info("The round ended before the first picture's time was up: nothing to count.")
        return
    mine = classroom.my_digest()

    def row(who: str, right, accuracy) -> dict:
        shown_right = "" if right is None else f"{right:g} of {res.images}"
        return {"who": who, "right": shown_right, "accuracy": "" if accuracy is None else f"{accuracy:.1%}"}

    rows = [row(s.nickname + (" (you)" if s.who == mine else ""), s.right, res.accuracy(s.right)) for s in res.students]
    rows += [
        row("the class (majority vote)", res.class_right, res.accuracy(res.class_right)),
        row(f"the model ({view.model})", res.model_right, res.accuracy(res.model_right)),
        row("human (83.5%)", None, res.human_accuracy),
    ]
    st.table(pd.DataFrame(rows), hide_index=True)
    st.caption(
        f"{res.images} picture{'s' if res.images > 1 else ''}, chosen among the model's hard cases. The class's answer to a picture is its most "
        "voted class (a tie shares the point). Human: people given the whole test set in the dataset authors' study "
        "(83.5%), not these hard pictures."
    )
