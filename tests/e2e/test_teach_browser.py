"""The Teach page in headless Chromium: five hats drawn with the mouse on the canvas, each added as an example,
the class named and taught; then a pair of trousers drawn on the check canvas is answered by the old and the
new model side by side. Shot full-page on a desktop and a phone to test-output/screenshots/."""

import os

import pytest

from tests.e2e.test_browser import (  # noqa: F401
    CHROMIUM,
    MAIN,
    SHOTS,
    WIDTH,
    browser,
    check_clean,
    main,
    open_page,
    running_app,
    shoot,
    wait_idle,
    wait_images,
)

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")

HAT = [[(30, 200), (250, 200)], [(80, 200), (85, 105), (140, 85), (195, 105), (200, 200)], [(85, 170), (195, 170)]]
TROUSERS = [[(95, 265), (95, 35), (185, 35), (185, 265)], [(140, 60), (140, 265)]]


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    with running_app(
        tmp_path_factory, data_dir, "teach", FMNIST_CACHE_DIR=str(tmp_path_factory.mktemp("cache"))
    ) as app:
        yield app["url"]


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(300_000)  # the first teach of a model computes its features
    yield pg
    context.close()


def draw(pg, canvas, strokes, shift=(0, 0)):
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for stroke in strokes:
        points = [(box["x"] + x + shift[0], box["y"] + y + shift[1]) for x, y in stroke]
        pg.mouse.move(*points[0])
        pg.mouse.down()
        for x, y in points[1:]:
            pg.mouse.move(x, y, steps=10)
        pg.mouse.up()
        pg.wait_for_timeout(200)  # a hand between strokes: the canvas records each one


def test_draw_five_hats_teach_and_check_a_drawing_of_trousers(server, page):
    open_page(page, f"{server}/teach", "Teach it a new class")
    main(page).get_by_label("Class name").fill("Hat")
    main(page).get_by_label("Class name").press("Enter")
    wait_idle(page)
    for n in range(1, 6):
        draw(page, main(page).locator("canvas.upper-canvas").first, HAT, shift=(3 * n - 9, 4 - 2 * n))
        add = main(page).get_by_role("button", name="Add this drawing")
        page.wait_for_function("(b) => !b.disabled", arg=add.element_handle())
        add.click()
        main(page).get_by_text(f"{n} example{'s' if n > 1 else ''}", exact=False).first.wait_for()
        wait_idle(page)
    wait_images(page, f"{MAIN} [data-testid=stImage] img", 5)
    main(page).get_by_role("button", name="Teach", exact=True).click()
    main(page).get_by_text("knows 11 classes", exact=False).wait_for()
    # The page streams its results below that line: wait for the last of them, not for the first.
    main(page).get_by_test_id("stMetric").filter(has_text="Held-out examples called Hat").wait_for(timeout=60_000)
    main(page).get_by_text("Does it still know the ten?").wait_for(timeout=60_000)
    wait_idle(page)
    assert "Held-out examples called Hat" in main(page).inner_text()

    draw(page, main(page).locator("canvas.upper-canvas").last, TROUSERS)
    main(page).get_by_test_id("stMetric").filter(has_text="After:").wait_for()
    wait_idle(page)
    text = main(page).inner_text()
    assert "Before: two_conv" in text and "After: two_conv + Hat" in text
    shoot(page, "teach_desktop")
    check_clean(page)

    page.set_viewport_size({"width": 390, "height": 844})
    wait_idle(page)
    if page.get_by_test_id("stSidebar").get_attribute("aria-expanded") == "true":  # as a phone opens the page
        page.get_by_test_id("stSidebarCollapseButton").locator("button").click(force=True)
        page.wait_for_function(
            "() => document.querySelector('[data-testid=stSidebar]').getAttribute('aria-expanded') === 'false'"
        )
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 390, "height": height})
    wait_idle(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "teach_phone.png"), full_page=True)
    check_clean(page)
