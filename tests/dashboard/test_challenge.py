"""The Challenge page in AppTest: the teacher starts a round, two students answer, everyone sees the reveal and the
results table; the clock is moved by hand (every session reads the same server clock)."""

import shutil

import pytest

from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES
from core.library import catalog
from core.serving import challenge
from dashboard import challenge_parts
from tests.dashboard.studio_app import chart_data, forget_caches, open_page

KEY = "teacher-key-for-tests"
T0 = 50_000.0


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch, tmp_path, data_dir):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copy(catalog.SHIPPED_DIR / "lenet5.safetensors", shipped)
    monkeypatch.setattr(catalog, "SHIPPED_DIR", shipped)
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FMNIST_TEACHER_KEY", KEY)
    fake = Clock()
    monkeypatch.setattr(challenge, "server_clock", fake)
    forget_caches()
    yield fake
    forget_caches()


def teacher():
    at = open_page("views/challenge.py")
    at.sidebar.text_input(key="teacher_key").input(KEY).run()
    return at


def student(nickname: str):
    at = open_page("views/challenge.py")
    at.text_input(key="challenge_nickname").input(nickname).run()
    assert f"You play as **{nickname}**." in [c.value for c in at.caption]
    return at


def labels(at) -> list[str]:
    return [b.label for b in at.button]


def markdown(at) -> list[str]:
    return [m.value for m in at.markdown]


def at_picture(clock, picture: int, second: float, reveal: bool = False) -> None:
    """3 s to get ready, then 10 s per picture and 6 s of reveal."""
    clock.now = T0 + 3 + picture * 16 + second + (10 if reveal else 0)


def test_the_teacher_starts_students_answer_and_everyone_sees_the_results(clock):
    ada, bob = student("Ada"), student("Bob")
    assert "Start a round" not in labels(ada) and "End the round" not in labels(ada)
    assert "No round yet." in ada.info[0].value

    host = teacher()
    host.number_input(key="challenge_images").set_value(3)
    host.number_input(key="challenge_seconds").set_value(10).run()
    host.button(key="challenge_start").click().run()
    assert not host.exception and "End the round" in labels(host) and "Start a round" not in labels(host)
    assert "### Get ready: picture 1 of 3 in 3 s" in markdown(host)
    r = challenge_parts.game().current()
    assert r.classes == [CLASS_NAMES.index("T-shirt/top"), CLASS_NAMES.index("Shirt")] and len(r.images) == 3
    assert {CLASS_NAMES[t] for t in r.truths} <= {"Shirt", "T-shirt/top"}

    for picture in range(3):
        at_picture(clock, picture, 2)
        ada.run()
        bob.run()
        assert f"### Picture {picture + 1} of 3: which class is it?" in markdown(ada)
        answers = [b for b in ada.button if b.key and b.key.startswith("challenge_answer_")]
        assert [b.label for b in answers] == list(CLASS_NAMES)
        truth = r.truths[picture]
        ada.button(key=f"challenge_answer_{truth}").click().run()
        assert f"Your answer: **{CLASS_NAMES[truth]}**. The true class comes when the time is up." in [
            s.value for s in ada.success
        ]
        assert not [b for b in ada.button if b.key and b.key.startswith("challenge_answer_")]
        if picture == 0:
            bob.button(key=f"challenge_answer_{truth}").click().run()
        elif picture == 1:
            wrong = CLASS_NAMES.index("Bag")
            bob.button(key=f"challenge_answer_{wrong}").click().run()
        host.run()
        assert f"**{2 if picture < 2 else 1}** answered so far." in markdown(host)

        at_picture(clock, picture, 1, reveal=True)
        bob.run()
        shown = markdown(bob)
        assert f"### Picture {picture + 1} of 3: it was **{CLASS_NAMES[truth]}**" in shown
        model_said = CLASS_NAMES[r.model_answers[picture]]
        assert any(m.startswith(f"The model said **{model_said}** (") for m in shown)
        votes = chart_data(bob).set_index("class")["votes"]
        assert votes[CLASS_NAMES[truth]] == (2 if picture == 0 else 1)
        assert votes.sum() == (2 if picture < 2 else 1)
        assert ("You did not answer this one." in shown) == (picture == 2)

    at_picture(clock, 3, 0)
    for at in (ada, bob, host):
        at.run()
        assert not at.exception
    rows = bob.table[0].value.to_dict("records")
    model_right = sum(a == t for a, t in zip(r.model_answers, r.truths))
    assert rows == [
        {"who": "Ada", "right": "3 of 3", "accuracy": "100.0%"},
        {"who": "Bob (you)", "right": "1 of 3", "accuracy": "33.3%"},
        {"who": "the class (majority vote)", "right": "2.5 of 3", "accuracy": "83.3%"},
        {"who": "the model (lenet5)", "right": f"{model_right} of 3", "accuracy": f"{model_right / 3:.1%}"},
        {"who": "human (83.5%)", "right": "", "accuracy": "83.5%"},
    ]
    assert "Start a round" in labels(host)  # the round is over: the teacher may start the next


def test_a_student_cannot_start_or_end_a_round_and_the_teacher_ends_one_early(clock):
    ada = student("Ada")
    with pytest.raises(StudioError, match=r"^only the teacher can end the round\.$"):
        challenge_parts.game().end(teacher=False)
    host = teacher()
    host.button(key="challenge_start").click().run()
    at_picture(clock, 0, 4)
    ada.run()
    assert "### Picture 1 of 10: which class is it?" in markdown(ada)
    assert "End the round" not in labels(ada)
    host.run()
    host.button(key="challenge_end").click().run()
    assert not host.exception and "Start a round" in labels(host)
    ada.run()
    assert "The round ended before the first picture's time was up: nothing to count." in [i.value for i in ada.info]


def test_a_student_without_a_nickname_is_asked_for_one(clock):
    quiet = open_page("views/challenge.py")
    host = teacher()
    host.button(key="challenge_start").click().run()
    at_picture(clock, 0, 4)
    quiet.run()
    assert "Type a nickname above to answer." in [w.value for w in quiet.warning]
    quiet.text_input(key="challenge_nickname").input("   ").run()
    assert [e.value for e in quiet.error] == ["The nickname is empty: type one."]


def test_the_projector_address_turns_the_view_on_and_odd_values_are_one_line(clock):
    at = open_page()
    at.query_params["projector"] = "1"
    at.switch_page("views/challenge.py").run()
    assert at.session_state["projector"] is True
    assert [t.value for t in at.title] == ["Challenge: beat the model"]
    assert "Leave projector view" in labels(at)
    assert [t.key for t in at.text_input] == ["teacher_key"]  # the sidebar's (hidden); a projected screen does not play
    at.button(key="projector_leave").click().run()
    assert at.session_state["projector"] is False and "projector" not in at.query_params
    assert [t.value for t in at.title] == ["Challenge"]

    odd = open_page()
    odd.query_params["projector"] = "yes please"
    odd.switch_page("views/challenge.py").run()
    assert [e.value for e in odd.error] == [
        "The link's projector value 'yes please' is not 1 (on) or 0 (off): it is ignored."
    ]
    assert odd.session_state["projector"] is False


def test_an_answer_from_a_page_left_open_past_the_time_is_refused_with_one_line(clock):
    ada = student("Ada")
    host = teacher()
    host.number_input(key="challenge_seconds").set_value(10).run()
    host.button(key="challenge_start").click().run()
    at_picture(clock, 0, 4)
    ada.run()
    at_picture(clock, 0, 2, reveal=True)  # the picture closed while Ada's page still showed the buttons
    ada.button(key="challenge_answer_0").click().run()
    assert [e.value for e in ada.error] == ["Too late: the answers to picture 1 have closed."]
    assert challenge_parts.game().current().answers == {}
    assert any(m.startswith("### Picture 1 of 10: it was **") for m in markdown(ada))
