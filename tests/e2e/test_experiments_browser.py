"""Experiments in headless Chromium: a recipe fills the Train form, a two-value sweep on a small subset starts
as one request, both runs' curves are drawn overlaid, the results table and summary appear, and Compare
shows the experiment as one group. Screenshots go to test-output/screenshots/."""

import re

import pytest

from core.library import experiments
from tests.e2e.test_browser import (  # noqa: F401
    CHROMIUM,
    MAIN,
    browser,
    check_clean,
    main,
    nav,
    open_page,
    page,
    server,
    shoot,
    wait_idle,
    wait_marks,
)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="needs Debian's chromium")


def choose(pg, label: str, option: str):
    """Pick `option` in the selectbox labelled `label`."""
    main(pg).get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    pg.get_by_role("option", name=option, exact=True).click()
    wait_idle(pg)


def fill(pg, label: str, value: str, role: str = "textbox"):
    box = main(pg).get_by_role(role, name=label)
    box.fill(value)
    box.press("Enter")
    wait_idle(pg)


def test_a_two_value_sweep_draws_two_curves(server, page):  # noqa: F811
    open_page(page, f"{server['url']}/train", "Train a model")
    main(page).get_by_role("button", name="Start training").wait_for()
    wait_idle(page)
    choose(page, "Recipe", "Linear baseline")
    main(page).get_by_text("Softmax regression on the pixels").wait_for()
    fill(page, "Images to train on", "3000", "spinbutton")
    fill(page, "Epochs", "3", "spinbutton")
    main(page).get_by_role("combobox", name="Settings to sweep").click()
    page.keyboard.type("batch_size")
    page.get_by_role("option", name="batch_size", exact=True).click()
    page.keyboard.press("Escape")
    wait_idle(page)
    fill(page, "batch_size values", "32, 256")
    start = main(page).get_by_role("button", name="Start sweep (2 runs)")
    start.wait_for()
    shoot(page, "sweep_form")
    start.click()

    main(page).get_by_text(re.compile(r"of 2 runs (done|finished)")).first.wait_for()
    main(page).get_by_text("2 of 2 runs finished").wait_for(timeout=180_000)
    main(page).get_by_text("reached the best test accuracy").wait_for()
    # two charts (validation loss and accuracy), each with one line per run
    wait_marks(page, MAIN, "line", 4)
    wait_idle(page)
    shoot(page, "sweep_done")
    legends = page.locator(f"{MAIN} [data-testid=stVegaLiteChart] .role-legend-label text").all_text_contents()
    assert sorted(set(legends)) == ["batch_size=256", "batch_size=32"]
    assert main(page).get_by_test_id("stVegaLiteChart").count() == 2
    text = main(page).inner_text()
    assert re.search(r"batch_size=\d+ was \d+\.\d\d points above batch_size=\d+", text)
    check_clean(page)

    nav(page, "Compare runs").click()
    page.get_by_role("heading", name="Settings and results").wait_for()
    choose(page, "Group", "Experiment: linear: batch_size 32, 256")
    wait_marks(page, MAIN, "line", 2)
    wait_idle(page)
    legends = page.locator(f"{MAIN} [data-testid=stVegaLiteChart] .role-legend-label text").all_text_contents()
    [experiment] = experiments.list_experiments(server["runs"])
    assert sorted(legends) == sorted(f.name for f in experiments.run_folders(experiment.id, server["runs"]))
    assert "Highlighted: the settings that differ between the chosen runs." in main(page).inner_text()
    main(page).get_by_role("button", name="Download this table (CSV)").wait_for()
    shoot(page, "compare_experiment")
    check_clean(page)
