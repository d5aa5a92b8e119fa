"""Two browsers on one server, in headless Chromium: B sees A's training but cannot stop it or take it over;
A reloads (and opens a new tab) and still can stop it; B types the teacher's key and stops it."""

import os
import re

import pytest

from tests.e2e.test_browser import CHROMIUM, WIDTH, browser, main, running_app, shoot, wait_idle  # noqa: F401
from tests.e2e.test_copied_link_browser import owner_cookie

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")

TEACHER_KEY = "blackboard-4711"
ONLY_WATCH = "Someone else's training: you can watch it, not change it."


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    with running_app(tmp_path_factory, data_dir, "classroom", FMNIST_TEACHER_KEY=TEACHER_KEY) as app:
        yield app
    assert TEACHER_KEY not in open(app["log"]).read()  # the key is never logged


def context(browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    ctx.set_default_timeout(90_000)
    return ctx


def open_train(pg, url):
    pg.goto(url)
    pg.get_by_role("heading", name="Train a model", level=1).wait_for()
    main(pg).get_by_role("button", name="Start training").wait_for()
    wait_idle(pg)


def teacher_field(pg):
    return pg.get_by_test_id("stSidebar").locator("input[type=password]")


def controls(pg) -> list[str]:
    """Labels of the buttons that act on a training, as drawn in the main area."""
    names = ("Stop", "Cancel", "Resume", "Delete", "Watch this training here")
    return [n for n in names if main(pg).get_by_role("button", name=n, exact=True).count()]


def test_only_the_owner_and_the_teacher_can_stop_a_training(server, browser):  # noqa: F811
    alice_ctx, bob_ctx = context(browser), context(browser)
    alice, bob = alice_ctx.new_page(), bob_ctx.new_page()

    open_train(alice, f"{server['url']}/train")
    for label, value in (("Images to train on", "30000"), ("Epochs", "5")):
        box = alice.get_by_role("spinbutton", name=label)
        box.fill(value)
        box.press("Enter")
        wait_idle(alice)
    alice.get_by_role("button", name="Start training").click()
    main(alice).get_by_test_id("stProgress").wait_for()
    main(alice).get_by_role("button", name="Stop", exact=True).wait_for()
    secret = owner_cookie(alice_ctx)
    assert len(secret) >= 32 and secret not in alice.url  # in the cookie, never in the address
    shoot(alice, "classroom_a_started")

    # B: sees the training, read only; no way to stop it or take it over
    open_train(bob, f"{server['url']}/train")
    main(bob).get_by_text(ONLY_WATCH).wait_for()
    main(bob).get_by_test_id("stProgress").wait_for()
    assert controls(bob) == []
    assert owner_cookie(bob_ctx) not in (None, secret)
    assert teacher_field(bob).count() == 1
    shoot(bob, "classroom_b_read_only")

    # A reloads: still the owner; a new tab of the same browser (no secret in its address) too
    alice.reload()
    main(alice).get_by_role("button", name="Stop", exact=True).wait_for(timeout=150_000)
    assert main(alice).get_by_text(ONLY_WATCH).count() == 0
    tab = alice_ctx.new_page()
    open_train(tab, f"{server['url']}/train")
    main(tab).get_by_role("button", name="Stop", exact=True).wait_for(timeout=150_000)
    assert owner_cookie(alice_ctx) == secret and secret not in tab.url
    tab.close()
    shoot(alice, "classroom_a_reloaded")

    # B with a wrong key: nothing; with the teacher's key: Stop, and it works
    key = teacher_field(bob)
    key.fill("guess")
    key.press("Enter")
    bob.get_by_text("That is not the teacher key.").wait_for()
    assert controls(bob) == []
    key.fill(TEACHER_KEY)
    key.press("Enter")
    bob.get_by_text("Teacher mode: you can stop any training").wait_for()
    main(bob).get_by_role("button", name="Stop", exact=True).wait_for()
    teacher_field(bob).wait_for(state="detached")  # the field (and what was typed into it) is gone
    wait_idle(bob)
    assert TEACHER_KEY not in bob.content()
    shoot(bob, "classroom_b_teacher")
    main(bob).get_by_role("button", name="Stop", exact=True).click()
    main(bob).get_by_text("Stopped after").wait_for(timeout=120_000)
    main(alice).get_by_text("Stopped after").wait_for(timeout=120_000)
    main(alice).get_by_role("link", name="Evaluate").wait_for()  # the full rerun after the end is drawn
    wait_idle(alice)
    stopped_in = int(re.search(r"stopped by request during epoch (\d+)", main(alice).inner_text()).group(1))
    main(alice).get_by_role("button", name="Delete", exact=True).wait_for()
    # the owner may delete it, and resume it once an epoch was saved (none is when it stopped in epoch 1)
    assert controls(alice) == (["Delete"] if stopped_in == 1 else ["Resume", "Delete"])
    shoot(alice, "classroom_a_stopped_by_teacher")
    for pg in (alice, bob):
        assert pg.get_by_test_id("stException").count() == 0 and "Traceback" not in main(pg).inner_text()
    alice_ctx.close()
    bob_ctx.close()
