"""Beat the model: a round's schedule, answers, reveals and results, on a clock the tests move by hand."""

import json
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES
from core.serving import challenge
from core.serving.challenge import Challenge, hard_cases, majority_points
from core.serving.nicknames import Nicknames, tidy

SHIRT, TSHIRT, TROUSER = CLASS_NAMES.index("Shirt"), CLASS_NAMES.index("T-shirt/top"), CLASS_NAMES.index("Trouser")
T0 = 1_000.0  # the teacher presses Start; picture 1 comes 3 s later, then every 10 + 5 s


class Clock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def probs(answer: int, confidence: float) -> list[float]:
    row = [(1 - confidence) / 9] * 10
    row[answer] = confidence
    return row


def fake_evaluation():
    """Two Shirts and two T-shirts (the model is wrong on one of each) among eight Trousers."""
    rows = [
        (SHIRT, probs(TSHIRT, 0.6)),  # wrong
        (SHIRT, probs(SHIRT, 0.55)),  # right, unsure
        (TSHIRT, probs(SHIRT, 0.7)),  # wrong
        (TSHIRT, probs(TSHIRT, 0.5)),  # right, unsure
    ] + [(TROUSER, probs(TROUSER, 0.99))] * 8
    return SimpleNamespace(
        checkpoint="fake.safetensors",
        labels=np.array([r[0] for r in rows]),
        probabilities=np.array([r[1] for r in rows], dtype=np.float32),
    )


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def game(tmp_path, clock):
    return Challenge(tmp_path, clock=clock)


def start(game, **options):
    options = {"images": 4, "seconds": 10, "reveal_seconds": 5, "lead_in": 3, "seed": 7, **options}
    return game.start(fake_evaluation(), "fake cnn", teacher=True, classes=("Shirt", "T-shirt/top"), **options)


def at(clock, picture: int, second: float, phase: str = "question") -> None:
    """Move the clock to `second` seconds into a picture's question (or its reveal)."""
    clock.now = T0 + 3 + picture * 15 + second + (10 if phase == "reveal" else 0)


def other(truth: int) -> int:
    return SHIRT if truth == TSHIRT else TSHIRT


def test_a_scripted_round_with_three_students_gives_exact_results(game, clock):
    r = start(game)
    assert sorted(r.images) == [0, 1, 2, 3] and r.classes == [TSHIRT, SHIRT]
    assert [r.model_answers[p] == r.truths[p] for p in range(4)].count(True) == 2
    for who, nickname in (("a" * 64, "Ada"), ("b" * 64, "Bob"), ("c" * 64, "Cy")):
        game.nicknames.set(who, nickname)
    ada, bob, cy = "a" * 64, "b" * 64, "c" * 64
    script = {  # picture -> [(who, right?)]
        0: [(ada, True), (bob, True), (cy, False)],
        1: [(ada, True), (bob, True), (cy, True)],
        2: [(ada, True), (bob, False), (cy, True)],
        3: [(ada, True), (bob, False)],  # a tie between the right class and the other: half a point
    }
    for picture, answers in script.items():
        at(clock, picture, 4)
        for who, right in answers:
            game.answer(who, picture, r.truths[picture] if right else other(r.truths[picture]))
        assert game.view(ada).answered == len(answers)
        at(clock, picture, 1, "reveal")
        shown = game.view(ada)
        assert shown.moment == challenge.Moment("reveal", picture, 4.0)
        assert shown.reveal.truth == r.truths[picture] and shown.reveal.model_answer == r.model_answers[picture]
        assert sum(shown.reveal.votes) == len(answers)
        assert shown.reveal.votes[r.truths[picture]] == sum(right for _, right in answers)
    with pytest.raises(StudioError, match=r"^too late: the answers to picture 4 have closed\.$"):
        game.answer(cy, 3, r.truths[3])
    clock.now = T0 + 3 + 4 * 15
    view = game.view(bob)
    assert view.moment.phase == "results"
    res = view.results
    assert res.images == 4
    assert [(s.nickname, s.right) for s in res.students] == [("Ada", 4), ("Bob", 2), ("Cy", 2)]
    assert res.class_right == 3.5 and res.accuracy(res.class_right) == 0.875
    assert res.model_right == 2 and res.accuracy(res.model_right) == 0.5
    assert res.human_accuracy == 0.835


def test_the_schedule_follows_the_server_clock(game, clock):
    start(game)
    assert game.view().moment == challenge.Moment("ready", None, 3.0)
    at(clock, 0, 0)
    assert game.moment() == challenge.Moment("question", 0, 10.0)
    at(clock, 2, 7.5)
    assert game.moment() == challenge.Moment("question", 2, 2.5)
    at(clock, 2, 0, "reveal")
    assert game.moment() == challenge.Moment("reveal", 2, 5.0)
    at(clock, 3, 4.5, "reveal")
    assert game.moment() == challenge.Moment("reveal", 3, 0.5)
    at(clock, 4, 0)
    assert game.moment() == challenge.Moment("results")


def test_a_browser_that_joins_mid_round_gets_the_current_picture(game, clock):
    r = start(game)
    at(clock, 2, 2)
    late = "d" * 64
    game.nicknames.set(late, "Dee")
    view = game.view(late)
    assert (view.moment.phase, view.moment.index, view.image, view.mine) == ("question", 2, r.images[2], None)
    assert view.moment.seconds_left == 8.0 and view.count == 4
    game.answer(late, 2, r.truths[2])
    assert game.view(late).mine == r.truths[2]
    clock.now = T0 + 3 + 4 * 15
    [score] = game.view(late).results.students
    assert (score.nickname, score.right) == ("Dee", 1)  # the pictures before it joined count as not answered


def test_one_answer_per_picture_and_only_while_it_is_shown(game, clock):
    r = start(game)
    who = "e" * 64
    with pytest.raises(StudioError, match=r"^type a nickname before you answer\.$"):
        game.answer(who, 0, SHIRT)
    game.nicknames.set(who, "Eve")
    with pytest.raises(StudioError, match=r"^picture 1 is not shown yet\.$"):
        game.answer(who, 0, SHIRT)  # still "get ready"
    at(clock, 0, 9.99)
    game.answer(who, 0, SHIRT)
    with pytest.raises(StudioError, match=r"^you already answered picture 1\.$"):
        game.answer(who, 0, TSHIRT)
    with pytest.raises(StudioError, match=r"^picture 2 is not shown yet\.$"):
        game.answer(who, 1, SHIRT)
    at(clock, 1, 10)  # the reveal of picture 2 has begun
    with pytest.raises(StudioError, match=r"^too late: the answers to picture 2 have closed\.$"):
        game.answer(who, 1, SHIRT)
    with pytest.raises(StudioError, match=r"^this round has no picture 9\.$"):
        game.answer(who, 8, SHIRT)
    with pytest.raises(StudioError, match=r"^unknown class 10\.$"):
        game.answer(who, 1, 10)
    assert game.current().answers == {who: {"0": SHIRT}}
    assert r.answers == {}  # the round handed out is a copy


def test_only_the_teacher_starts_and_ends_a_round(game, clock):
    with pytest.raises(StudioError, match=r"^only the teacher can start a round\.$"):
        game.start(fake_evaluation(), "fake", teacher=False)
    assert game.current() is None and game.moment().phase == "idle"
    start(game)
    with pytest.raises(StudioError, match=r"^a round is already running: end it first\.$"):
        start(game)
    with pytest.raises(StudioError, match=r"^only the teacher can end the round\.$"):
        game.end(teacher=False)
    assert game.moment().active


def test_the_teacher_ends_a_round_early_and_the_closed_pictures_count(game, clock):
    r = start(game)
    who = "f" * 64
    game.nicknames.set(who, "Fay")
    for picture in (0, 1, 2):
        at(clock, picture, 1)
        game.answer(who, picture, r.truths[picture])
    at(clock, 2, 5)  # picture 3 is still open: it will not count
    game.end(teacher=True)
    assert game.moment().phase == "results"
    res = game.results()
    assert res.images == 2 and [(s.nickname, s.right) for s in res.students] == [("Fay", 2)]
    assert res.class_right == 2.0
    with pytest.raises(StudioError, match=r"^no round is running\.$"):
        game.end(teacher=True)
    start(game)  # a new round may start at once
    assert game.moment().phase == "ready"


def test_a_restarted_server_keeps_the_round_on_its_schedule(tmp_path, game, clock):
    r = start(game)
    who = "g" * 64
    game.nicknames.set(who, "Gus")
    at(clock, 1, 2)
    game.answer(who, 1, r.truths[1])
    saved = json.loads((tmp_path / challenge.FILE).read_text())
    assert saved["round"]["answers"] == {who: {"1": r.truths[1]}}
    assert not list(tmp_path.glob("*.tmp"))

    again = Challenge(tmp_path, clock=clock)  # a new server process on the same runs folder
    assert again.current() == game.current()
    view = again.view(who)
    assert (view.moment.phase, view.moment.index, view.mine, view.image) == ("question", 1, r.truths[1], r.images[1])
    assert again.nicknames.get(who) == "Gus"
    with pytest.raises(StudioError, match=r"^you already answered picture 2\.$"):
        again.answer(who, 1, r.truths[1])


def test_two_servers_on_one_runs_folder_play_the_same_round_and_lose_no_answer(tmp_path, game, clock):
    other = Challenge(tmp_path, clock=clock)  # a second server process on the same runs folder
    r = start(game)
    assert other.current() == game.current()
    at(clock, 0, 1)
    players = [f"{n:064x}" for n in range(30)]
    for n, who in enumerate(players):
        (game if n % 2 else other).nicknames.set(who, f"s{n}")

    def answer(n_who):
        n, who = n_who
        (game if n % 2 else other).answer(who, 0, r.truths[0] if n % 3 else SHIRT)

    with ThreadPoolExecutor(8) as pool:  # thirty students at once, through both servers
        list(pool.map(answer, enumerate(players)))
    assert sorted(game.current().answers) == sorted(other.current().answers) == players
    assert game.view().answered == other.view().answered == 30
    other.end(teacher=True)
    assert game.moment().phase == "results"


def test_a_reveal_waits_for_its_picture_to_close(game, clock):
    r = start(game)
    at(clock, 0, 5)
    with pytest.raises(StudioError, match=r"^picture 1 is not revealed yet\.$"):
        game.reveal(0)
    at(clock, 0, 0, "reveal")
    shown = game.reveal(0)
    assert (shown.image, shown.truth, shown.model_answer) == (r.images[0], r.truths[0], r.model_answers[0])
    assert shown.votes == (0,) * 10 and shown.majority == ()


def test_odd_settings_are_refused_with_one_line(game):
    def refused(message, **options):
        with pytest.raises(StudioError, match=message):
            start(game, **options)

    refused(r"^the number of pictures must be a whole number in 1-30, got 0\.$", images=0)
    refused(r"^the seconds per picture must be a whole number in 3-120, got 2\.5\.$", seconds=2.5)
    refused(r"^only 2 test images of T-shirt/top: ask for fewer pictures\.$", images=6)
    with pytest.raises(StudioError, match=r"^pick at least two classes for the round\.$"):
        game.start(fake_evaluation(), "fake", teacher=True, classes=("Shirt",))
    with pytest.raises(StudioError, match=r"^unknown class 'Hat'; choose from: T-shirt/top, "):
        game.start(fake_evaluation(), "fake", teacher=True, classes=("Shirt", "Hat"))
    eleven = SimpleNamespace(labels=np.zeros(4, int), probabilities=np.full((4, 11), 1 / 11))
    with pytest.raises(StudioError, match=r"^a round needs a model of the ten Fashion-MNIST classes\.$"):
        game.start(eleven, "taught", teacher=True)
    assert game.current() is None


def test_the_majority_splits_a_tie():
    votes = [0] * 10
    assert majority_points(votes, SHIRT) == 0.0
    votes[SHIRT], votes[TSHIRT] = 3, 1
    assert majority_points(votes, SHIRT) == 1.0 and majority_points(votes, TSHIRT) == 0.0
    votes[TSHIRT] = 3
    assert majority_points(votes, SHIRT) == 0.5
    votes[TROUSER] = 3
    assert majority_points(votes, TROUSER) == pytest.approx(1 / 3)


def test_hard_cases_are_the_wrong_and_the_unsure_split_between_the_classes():
    # 20 Shirts: the model is wrong on the first 4; the probability it gives "Shirt" rises with the index
    labels = np.array([SHIRT] * 20 + [TSHIRT] * 20)
    p = np.zeros((40, 10), np.float32)
    for i in range(20):
        p[i, SHIRT] = 0.3 + 0.03 * i
        p[i, TSHIRT if i < 4 else 2] = 1 - p[i, SHIRT] if i < 4 else (1 - p[i, SHIRT]) / 2
        p[20 + i, TSHIRT] = 0.99
        p[20 + i, SHIRT] = 0.01
    p[20:22, TSHIRT], p[20:22, SHIRT] = 0.2, 0.8  # two T-shirts the model calls Shirts
    for seed in range(20):
        picked = hard_cases(labels, p, [TSHIRT, SHIRT], 5, np.random.default_rng(seed))
        shirts = [i for i in picked if labels[i] == SHIRT]
        tshirts = [i for i in picked if labels[i] == TSHIRT]
        assert len(picked) == len(set(picked)) == 5 and {len(shirts), len(tshirts)} == {2, 3}
        assert set(shirts) <= set(range(max(8, 3 * len(shirts))))  # the 8 least sure: its 4 mistakes and 4 more
        assert set(tshirts) <= set(range(20, 20 + 3 * len(tshirts)))  # 2 mistakes: at least 3 per picture


def test_nicknames_are_short_printable_and_unique(tmp_path):
    names = Nicknames(tmp_path)
    assert names.set("a", "  Ada   Lovelace ") == "Ada Lovelace"
    assert names.set("b", "ada lovelace") == "ada lovelace 2"
    assert names.set("c", "ADA LOVELACE") == "ADA LOVELACE 3"
    assert names.set("a", "Ada Lovelace") == "Ada Lovelace"  # keeping one's own name
    assert names.set("d", "x" * 20) == "x" * 20
    assert names.set("e", "X" * 20) == "X" * 18 + " 2"  # still within the limit
    for text, message in (
        ("   ", r"^the nickname is empty: type one\.$"),
        ("y" * 21, r"^the nickname is 21 characters; the limit is 20\.$"),
        ("bell\x07", r"^a nickname may hold letters, digits, spaces and punctuation only\.$"),
        (None, r"^a nickname is text\.$"),
    ):
        with pytest.raises(StudioError, match=message):
            tidy(text)
    assert Nicknames(tmp_path).all() == names.all()  # kept across a restart
    assert Nicknames(tmp_path).get("b") == "ada lovelace 2"
