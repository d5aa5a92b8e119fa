"""A Challenge round in the classroom load test: the teacher starts it, every student joins (mid-round if late),
picks a nickname and answers each picture, polling the page each second as the browser does.

Rows it adds to the report (seconds):
- "Challenge (open)": opening the page until it is drawn.
- "Challenge (answer)": from the click on a class to the page confirming the answer (one fragment run).
- "Challenge (answer-to-reveal)": once a student has answered a picture, from the moment its answers close
  (the round's schedule, read from `<runs>/challenge.json`; client and server share this machine's clock) until
  the reveal (true class, model, votes) is on that student's screen: the fragment run that drew it finished and
  its images fetched.

A student answers after 1-4 s of thought, the true class about two times in three, else the other class of the
pair. Loopback only (bench.st_client).
"""

import asyncio
import json
import math
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

from bench.st_client import Browser, ClientError

TEACHER_KEY = "classroom-bench-teacher-key"
QUESTION = re.compile(r"^### Picture (\d+) of (\d+): which class is it\?")
REVEAL = re.compile(r"^### Picture (\d+) of (\d+): it was \*\*")
RESULTS = "### Results:"
ANSWERED = "Your answer: "
POLL = 1.0  # what the page's fragment asks for (run_every)


def read_round(runs_dir: Path) -> dict | None:
    try:
        return json.loads((Path(runs_dir) / "challenge.json").read_text()).get("round")
    except (OSError, ValueError):
        return None


def closes_at(r: dict, position: int) -> float:
    return r["starts_at"] + position * (r["seconds"] + r["reveal_seconds"]) + r["seconds"]


async def start_round(url: str, images: int, seconds: int, key: str = TEACHER_KEY) -> Browser:
    """The teacher types the key, opens Challenge and presses Start a round; returns the teacher's tab."""
    teacher = Browser(url)
    run = await teacher.open()
    run = await teacher.rerun(widgets=[Browser.choose(run.widget("text_input", "teacher_key"), key)])
    run = await teacher.rerun("challenge")
    if not any(b.label == "Start a round" for b in run.widgets("button")):
        raise SystemExit("error: the teacher key was not accepted (start the server with FMNIST_TEACHER_KEY)")
    run = await teacher.rerun(
        widgets=[
            Browser.number(run.widget("number_input", "challenge_images"), images),
            Browser.number(run.widget("number_input", "challenge_seconds"), seconds),
        ]
    )
    run = await teacher.rerun(widgets=[Browser.click(run.widget("button", "challenge_start"))])
    if run.errors or run.exceptions:
        raise SystemExit(f"error: the round did not start: {run.errors + run.exceptions}")
    return teacher


def _phase(run) -> tuple[str, int | None]:
    for text in run.texts("markdown", "body"):
        if m := QUESTION.match(text):
            return "question", int(m[1]) - 1
        if m := REVEAL.match(text):
            return "reveal", int(m[1]) - 1
        if text.startswith(RESULTS):
            return "results", None
    return "other", None


def _answer_buttons(run) -> dict[int, object]:
    return {int(b.id.rsplit("_", 1)[1]): b for b in run.widgets("button") if "-challenge_answer_" in b.id}


async def play(n: int, url: str, runs_dir: Path, tally, rng: random.Random, until: float) -> None:
    """One student's round: open, nickname, then answer every picture shown until the results (or `until`)."""
    who = f"player {n}"
    browser = Browser(url)
    try:
        await browser.open()
        run = await browser.rerun("challenge")
        tally.check(who, "Challenge (open)", run, bool(run.widgets("text_input")), "the nickname field")
        run = await browser.rerun(widgets=[Browser.choose(run.widget("text_input", "challenge_nickname"), f"s{n}")])
        fragment = next(iter(browser.fragments), None)
        if fragment is None:
            raise ClientError("the Challenge page polls nothing")
        answered: set[int] = set()
        measured: set[int] = set()
        tick = time.monotonic()
        while time.monotonic() < until:
            phase, position = _phase(run)
            r = read_round(runs_dir)
            if phase == "results":
                break
            if phase == "reveal" and position in answered and position not in measured and r:
                measured.add(position)
                tally.add("Challenge (answer-to-reveal)", max(0.0, time.time() - closes_at(r, position)))
            buttons = _answer_buttons(run)
            if phase == "question" and position not in answered and buttons and r:
                left = closes_at(r, position) - time.time()
                think = rng.uniform(1.0, 4.0)
                if left > think + 1.0:
                    await asyncio.sleep(think)
                    truth = r["truths"][position]
                    pair = [c for c in r["classes"] if c != truth] or [truth]
                    choice = truth if rng.random() < 2 / 3 else rng.choice(pair)
                    run = await browser.rerun(widgets=[Browser.click(buttons[choice])], fragment_id=fragment)
                    ok = any(s.startswith(ANSWERED) for s in run.texts("alert", "body"))
                    tally.check(who, "Challenge (answer)", run, ok, "the answer's confirmation")
                    answered.add(position)
                    tick = time.monotonic()
                    continue
            now = time.monotonic()  # the browser's timer fires every POLL seconds, however long a run took
            tick += POLL * max(1, math.ceil((now - tick) / POLL))
            await asyncio.sleep(tick - now)
            run = await browser.rerun(fragment_id=fragment)
            for problem in run.exceptions + run.errors:
                tally.errors.append(f"{who} Challenge: {problem[:160]}")
    except (ClientError, OSError, asyncio.TimeoutError, StopIteration) as e:
        tally.errors.append(f"{who}: {type(e).__name__}: {str(e)[:160]}")
    except Exception as e:  # websockets' connection errors and anything unforeseen count as errors too
        tally.errors.append(f"{who}: {type(e).__name__}: {str(e)[:160]}")
    finally:
        await browser.close()


def round_seconds(images: int, seconds: int) -> float:
    """How long a round lasts, from Start to the results (lead-in, pictures, reveals), with a margin."""
    from core.serving.challenge import LEAD_IN_SECONDS, REVEAL_SECONDS

    return LEAD_IN_SECONDS + images * (seconds + REVEAL_SECONDS) + 5


@dataclass
class Game:
    """The round a class plays: its size, where the server keeps it, the key that starts it, and whether the
    students visit the other pages first (they then join the round mid-way)."""

    images: int
    seconds: int
    runs_dir: Path
    key: str = TEACHER_KEY
    visit: bool = True


def summary(runs_dir: Path) -> str:
    """One line on the round as the server recorded it: answers per picture."""
    r = read_round(runs_dir)
    if not r:
        return "- challenge: no round was recorded"
    counts = [sum(str(p) in mine for mine in r["answers"].values()) for p in range(len(r["images"]))]
    return (
        f"- challenge: {len(r['images'])} pictures, {r['seconds']:g} s each; answers per picture: "
        + ", ".join(map(str, counts))
        + f"; {len(r['answers'])} students answered"
    )
