"""A link copied from one browser's address bar gives another browser no control, in headless Chromium.

Alice starts a training. Her secret is in her cookie and nowhere in her address. Bob opens the address Alice's
address bar shows, and then an old-style link that carries her secret (`?owner=...`): he can watch, never stop
or delete, and his own cookie stays his. Alice, after a reload and in a new tab, still owns her training.
"""

import os
from urllib.parse import parse_qs, urlparse

import pytest

from dashboard.classroom import COOKIE
from tests.e2e.test_browser import CHROMIUM, WIDTH, browser, main, running_app, shoot, wait_idle  # noqa: F401

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")

ONLY_WATCH = "Someone else's training: you can watch it, not change it."
CONTROLS = ("Stop", "Cancel", "Resume", "Delete")


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    with running_app(tmp_path_factory, data_dir, "copied-link") as app:
        yield app


def new_browser(browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    ctx.set_default_timeout(90_000)
    return ctx


def open_train(pg, url):
    pg.goto(url)
    pg.get_by_role("heading", name="Train a model", level=1).wait_for()
    main(pg).get_by_role("button", name="Start training").wait_for()
    wait_idle(pg)


def owner_cookie(ctx) -> str | None:
    return next((c["value"] for c in ctx.cookies() if c["name"] == COOKIE), None)


def wait_cookie(ctx, pg) -> str:
    pg.wait_for_function(f"() => document.cookie.includes('{COOKIE}=')")
    return owner_cookie(ctx)


def controls(pg) -> list[str]:
    return [n for n in CONTROLS if main(pg).get_by_role("button", name=n, exact=True).count()]


def test_a_copied_link_gives_another_browser_no_control(server, browser):  # noqa: F811
    alice_ctx, bob_ctx = new_browser(browser), new_browser(browser)
    alice, bob = alice_ctx.new_page(), bob_ctx.new_page()

    open_train(alice, f"{server['url']}/train")
    secret = wait_cookie(alice_ctx, alice)
    assert len(secret) >= 32
    for label, value in (("Images to train on", "30000"), ("Epochs", "20")):
        box = alice.get_by_role("spinbutton", name=label)
        box.fill(value)
        box.press("Enter")
        wait_idle(alice)
    alice.get_by_role("button", name="Start training").click()
    main(alice).get_by_role("button", name="Stop", exact=True).wait_for()
    copied = alice.url  # what Alice's address bar shows
    assert secret not in copied and "owner" not in parse_qs(urlparse(copied).query)

    # Bob gets his own identity first, then opens Alice's address
    open_train(bob, f"{server['url']}/train")
    bobs = wait_cookie(bob_ctx, bob)
    assert bobs != secret
    open_train(bob, copied)
    main(bob).get_by_text(ONLY_WATCH).wait_for()
    main(bob).get_by_test_id("stProgress").wait_for()
    assert controls(bob) == []
    shoot(bob, "copied_link_b_read_only")

    # an old-style link carrying Alice's secret: ignored, taken out of the address, Bob's cookie untouched
    open_train(bob, f"{server['url']}/train?owner={secret}")
    main(bob).get_by_text(ONLY_WATCH).wait_for()
    bob.wait_for_function("() => !location.search.includes('owner=')")
    assert controls(bob) == [] and owner_cookie(bob_ctx) == bobs
    assert secret not in bob.url

    # Alice reloads, and opens a new tab: still hers (the cookie), still no secret in any address
    alice.reload()
    main(alice).get_by_role("button", name="Stop", exact=True).wait_for()
    assert main(alice).get_by_text(ONLY_WATCH).count() == 0
    tab = alice_ctx.new_page()
    open_train(tab, f"{server['url']}/train")
    main(tab).get_by_role("button", name="Stop", exact=True).wait_for()
    assert secret not in tab.url
    tab.close()

    # Alice stops it; Bob, even with the old link, may not delete it
    main(alice).get_by_role("button", name="Stop", exact=True).click()
    main(alice).get_by_text("Stopped after").wait_for(timeout=120_000)
    main(alice).get_by_role("button", name="Delete", exact=True).wait_for()
    open_train(bob, f"{server['url']}/train?owner={secret}")
    main(bob).get_by_text("Stopped after").wait_for(timeout=120_000)
    wait_idle(bob)
    assert controls(bob) == [] and owner_cookie(bob_ctx) == bobs
    shoot(bob, "copied_link_b_after_stop")
    for pg in (alice, bob):
        assert pg.get_by_test_id("stException").count() == 0 and "Traceback" not in main(pg).inner_text()
    alice_ctx.close()
    bob_ctx.close()
