"""The real app in headless Chromium: every page renders, and a training starts, draws its curve, survives a
page switch and a reload (reattached), and stops. Screenshots go to test-output/screenshots/."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PAGES = [("", "home"), ("data", "data"), ("train", "train"), ("evaluate", "evaluate"),
         ("feature_maps", "feature_maps"), ("classify", "classify"), ("compare", "compare")]
TITLES = {"home": "Fashion-MNIST Studio", "data": "The data", "train": "Train a model", "compare": "Compare runs"}

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    port = free_port()
    runs = tmp_path_factory.mktemp("e2e-runs")
    env = {**os.environ, "FMNIST_DATA_DIR": data_dir, "FMNIST_RUNS_DIR": str(runs)}
    env.pop("FMNIST_MAX_TRAININGS", None)
    log = open(tmp_path_factory.mktemp("e2e-log") / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/Home.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"streamlit did not start; see {log.name}")
        time.sleep(0.3)
    yield {"url": url, "runs": runs}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 2000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def open_page(pg, url: str):
    pg.goto(url)
    pg.wait_for_selector("h1")
    pg.wait_for_timeout(1500)        # let the first script run finish drawing


def main(pg):
    return pg.get_by_test_id("stMainBlockContainer")


@pytest.mark.parametrize("path,name", PAGES, ids=[n for _, n in PAGES])
def test_every_page_renders_without_a_traceback(server, page, path, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    open_page(page, f"{server['url']}/{path}")
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    title = page.locator("h1").first.inner_text().strip()
    assert title
    if name in TITLES:
        assert title == TITLES[name]
    assert page.get_by_test_id("stException").count() == 0, f"{name} shows an exception"
    assert "Traceback" not in main(page).inner_text()
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    for label in ("Home", "Data", "Train", "Evaluate", "Feature maps", "Classify", "Compare runs"):
        assert label in nav


def test_training_survives_page_switch_and_reload_then_stops(server, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    open_page(page, f"{server['url']}/train")
    limit = page.get_by_role("spinbutton", name="Images to train on")
    limit.fill("20000")
    limit.press("Enter")
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Start training").click()

    progress = main(page).get_by_test_id("stProgress")
    progress.wait_for()
    page.get_by_text("Training loss per batch").wait_for()              # the live batch-loss curve
    assert main(page).get_by_test_id("stVegaLiteChart").count() >= 1
    first = progress.inner_text()
    assert first.startswith("Epoch 1/3 · batch ")

    # another page, then back: the training went on meanwhile
    page.get_by_test_id("stSidebarNav").get_by_text("Data").click()
    page.get_by_role("heading", name="The data").wait_for()
    page.wait_for_timeout(2000)
    page.get_by_test_id("stSidebarNav").get_by_text("Train").click()
    progress.wait_for()
    page.wait_for_function(
        "() => { const p = document.querySelector('[data-testid=stMainBlockContainer] [data-testid=stProgress]');"
        f" return p && p.innerText.trim() !== {first.strip()!r}; }}")
    assert "running" in main(page).inner_text()

    # a reload is a new session: reattach from the list of trainings on this server
    page.reload()
    page.get_by_text("Nothing is training in this session yet").wait_for()
    page.get_by_role("button", name="Watch this training here").click()
    progress.wait_for()
    page.get_by_text("Loss per epoch").wait_for(timeout=120_000)      # first epoch done: epoch curves drawn
    page.screenshot(path=str(SHOTS / "train_running.png"))

    main(page).get_by_role("button", name="Stop").click()
    main(page).get_by_text("Stopped after").wait_for()
    main(page).get_by_role("link", name="Evaluate").wait_for()           # the full rerun after the end is drawn
    text = main(page).inner_text()
    assert "Test accuracy" in text and "stopped by request during epoch" in text
    page.screenshot(path=str(SHOTS / "train_stopped.png"))
    [run] = list(server["runs"].iterdir())
    assert (run / "best.safetensors").is_file() and (run / "summary.json").is_file()

    # the stopped run is on Compare runs, selected, with its curves
    page.get_by_test_id("stSidebarNav").get_by_text("Compare runs").click()
    page.get_by_role("heading", name="Settings and results").wait_for()
    page.wait_for_timeout(1500)
    assert run.name in main(page).get_by_test_id("stMultiSelect").inner_text()
    assert main(page).get_by_test_id("stVegaLiteChart").count() == 2
    page.screenshot(path=str(SHOTS / "compare_with_run.png"))
