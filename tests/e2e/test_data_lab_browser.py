"""The Data lab page in headless Chromium, on a desktop and on a phone: the suspect-label gallery opens from the
shipped ranking, a class pair filters it, one suspect is marked and the marks download as CSV, and the leaks tab
shows the test images with a near-copy in training. Shot to test-output/screenshots/."""

import csv
import io
import os
import re
from pathlib import Path

import pytest

from core.analysis import duplicates, label_issues
from core.data.classes import CLASS_NAMES
from tests.e2e.test_browser import (  # noqa: F401
    CHROMIUM,
    MAIN,
    browser,
    check_clean,
    main,
    select_value,
    server,
    wait_idle,
    wait_images,
)
from tests.e2e.test_challenge_browser import context, shoot

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")

GIVEN, LIKELY = "Shirt", "T-shirt/top"
GALLERY = f"{MAIN} [data-testid=stImage] img"


@pytest.fixture(scope="module")
def shipped(fmnist):
    return label_issues.load(fmnist)


def open_lab(pg, url: str) -> None:
    pg.goto(f"{url}/data_lab")
    pg.get_by_role("heading", name="Data lab", level=1).wait_for()
    main(pg).get_by_text("training images, worst first.").wait_for()
    wait_images(pg, GALLERY, 24)
    wait_idle(pg)


def choose(pg, label: str, option: str) -> None:
    box = main(pg).get_by_test_id("stSelectbox").filter(has_text=label)
    box.scroll_into_view_if_needed()  # a click that scrolls the page first closes the list it opens (on a phone)
    box.click()
    pg.get_by_role("option", name=option, exact=True).click()
    pg.wait_for_function(
        "([el, value]) => el.querySelector('input').value === value", arg=[box.element_handle(), option]
    )
    wait_idle(pg)
    assert select_value(pg, label) == option


def gallery(pg) -> list[str]:
    return [c.strip() for c in main(pg).get_by_test_id("stCaptionContainer").all_inner_texts() if c.startswith("#")]


def check_lab(pg, url: str, shipped, name: str) -> None:
    open_lab(pg, url)
    main(pg).get_by_text(f"{shipped.accuracy:.2%}", exact=False).first.wait_for()  # may be drawn after the gallery
    text = main(pg).inner_text()
    assert f"{shipped.accuracy:.2%}" in text and "60,000 training images, worst first." in text
    worst = shipped.worst(24).tolist()
    captions = gallery(pg)
    assert [int(c[1:].split(" ")[0]) for c in captions] == worst
    shoot(pg, f"data_lab_{name}")
    check_clean(pg)

    # a class pair: Shirts the models take for T-shirts, worst first
    choose(pg, "Given label", GIVEN)
    choose(pg, "Likely label", LIKELY)
    pair = shipped.select(CLASS_NAMES.index(GIVEN), CLASS_NAMES.index(LIKELY)).tolist()
    main(pg).get_by_text(f"{len(pair):,} training images, worst first.").wait_for()
    wait_images(pg, GALLERY, min(24, len(pair)))
    captions = gallery(pg)
    assert [int(c[1:].split(" ")[0]) for c in captions] == pair[:24]
    assert all(f"given {GIVEN} · likely {LIKELY}" in c for c in captions), captions[:3]

    # mark the worst of them as mislabeled, then download the marks
    first = pair[0]
    main(pg).locator(f".st-key-lab_mislabeled_{first}").get_by_role("button", name="Agree: mislabeled").click()
    main(pg).get_by_text("You marked 1 image: 1 mislabeled, 0 fine.").wait_for()
    wait_idle(pg)
    with pg.expect_download() as download:
        main(pg).get_by_role("button", name="Download your marks (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == ["index", "given", "suggested", "quality", "verdict"]
    assert len(rows) == 2 and rows[1][0] == str(first) and rows[1][4] == "mislabeled"
    assert rows[1][1:3] == [GIVEN, LIKELY], rows[1]
    assert float(rows[1][3]) == pytest.approx(float(shipped.quality[first]), abs=1e-4)
    shoot(pg, f"data_lab_{name}_pair_marked")
    check_clean(pg)


def check_leaks(pg, fmnist, name: str) -> None:
    leaked = duplicates.load(fmnist).leaks()
    main(pg).get_by_role("tab", name="Leaks and duplicates").click()
    main(pg).get_by_role("heading", name="Leaks: test images with a near-copy in training").wait_for()
    shown = min(24, len(leaked))
    assert shown > 0
    page_pictures = f"{MAIN} [data-testid=stImage] img[alt^='Test image']"
    pg.locator(page_pictures).first.wait_for()
    assert wait_images(pg, page_pictures, shown) >= shown
    test, train, _ = leaked[0]
    main(pg).get_by_text(re.compile(rf"^test #{test} \(.+\) · train #{train} \(")).first.wait_for()
    assert main(pg).get_by_text(f"{len(leaked):,}", exact=True).count() >= 1  # the metric of leaked test images
    wait_idle(pg)
    shoot(pg, f"data_lab_{name}_leaks")
    check_clean(pg)


@pytest.mark.parametrize("name, width, height", [("desktop", 1400, 1000), ("phone", 390, 844)])
def test_the_data_lab_as_a_user_sees_it(server, browser, shipped, fmnist, name, width, height):  # noqa: F811
    ctx = context(browser, width, height, phone=name == "phone")
    pg = ctx.new_page()
    check_lab(pg, server["url"], shipped, name)
    check_leaks(pg, fmnist, name)
    ctx.close()
