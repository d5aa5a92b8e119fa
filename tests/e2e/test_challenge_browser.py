"""The Challenge in headless Chromium: a teacher and two students (one on a phone-sized screen) on one server. The
students pick nicknames, the teacher starts a round, both students answer the same picture with the big buttons
(two to a row on the phone), everyone sees the reveal with the class's votes, the teacher's screen goes to projector
view and ends the round, and the results table has a row for each student, the class, the model and people."""

import json
import os
import re

import pytest

from tests.e2e.test_accessibility import axe_violations, describe
from tests.e2e.test_browser import CHROMIUM, MAIN, browser, main, running_app, wait_idle  # noqa: F401

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")

TEACHER_KEY = "chalk-and-cheese-42"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
SHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-output", "screenshots")


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    with running_app(tmp_path_factory, data_dir, "challenge", FMNIST_TEACHER_KEY=TEACHER_KEY) as app:
        yield app


def context(browser, width, height, phone=False):  # noqa: F811
    options = {"viewport": {"width": width, "height": height}}
    if phone:
        options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    ctx = browser.new_context(**options)
    ctx.set_default_timeout(90_000)
    return ctx


def shoot(pg, name: str) -> None:
    """The whole page at the page's own width (Streamlit scrolls inside stMain: grow the viewport to it first)."""
    os.makedirs(SHOTS, exist_ok=True)
    size = pg.viewport_size
    height = pg.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    pg.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    pg.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
    pg.set_viewport_size(size)


def open_challenge(pg, url):
    pg.goto(f"{url}/challenge")
    pg.get_by_role("heading", name="Challenge", level=1).wait_for()
    wait_idle(pg)


def answer_button(pg, name):
    return main(pg).locator(".st-key-challenge_answers").get_by_role("button", name=name, exact=True)


def test_a_teacher_and_two_students_play_a_round(server, browser):  # noqa: F811
    teacher_ctx, desk_ctx, phone_ctx = context(browser, 1400, 1000), context(browser, 1400, 1000), None
    phone_ctx = context(browser, 390, 844, phone=True)
    teacher, ada, pia = teacher_ctx.new_page(), desk_ctx.new_page(), phone_ctx.new_page()

    for pg, nickname in ((ada, "Ada"), (pia, "Pia")):
        open_challenge(pg, server["url"])
        assert main(pg).get_by_role("button", name="Start a round").count() == 0  # students start nothing
        field = main(pg).get_by_role("textbox", name="Your nickname")
        field.fill(nickname)
        field.press("Enter")
        main(pg).get_by_text(f"You play as {nickname}.").wait_for()
        main(pg).get_by_text("No round yet.").wait_for()

    open_challenge(teacher, server["url"])
    key = teacher.get_by_test_id("stSidebar").locator("input[type=password]")
    key.fill(TEACHER_KEY)
    key.press("Enter")
    main(teacher).get_by_role("button", name="Start a round").wait_for()
    wait_idle(teacher)
    for label, value in (("Pictures", "3"), ("Seconds per picture", "30")):
        box = main(teacher).get_by_role("spinbutton", name=label)
        box.fill(value)
        box.press("Enter")
        wait_idle(teacher)
    main(teacher).get_by_role("button", name="Start a round").click()
    main(teacher).get_by_role("button", name="End the round").wait_for()

    # the same first picture on both students' screens, with ten big answer buttons
    for pg in (ada, pia):
        main(pg).get_by_role("heading", name="Picture 1 of 3: which class is it?").wait_for(timeout=30_000)
        buttons = main(pg).locator(".st-key-challenge_answers button")
        pg.wait_for_function(  # the ten are drawn (a busy machine draws them in more than one frame)
            "n => document.querySelectorAll('.st-key-challenge_answers button').length == n", arg=len(CLASSES)
        )
        wait_idle(pg)
        names = buttons.all_inner_texts()
        assert [n.strip() for n in names] == list(CLASSES)
    sources = [main(pg).locator("[data-testid=stImage] img").first.get_attribute("src") for pg in (ada, pia)]
    assert sources[0] == sources[1]
    alt = main(ada).locator("[data-testid=stImage] img").first.get_attribute("alt")
    assert (
        alt.startswith("Picture 1 of 3: a piece of clothing from the Fashion-MNIST test set") and "Which class" in alt
    )

    boxes = [answer_button(pia, name).bounding_box() for name in CLASSES[:3]]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2 and boxes[2]["y"] > boxes[0]["y"] + boxes[0]["height"]  # 2 a row
    assert all(b["height"] >= 48 and b["width"] >= 140 for b in boxes)  # thumb-sized on a 390 px screen
    desk = [answer_button(ada, name).bounding_box() for name in CLASSES[:6]]
    assert len({round(b["y"]) for b in desk[:5]}) == 1 and desk[5]["y"] > desk[0]["y"]  # 5 a row on a desktop
    shoot(pia, "challenge_phone_question")
    shoot(ada, "challenge_question")
    violations = axe_violations(pia)  # WCAG 2 A/AA, as on every page, here with a picture and its buttons
    assert not violations, describe(violations)

    r = json.loads((server["runs"] / "challenge.json").read_text())["round"]
    truth = CLASSES[r["truths"][0]]
    other = "Bag" if truth != "Bag" else "Sandal"
    answer_button(ada, truth).click()
    answer_button(pia, other).tap()
    main(ada).get_by_text(f"Your answer: {truth}.").wait_for()
    main(pia).get_by_text(f"Your answer: {other}.").wait_for()
    assert answer_button(ada, truth).count() == 0  # one answer per picture
    main(teacher).get_by_text("2 answered so far.").wait_for()

    # the reveal, on every screen: the true class, the model's answer, the votes as numbered bars
    heading = f"Picture 1 of 3: it was {truth}"
    for pg in (ada, pia, teacher):
        main(pg).get_by_role("heading", name=heading).wait_for(timeout=40_000)
        pg.wait_for_function(
            f"() => document.querySelectorAll('{MAIN} [data-testid=stVegaLiteChart] svg.marks .mark-rect path').length"
            " == 10"
        )
    model = CLASSES[r["model_answers"][0]]
    assert main(ada).get_by_text(re.compile(rf"The model said {re.escape(model)} \(\d+% sure\)")).count() == 1
    main(ada).get_by_text(f"You said {truth}: right.").wait_for()
    main(pia).get_by_text(f"You said {other}: wrong.").wait_for()
    numbers = pia.evaluate(
        f"() => [...document.querySelectorAll('{MAIN} [data-testid=stVegaLiteChart] svg.marks .mark-text.role-mark text')]"
        ".map(t => t.textContent)"
    )
    assert sorted(numbers) == ["0"] * 8 + ["1", "1"]
    shoot(pia, "challenge_phone_reveal")
    shoot(ada, "challenge_reveal")
    violations = axe_violations(ada)
    assert not violations, describe(violations)

    # the teacher's screen for the room, then the end of the round
    teacher.get_by_test_id("stSidebar").get_by_text("Projector view").click()
    main(teacher).get_by_role("button", name="Leave projector view").wait_for()
    main(teacher).get_by_role("heading", name="Challenge: beat the model", level=1).wait_for()
    assert teacher.get_by_test_id("stSidebar").is_hidden()
    assert "projector=1" in teacher.url
    teacher.screenshot(path=os.path.join(SHOTS, "challenge_projector.png"))
    main(teacher).get_by_role("button", name="End the round").click()

    for pg in (ada, pia):
        main(pg).get_by_role("heading", name=re.compile("^Results: ")).wait_for(timeout=30_000)
    main(ada).get_by_role("cell", name="human (83.5%)").wait_for()
    rows = main(ada).locator("[data-testid=stTable] tbody tr").all_inner_texts()
    cells = [[c.strip() for c in row.split("\t")] for row in rows]
    assert cells == [
        ["Ada (you)", "1 of 1", "100.0%"],
        ["Pia", "0 of 1", "0.0%"],
        ["the class (majority vote)", "0.5 of 1", "50.0%"],
        [f"the model ({r['model']})", f"{int(model == truth)} of 1", f"{100.0 * (model == truth):.1f}%"],
        ["human (83.5%)", "", "83.5%"],
    ]
    shoot(ada, "challenge_results")
    shoot(pia, "challenge_phone_results")
    teacher.screenshot(path=os.path.join(SHOTS, "challenge_projector_results.png"))
    for ctx in (teacher_ctx, desk_ctx, phone_ctx):
        ctx.close()
