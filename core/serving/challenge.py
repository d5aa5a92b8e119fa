"""Beat the model: the class and a model answer the same hard test pictures, one at a time, against the clock.

One round at a time per server, shared by every session. The teacher starts it: N test pictures chosen among a
model's hard cases for some classes (`hard_cases`), S seconds to answer each. Its schedule is a function of
the server's clock alone, so every browser shows the same picture at the same time and one that joins mid-round
gets the current picture:

    get ready (LEAD_IN_SECONDS) | picture 1: answers open for S s | reveal (REVEAL_SECONDS) | picture 2 ... | results

Answers are kept per browser (the digest of its owner secret), one per picture; an answer that comes after its
picture closed is refused. A browser answers under a nickname (core.serving.nicknames). After each picture, the
reveal: the true class, the model's answer and the class's votes. At the end: each student's score, the class's
majority vote (a tie splits the point between the tied classes), the model and the human figure of the dataset
authors' crowd study (83.5%). Only the teacher starts and ends a round (the teacher may end it at any time; the
pictures whose answers had closed count). The round lives in `<runs>/challenge.json`, changed under a lock and
written atomically (core.base.shared_json): a restarted server carries on with the same round on the same
schedule, and every server on the same runs folder plays the same round.
"""

import copy
import logging
import math
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from core.base.errors import StudioError
from core.base.shared_json import SharedJSON
from core.data.classes import CLASS_NAMES, NUM_CLASSES
from core.io import runs
from core.serving.nicknames import Nicknames

log = logging.getLogger(__name__)

FILE = "challenge.json"
HUMAN_ACCURACY = 0.835  # Fashion-MNIST's authors: accuracy of people on the test set (crowd study)
PAIRS = {  # the classes people and models mix up most
    "Shirt vs T-shirt/top": ("Shirt", "T-shirt/top"),
    "Pullover vs Coat": ("Pullover", "Coat"),
}
DEFAULT_IMAGES, MIN_IMAGES, MAX_IMAGES = 10, 1, 30
DEFAULT_SECONDS, MIN_SECONDS, MAX_SECONDS = 15, 3, 120
REVEAL_SECONDS = 6.0
LEAD_IN_SECONDS = 3.0
POOL_PER_PICTURE = 3  # a class's pool of hard cases holds at least this many images per picture drawn from it


@dataclass
class Round:
    """One round: its pictures, what the model answered, its schedule and every answer so far."""

    id: str
    model: str  # the model's display name
    checkpoint: str
    classes: list[int]  # the classes the pictures were drawn from
    images: list[int]  # test-set indices, in the order shown
    truths: list[int]
    model_answers: list[int]
    model_confidence: list[float]  # the model's probability for its answer
    seconds: float  # to answer each picture
    reveal_seconds: float
    starts_at: float  # server clock (seconds since the epoch) when picture 1 is shown
    ended_at: float | None = None  # set when the teacher ends the round early
    answers: dict[str, dict[str, int]] = field(default_factory=dict)  # owner digest -> {"position": class}

    @property
    def count(self) -> int:
        return len(self.images)

    @property
    def slot(self) -> float:
        return self.seconds + self.reveal_seconds

    def closes_at(self, position: int) -> float:
        return self.starts_at + position * self.slot + self.seconds

    def closed(self, at: float) -> int:
        """How many pictures had their answers closed at `at` (and before the teacher ended the round)."""
        if self.ended_at is not None:
            at = min(at, self.ended_at)
        if at < self.closes_at(0):
            return 0
        return min(self.count, int((at - self.closes_at(0)) // self.slot) + 1)

    def votes(self, position: int) -> list[int]:
        counts = [0] * NUM_CLASSES
        for mine in self.answers.values():
            if str(position) in mine:
                counts[mine[str(position)]] += 1
        return counts


@dataclass(frozen=True)
class Moment:
    """Where the round is: "idle" (no round yet), "ready", "question", "reveal" or "results"."""

    phase: str
    index: int | None = None  # the picture (0-based) of a question or a reveal
    seconds_left: float | None = None  # until the next phase (None: only the teacher changes it)

    @property
    def active(self) -> bool:
        return self.phase in ("ready", "question", "reveal")


@dataclass(frozen=True)
class Reveal:
    position: int
    image: int
    truth: int
    model_answer: int
    model_confidence: float
    votes: tuple[int, ...]  # answers per class

    @property
    def majority(self) -> tuple[int, ...]:
        """The class's answer: the most voted classes (several on a tie; none without a vote)."""
        top = max(self.votes)
        return tuple(c for c, n in enumerate(self.votes) if n == top) if top else ()


@dataclass(frozen=True)
class Score:
    who: str  # owner digest
    nickname: str
    right: int


@dataclass(frozen=True)
class Results:
    images: int  # pictures counted: those whose answers had closed
    students: tuple[Score, ...]  # best first
    class_right: float  # majority vote; a tie between k classes that holds the truth counts 1/k
    model_right: int
    human_accuracy: float = HUMAN_ACCURACY

    def accuracy(self, right: float) -> float | None:
        return right / self.images if self.images else None


@dataclass(frozen=True)
class View:
    """What one browser sees at one moment (a consistent copy)."""

    moment: Moment
    round_id: str | None = None
    model: str | None = None
    count: int = 0  # pictures in the round
    seconds: float = 0.0  # to answer each picture
    image: int | None = None  # test index of the current picture
    mine: int | None = None  # this browser's answer to the current picture
    answered: int = 0  # answers to the current picture so far
    players: int = 0  # browsers that answered anything in this round
    reveal: Reveal | None = None
    results: Results | None = None


def server_clock() -> float:
    """The server's clock (seconds since the epoch): every browser's schedule is read from it."""
    return time.time()


def moment_of(r: Round | None, now: float) -> Moment:
    """The phase of round `r` at `now`, from its schedule alone."""
    if r is None:
        return Moment("idle")
    if r.ended_at is not None and now >= r.ended_at:
        return Moment("results")
    since = now - r.starts_at
    if since < 0:
        return Moment("ready", None, -since)
    index, within = divmod(since, r.slot)
    if index >= r.count:
        return Moment("results")
    if within < r.seconds:
        return Moment("question", int(index), r.seconds - within)
    return Moment("reveal", int(index), r.slot - within)


def majority_points(votes, truth: int) -> float:
    """The class's point for one picture: 1 if the most voted class is right, 1/k on a tie of k classes that
    holds the right one, 0 otherwise (and without a vote)."""
    top = max(votes)
    if not top:
        return 0.0
    tied = [c for c, n in enumerate(votes) if n == top]
    return 1 / len(tied) if truth in tied else 0.0


def class_indices(classes) -> list[int]:
    """Class names or indices as sorted indices; StudioError for an unknown one or fewer than two."""
    out = set()
    for c in classes:
        if isinstance(c, str) and c in CLASS_NAMES:
            out.add(CLASS_NAMES.index(c))
        elif isinstance(c, int) and not isinstance(c, bool) and 0 <= c < NUM_CLASSES:
            out.add(c)
        else:
            raise StudioError(f"unknown class {c!r}; choose from: {', '.join(CLASS_NAMES)}.")
    if len(out) < 2:
        raise StudioError("pick at least two classes for the round.")
    return sorted(out)


def hard_cases(labels, probabilities, classes, count: int, rng: np.random.Generator) -> list[int]:
    """`count` test images of `classes`, as evenly split between them as `count` allows, each class's share drawn
    at random from its hard cases: its images ordered by the model's probability for the true class, lowest
    first, the first twice as many as the model gets wrong (so about half of them are wrong and the rest are
    right but unsure), at least POOL_PER_PICTURE per picture drawn. Returned in a random order."""
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    classes = list(classes)
    shares = [count // len(classes)] * len(classes)
    for i in rng.permutation(len(classes))[: count % len(classes)]:
        shares[i] += 1
    chosen: list[int] = []
    for c, share in zip(classes, shares):
        if not share:
            continue
        mine = np.flatnonzero(labels == c)
        if len(mine) < share:
            raise StudioError(f"only {len(mine)} test images of {CLASS_NAMES[c]}: ask for fewer pictures.")
        truth = probabilities[mine, c]
        ordered = mine[np.argsort(truth, kind="stable")]
        wrong = int((probabilities[mine].argmax(1) != c).sum())
        pool = ordered[: max(2 * wrong, POOL_PER_PICTURE * share)]
        chosen += rng.choice(pool, share, replace=False).tolist()
    return [int(i) for i in rng.permutation(chosen)]


def _whole(value, low: int, high: int, what: str) -> int:
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not number or value != int(value) or not low <= value <= high:
        raise StudioError(f"{what} must be a whole number in {low}-{high}, got {value!r}.")
    return int(value)


class Challenge:
    """The one round of every session and every server on a runs folder: `<runs>/challenge.json`, read again
    whenever another writer replaced it and changed under a lock (core.base.shared_json)."""

    def __init__(self, runs_root=None, nicknames: Nicknames | None = None, clock=None):
        self.path = runs.runs_dir(runs_root) / FILE
        self.nicknames = nicknames if nicknames is not None else Nicknames(runs_root)
        self._clock = clock or (lambda: server_clock())  # looked up at each call
        self._doc = SharedJSON(self.path)
        self._lock = threading.Lock()
        self._parsed: tuple[object, Round | None] = (None, None)  # (the document read, its round)

    # ---- the teacher -------------------------------------------------------------------------------

    def start(
        self,
        evaluation,
        model: str,
        *,
        teacher: bool,
        classes=PAIRS["Shirt vs T-shirt/top"],
        images: int = DEFAULT_IMAGES,
        seconds: float = DEFAULT_SECONDS,
        reveal_seconds: float = REVEAL_SECONDS,
        lead_in: float = LEAD_IN_SECONDS,
        seed: int | None = None,
    ) -> Round:
        """Start a round of `images` hard cases of `classes` for the model whose test-set `evaluation`
        (core.analysis.evaluation.Evaluation: labels and probabilities) is given. Only the teacher may."""
        if not teacher:
            raise StudioError("only the teacher can start a round.")
        count = _whole(images, MIN_IMAGES, MAX_IMAGES, "the number of pictures")
        seconds = _whole(seconds, MIN_SECONDS, MAX_SECONDS, "the seconds per picture")
        chosen_classes = class_indices(classes)
        probabilities = np.asarray(evaluation.probabilities)
        if probabilities.ndim != 2 or probabilities.shape[1] != NUM_CLASSES:
            raise StudioError("a round needs a model of the ten Fashion-MNIST classes.")
        rng = np.random.default_rng(seed if seed is not None else secrets.randbits(64))
        picked = hard_cases(evaluation.labels, probabilities, chosen_classes, count, rng)
        with self._doc.changing() as data:
            now = self._clock()
            if moment_of(_round_in(data), now).active:
                raise StudioError("a round is already running: end it first.")
            r = Round(
                id=f"round-{secrets.token_hex(4)}",
                model=model,
                checkpoint=str(getattr(evaluation, "checkpoint", "")),
                classes=chosen_classes,
                images=picked,
                truths=[int(evaluation.labels[i]) for i in picked],
                model_answers=[int(probabilities[i].argmax()) for i in picked],
                model_confidence=[round(float(probabilities[i].max()), 4) for i in picked],
                seconds=float(seconds),
                reveal_seconds=float(reveal_seconds),
                starts_at=now + lead_in,
            )
            data["round"] = asdict(r)
        return _copy(r)

    def end(self, *, teacher: bool) -> None:
        """End the running round now (only the teacher); the pictures whose answers had closed count."""
        if not teacher:
            raise StudioError("only the teacher can end the round.")
        with self._doc.changing() as data:
            r, now = _round_in(data), self._clock()
            if not moment_of(r, now).active:
                raise StudioError("no round is running.")
            data["round"]["ended_at"] = now

    # ---- a student -----------------------------------------------------------------------------------

    def answer(self, who: str, position: int, choice: int) -> None:
        """Browser `who` (a digest) says picture `position` (0-based) shows class `choice`. One answer per picture,
        only while the picture is shown, only under a nickname; anything else is one line."""
        if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < NUM_CLASSES:
            raise StudioError(f"unknown class {choice!r}.")
        if self.nicknames.get(who) is None:
            raise StudioError("type a nickname before you answer.")
        refusal = self._refusal(self._latest(), who, position)  # most refusals need no lock
        if refusal:
            raise StudioError(refusal)
        with self._doc.changing(durable=False) as data:  # thirty answers in a few seconds: no wait for the disk
            r = _round_in(data)
            refusal = self._refusal(r, who, position)
            if refusal:
                raise StudioError(refusal)
            data["round"]["answers"].setdefault(who, {})[str(position)] = choice

    def _refusal(self, r: Round | None, who: str, position: int) -> str | None:
        """Why `who` may not answer picture `position` now (None: it may)."""
        now = self._clock()
        moment = moment_of(r, now)
        if r is None or (moment.phase == "results" and position >= r.count):
            return "no round is running."
        if not 0 <= position < r.count:
            return f"this round has no picture {position + 1}."
        if moment.phase == "question" and moment.index == position:
            if str(position) in r.answers.get(who, {}):
                return f"you already answered picture {position + 1}."
            return None
        if moment.phase == "results" or now >= r.closes_at(position):
            return f"too late: the answers to picture {position + 1} have closed."
        return f"picture {position + 1} is not shown yet."

    # ---- everyone ---------------------------------------------------------------------------------------

    def moment(self) -> Moment:
        return moment_of(self._latest(), self._clock())

    def current(self) -> Round | None:
        """A copy of the round (the last one, finished or not); None before the first."""
        r = self._latest()
        return _copy(r) if r else None

    def reveal(self, position: int) -> Reveal:
        """Picture `position` once its answers have closed: its true class, the model's answer, the votes."""
        r = self._latest()
        if r is None or not 0 <= position < r.closed(self._clock()):
            raise StudioError(f"picture {position + 1} is not revealed yet.")
        return _reveal(r, position)

    def results(self) -> Results | None:
        """The scores over the pictures closed so far (None before the first round)."""
        r = self._latest()
        return self._results(r, self._clock()) if r else None

    def view(self, who: str | None = None) -> View:
        """Everything a browser draws at this moment, read at once."""
        r, now = self._latest(), self._clock()
        moment = moment_of(r, now)
        if r is None:
            return View(moment)
        index = moment.index
        return View(
            moment,
            round_id=r.id,
            model=r.model,
            count=r.count,
            seconds=r.seconds,
            image=r.images[index] if index is not None else None,
            mine=r.answers.get(who, {}).get(str(index)) if who and index is not None else None,
            answered=sum(str(index) in mine for mine in r.answers.values()) if index is not None else 0,
            players=sum(1 for mine in r.answers.values() if mine),
            reveal=_reveal(r, index) if moment.phase == "reveal" else None,
            results=self._results(r, now) if moment.phase == "results" else None,
        )

    # ---- reading ------------------------------------------------------------------------------------------

    def _latest(self) -> Round | None:
        """The round as the file holds it now (parsed once per version; shared: never changed in place)."""
        with self._lock:
            data = self._doc.read()
            if data is not self._parsed[0]:
                self._parsed = (data, _round_in(data))
            return self._parsed[1]

    def _results(self, r: Round, now: float) -> Results:
        closed = r.closed(now)
        names = self.nicknames.all()
        students = [
            Score(who, names.get(who) or "(no nickname)", sum(mine.get(str(i)) == r.truths[i] for i in range(closed)))
            for who, mine in r.answers.items()
            if mine
        ]
        students.sort(key=lambda s: (-s.right, s.nickname.casefold()))
        return Results(
            images=closed,
            students=tuple(students),
            class_right=sum(majority_points(r.votes(i), r.truths[i]) for i in range(closed)),
            model_right=sum(r.model_answers[i] == r.truths[i] for i in range(closed)),
        )


def _reveal(r: Round, position: int) -> Reveal:
    return Reveal(
        position,
        r.images[position],
        r.truths[position],
        r.model_answers[position],
        r.model_confidence[position],
        tuple(r.votes(position)),
    )


def _round_in(data: dict) -> Round | None:
    """The round a document holds (None without one, or one this version cannot read)."""
    found = data.get("round")
    if not found:
        return None
    try:
        return Round(**found)
    except TypeError as e:
        log.warning("cannot read the challenge round (%s): starting without one", e)
        return None


def _copy(r: Round) -> Round:
    return Round(**copy.deepcopy(asdict(r)))
