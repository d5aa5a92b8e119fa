"""Train in projector view, in headless Chromium: one browser starts a training; a wall screen (desktop) and a phone
open /train?projector=1 and see only that training's title, progress line and live curves, each chart about a
screen high, with no form, no Stop and no sidebar; "Leave projector view" brings the form back. Shot to
test-output/screenshots/."""

import os
import re

import pytest

from tests.e2e.test_browser import CHROMIUM, MAIN, browser, main, server, wait_idle, wait_marks  # noqa: F401
from tests.e2e.test_challenge_browser import context, shoot

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")

CHART = f"{MAIN} [data-testid=stVegaLiteChart]"


def start_training(pg, url: str) -> None:
    pg.goto(f"{url}/train")
    main(pg).get_by_role("button", name="Start training").wait_for()
    wait_idle(pg)
    for label, value in (("Images to train on", "20000"), ("Epochs", "4")):
        box = main(pg).get_by_role("spinbutton", name=label)
        box.fill(value)
        box.press("Enter")
        wait_idle(pg)
    name = main(pg).get_by_role("textbox", name="Model name (optional)")
    name.fill("for the wall")
    name.press("Enter")
    wait_idle(pg)
    main(pg).get_by_role("button", name="Start training").click()
    main(pg).get_by_role("button", name="Stop", exact=True).wait_for()


def open_wall(pg, url: str) -> None:
    pg.goto(f"{url}/train?projector=1")
    main(pg).get_by_role("heading", name="Train a model", level=1).wait_for()
    main(pg).get_by_role("heading", name="for the wall — running").wait_for()
    main(pg).get_by_text("Loss per epoch").wait_for(timeout=180_000)  # the first epoch is over: every curve drawn
    wait_marks(pg, MAIN, "line", 3)
    wait_idle(pg)


def check_room_view(pg) -> None:
    """Only the training's line, its progress and its three charts, each at least most of a screen high."""
    assert pg.get_by_test_id("stSidebar").is_hidden()
    main(pg).get_by_role("button", name="Leave projector view").wait_for()
    assert main(pg).get_by_role("button", name=re.compile("^(Start|Stop|Cancel|Resume|Delete)")).count() == 0
    assert main(pg).locator("input, textarea, [role=combobox]").count() == 0  # no form, no picker
    assert main(pg).get_by_test_id("stProgress").inner_text().startswith("Epoch ")
    for gone in ("Start training", "1 · Architecture", "Training shown", "All trainings on this server"):
        assert main(pg).get_by_text(gone).count() == 0, gone
    assert pg.locator(CHART).count() == 3
    screen = pg.viewport_size["height"]
    heights = [pg.locator(CHART).nth(i).bounding_box()["height"] for i in range(3)]
    assert all(h >= 0.6 * min(screen, 1000) for h in heights), (heights, screen)
    text = main(pg).inner_text()
    assert "Traceback" not in text and pg.get_by_test_id("stException").count() == 0


def test_a_training_on_the_wall_and_on_a_phone(server, browser):  # noqa: F811
    owner_ctx, wall_ctx = context(browser, 1400, 1000), context(browser, 1400, 1000)
    phone_ctx = context(browser, 390, 844, phone=True)
    owner, wall, phone = owner_ctx.new_page(), wall_ctx.new_page(), phone_ctx.new_page()
    start_training(owner, server["url"])

    open_wall(wall, server["url"])
    check_room_view(wall)
    assert "projector=1" in wall.url
    shoot(wall, "train_projector")
    open_wall(phone, server["url"])
    check_room_view(phone)
    shoot(phone, "train_projector_phone")

    main(wall).get_by_role("button", name="Leave projector view").click()
    main(wall).get_by_role("button", name="Start training").wait_for()
    wait_idle(wall)
    wall.get_by_test_id("stSidebar").wait_for(state="visible")
    assert "projector" not in wall.url and main(wall).get_by_role("button", name="Leave projector view").count() == 0
    main(wall).get_by_text("Someone else's training: you can watch it, not change it.").wait_for()

    # stopped: the phone, still in projector view, says so and what the run reached, above its curves
    main(owner).get_by_role("button", name="Stop", exact=True).click()
    main(owner).get_by_text("Stopped after").wait_for(timeout=120_000)
    idle = main(phone).get_by_text("Nothing is training now. The latest run, for the wall, reached ")
    idle.wait_for()
    assert " test accuracy on the 10,000 test images after " in idle.inner_text()
    assert phone.locator(CHART).count() == 3 and main(phone).get_by_test_id("stProgress").count() == 0
    wait_idle(phone)
    shoot(phone, "train_projector_phone_idle")
    for ctx in (owner_ctx, wall_ctx, phone_ctx):
        ctx.close()
