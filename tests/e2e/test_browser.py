"""The real app in headless Chromium. Every page is visited and waited on until its real content is drawn (images
decoded, charts rendered, the script run finished), checked, and shot full-page to test-output/screenshots/.
Classify gets a garment drawn with the mouse on its canvas and a real test image uploaded; a training starts,
draws its curve, survives a page switch and a reload (still its owner's), and stops."""

import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

from core.io import checkpoint
from core.library.catalog import SHIPPED_DIR

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WIDTH = 1400
NAV = ("Home", "Data", "Train", "Evaluate", "Feature maps", "Classify", "Compare runs")
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
UPLOAD_INDEX = 1  # a test Pullover the shipped lenet5 gets right with ~93% confidence

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(tmp_path_factory, data_dir: str, name: str, **env):
    """The real app (`streamlit run dashboard/Home.py`) on a free port, with its own runs folder and `env`
    added; yields {"url", "runs", "log"} and stops the server afterwards."""
    port = free_port()
    runs = tmp_path_factory.mktemp(f"{name}-runs")
    full_env = {**os.environ, "FMNIST_DATA_DIR": data_dir, "FMNIST_RUNS_DIR": str(runs), **env}
    full_env.pop("FMNIST_MAX_TRAININGS", None)
    log = open(tmp_path_factory.mktemp(f"{name}-log") / "streamlit.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "dashboard/Home.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
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
    try:
        yield {"url": url, "runs": runs, "log": log.name}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    with running_app(tmp_path_factory, data_dir, "e2e") as app:
        yield app


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    yield pg
    context.close()


# ---- waiting for real content -----------------------------------------------------------------------

MAIN = "[data-testid=stMainBlockContainer]"
IDLE_JS = (
    "() => !document.querySelector('[data-testid=stStatusWidget]')"
    f" && !document.querySelector('{MAIN} [data-testid=stSpinner]')"
    f" && !document.querySelector('{MAIN} [data-stale=true]')"
)
IMAGES_JS = """([selector, least]) => {
    const images = [...document.querySelectorAll(selector)];
    return images.length >= least && images.every(i => i.complete && i.naturalWidth > 0);
}"""


def main(pg):
    return pg.get_by_test_id("stMainBlockContainer")


def nav(pg, label: str):
    return pg.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True)


def open_page(pg, url: str, heading: str):
    pg.goto(url)
    pg.get_by_role("heading", name=heading, level=1).wait_for()


def wait_idle(pg):
    """The script run is over: no running indicator, no spinner, no element left over from the last run."""
    pg.wait_for_function(IDLE_JS)


def wait_images(pg, selector: str, least: int = 1):
    """At least `least` <img> under `selector`, every one of them decoded (naturalWidth > 0)."""
    pg.wait_for_function(IMAGES_JS, arg=[selector, least])
    return pg.locator(selector).count()


def marks(pg, scope: str, kind: str) -> int:
    """How many marks of a kind (rect, text, line, ...) the rendered Vega SVG charts under `scope` drew."""
    return pg.locator(f"{scope} [data-testid=stVegaLiteChart] svg.marks .mark-{kind} > *").count()


def wait_marks(pg, scope: str, kind: str, least: int):
    pg.wait_for_function(
        "([sel, least]) => document.querySelectorAll(sel).length >= least",
        arg=[f"{scope} [data-testid=stVegaLiteChart] svg.marks .mark-{kind} > *", least],
    )


def shoot(pg, name: str):
    """A full-page screenshot: Streamlit scrolls inside stMain, so grow the viewport to the content first."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = pg.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    size = pg.viewport_size
    pg.set_viewport_size({"width": WIDTH, "height": max(height, 600)})
    pg.wait_for_function(
        "() => { const m = document.querySelector('[data-testid=stMain]');"
        " return m.scrollHeight <= m.clientHeight + 1; }"
    )
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    pg.set_viewport_size(size)


def select_value(pg, label: str) -> str:
    """What a selectbox shows as chosen (Streamlit draws it in the combobox input or next to it)."""
    box = main(pg).get_by_test_id("stSelectbox").filter(has_text=label)
    return box.evaluate("""(el) => {
        const input = el.querySelector('input');
        if (input && input.value) return input.value;
        const shown = el.querySelector('[data-baseweb=select] [title], [data-baseweb=select] [value]');
        return shown ? (shown.getAttribute('title') || shown.getAttribute('value')) : el.innerText;
    }""").strip()


def check_clean(pg):
    assert pg.get_by_test_id("stException").count() == 0, main(pg).get_by_test_id("stException").all_inner_texts()
    assert "Traceback" not in main(pg).inner_text()
    links = pg.get_by_test_id("stSidebarNav").inner_text()
    for label in NAV:
        assert label in links


# ---- every page, finished -----------------------------------------------------------------------------


def test_home_lists_dataset_and_shipped_model(server, page):
    open_page(page, server["url"], "Fashion-MNIST Studio")
    found = main(page).get_by_text("Found Fashion-MNIST in")
    found.wait_for()
    assert "60,000 training and 10,000 test images" in found.inner_text()
    grid = main(page).locator("[data-testid=stDataFrame] table[role=grid]")
    page.wait_for_function("(el) => el.textContent.includes('lenet5')", arg=grid.element_handle())
    table = grid.text_content()
    assert "Model" in table and "Architecture" in table and "lenet5" in table and "LeNet-5" in table
    assert "shipped" in table
    main(page).get_by_role("link", name="Compare runs").wait_for()  # the last element: the page links
    wait_idle(page)
    shoot(page, "home")
    check_clean(page)


def test_data_shows_samples_and_class_balance(server, page):
    open_page(page, f"{server['url']}/data", "The data")
    # 16 samples, 10 mean images, 4 rows of original + 5 augmented copies
    shown = wait_images(page, f"{MAIN} [data-testid=stImage] img", 16 + 10 + 4 * 6)
    assert shown == 50
    wait_marks(page, MAIN, "rect", 20)  # class balance: 10 classes x 2 splits
    assert page.locator(f"{MAIN} [data-testid=stVegaLiteChart]").count() == 1
    assert "Perfectly balanced: 6,000 training and 1,000 test images per class" in main(page).inner_text()
    wait_idle(page)
    shoot(page, "data")
    check_clean(page)


def test_train_shows_the_form(server, page):
    open_page(page, f"{server['url']}/train", "Train a model")
    main(page).get_by_role("button", name="Start training").wait_for()
    wait_idle(page)
    assert select_value(page, "Architecture")
    assert main(page).get_by_role("heading", name="2 · Hyperparameters").is_visible()
    assert main(page).get_by_role("spinbutton", name="Images to train on").is_visible()
    assert main(page).get_by_text("trainable parameters with these settings").is_visible()
    shoot(page, "train")
    check_clean(page)


def test_evaluate_draws_the_matrix_and_opens_shirt_as_tshirt(server, page):
    open_page(page, f"{server['url']}/evaluate", "Evaluate a model")
    main(page).get_by_test_id("stMetric").filter(has_text="Test accuracy").wait_for(timeout=180_000)
    matrix = ".st-key-evaluate_matrix"
    wait_marks(page, matrix, "text", 100)  # a count in each of the 10x10 cells
    assert marks(page, matrix, "rect") == 100
    browse = main(page).get_by_text(re.compile(r"test images of Shirt predicted as T-shirt/top"))
    browse.wait_for()
    count = int(browse.inner_text().split()[0].replace(",", ""))
    assert count > 0
    assert select_value(page, "True class") == "Shirt"
    assert select_value(page, "Predicted as") == "T-shirt/top"
    main(page).get_by_role("button", name="Download all 10,000 test predictions (CSV)").wait_for()
    shown = wait_images(page, f"{MAIN} [data-testid=stImage] img", min(count, 24))
    assert shown == min(count, 24)
    wait_idle(page)
    captions = main(page).get_by_test_id("stCaptionContainer").filter(has_text="top 3:").all_inner_texts()
    assert len(captions) == shown
    assert all("true Shirt" in c and "predicted T-shirt/top" in c for c in captions)
    accuracy = main(page).get_by_test_id("stMetric").filter(has_text="Test accuracy").inner_text()
    assert re.search(r"\d\d\.\d\d%", accuracy)
    shoot(page, "evaluate")
    check_clean(page)


def test_feature_maps_draws_every_layer(server, page):
    open_page(page, f"{server['url']}/feature_maps", "Feature maps")
    main(page).get_by_role("heading", name="Layer by layer").wait_for(timeout=120_000)
    images = f"{MAIN} [data-testid=stImage] img"
    # the input, the filter grid, one grid per layer (and the pictures of the panels below them): wait until
    # every layer's grid is there and every picture decoded
    page.wait_for_function(
        f"""() => {{
            if (!({IDLE_JS})()) return false;
            const layers = [...document.querySelectorAll('{MAIN} [data-testid=stMarkdown]')]
                .filter(m => m.innerText.includes(' · output ')).length;
            const images = [...document.querySelectorAll('{images}')];
            return layers >= 4 && images.length >= 2 + layers
                && images.slice(0, 2 + layers).every(i => i.complete && i.naturalWidth > 0);
        }}"""
    )
    text = main(page).inner_text()
    assert "Prediction:" in text and "true class: Shirt" in text
    wait_marks(page, MAIN, "rect", 10)  # the probability bars
    sizes = page.evaluate(
        f"() => [...document.querySelectorAll('{images}')].map(i => [i.naturalWidth, i.naturalHeight])"
    )
    assert all(w > 28 and h > 28 for w, h in sizes), sizes
    shoot(page, "feature_maps")
    check_clean(page)


def test_feature_maps_a_click_on_the_channel_map_moves_the_patch(server, page):
    open_page(page, f"{server['url']}/feature_maps", "Feature maps")
    main(page).get_by_role("heading", name="One number, worked out by hand").wait_for(timeout=120_000)
    assert select_value(page, "Model").startswith("lenet5")  # c1.0 first: 28×28 cells, 5×5 kernel, padding 2
    chart = f"{MAIN} [class*=st-key-hand_map_]"
    wait_marks(page, chart, "rect", 28 * 28)
    wait_idle(page)
    where = main(page).get_by_text(re.compile(r"lies on input rows"))
    assert "lies on input rows -2 to 2 and columns -2 to 2" in where.inner_text()
    page.locator(chart).scroll_into_view_if_needed()  # a click lands only inside the viewport
    box = page.locator(f"{chart} svg.marks .mark-rect.role-mark").first.bounding_box()  # one square per cell
    row, col = 10, 20
    page.mouse.click(box["x"] + (col + 0.5) * box["width"] / 28, box["y"] + (row + 0.5) * box["height"] / 28)
    main(page).get_by_text("lies on input rows 8 to 12 and columns 18 to 22").wait_for()
    wait_marks(page, chart, "rect", 28 * 28)
    wait_idle(page)
    inputs = main(page).get_by_test_id("stNumberInput")
    assert inputs.filter(has_text="Row (0-27)").locator("input").input_value() == str(row)
    assert inputs.filter(has_text="Column (0-27)").locator("input").input_value() == str(col)
    label = page.locator(f"{chart} [data-testid=stVegaLiteChart]").first.get_attribute("aria-label") or ""
    assert f"The chosen cell, row {row}, column {col}, is outlined" in label
    main(page).get_by_role("button", name="Next cell").click()  # the buttons still step from the clicked cell
    main(page).get_by_text("lies on input rows 8 to 12 and columns 19 to 23").wait_for()
    wait_idle(page)
    main(page).get_by_role("heading", name="One number, worked out by hand").scroll_into_view_if_needed()
    shoot(page, "feature_maps_by_hand_click")
    check_clean(page)


def canvas_box(pg):
    """The drawing surface of streamlit-drawable-canvas (fabric's upper canvas, in the component's shadow DOM)."""
    surface = main(pg).locator("canvas.upper-canvas")
    surface.wait_for()
    surface.scroll_into_view_if_needed()
    return surface.bounding_box()


def draw_trousers(pg):
    """One stroke with the widest pen: up the left leg, across the waistband, down the right leg."""
    pen = main(pg).get_by_role("slider", name="Pen width")
    pen.focus()
    pen.press("End")
    main(pg).get_by_test_id("stSliderThumbValue").filter(has_text="40").wait_for()
    wait_idle(pg)
    box = canvas_box(pg)
    x, y = box["x"], box["y"]
    path = [(95, 265), (95, 35), (185, 35), (185, 265), (180, 265), (180, 40), (100, 40), (100, 265)]
    pg.mouse.move(x + path[0][0], y + path[0][1])
    pg.mouse.down()
    for px, py in path[1:]:
        pg.mouse.move(x + px, y + py, steps=12)
    pg.mouse.up()


def check_prediction(pg) -> str:
    """The preprocessing steps and the probability chart are drawn; returns the top prediction."""
    main(pg).get_by_role("heading", name="What the model receives").wait_for()
    top = main(pg).get_by_test_id("stMetric").filter(has_text="Top prediction")
    top.wait_for()
    wait_images(pg, f"{MAIN} [data-testid=stImage] img", 4)
    wait_marks(pg, MAIN, "rect", 10)
    wait_idle(pg)
    steps = main(pg).get_by_test_id("stImage").count()
    assert steps >= 4
    assert "What the model sees (28x28)" in main(pg).inner_text()
    assert main(pg).get_by_test_id("stVegaLiteChart").count() == 1
    value = top.get_by_test_id("stMetricValue").inner_text().strip()
    assert value in CLASSES
    assert re.search(r"\d+\.\d% sure", top.inner_text())
    return value


def choose_lenet5(pg):
    if not select_value(pg, "Model").startswith("lenet5 (shipped)"):
        box = main(pg).get_by_test_id("stSelectbox").filter(has_text="Model")
        box.click()
        pg.get_by_role("option", name=re.compile(r"^lenet5 \(shipped\)")).click()
        pg.wait_for_function(
            "(el) => el.querySelector('input').value.startsWith('lenet5 (shipped)')", arg=box.element_handle()
        )
        main(pg).get_by_test_id("stMetric").filter(has_text="Top prediction").wait_for()
        wait_idle(pg)
    assert select_value(pg, "Model").startswith("lenet5 (shipped)")


def test_classify_a_drawing_and_an_uploaded_test_image(server, page, fmnist):
    from PIL import Image

    open_page(page, f"{server['url']}/classify", "Classify your own picture")
    main(page).get_by_text("Draw something on the canvas to classify it.").wait_for()
    draw_trousers(page)
    drawn = check_prediction(page)
    choose_lenet5(page)
    assert "inverted: the background was light" in main(page).inner_text()  # dark pen on white canvas
    shoot(page, "classify_drawing")
    check_clean(page)
    print(f"the drawn trousers are classified as {drawn}")

    # a real test image, as a 28x28 PNG file, light garment on black like the dataset
    picture = io.BytesIO()
    Image.fromarray(fmnist.test_images[UPLOAD_INDEX].numpy()).save(picture, format="PNG")
    truth = CLASSES[int(fmnist.test_labels[UPLOAD_INDEX])]
    main(page).get_by_test_id("stRadio").filter(has_text="Picture").get_by_text("Upload", exact=True).click()
    main(page).get_by_text("Choose an image file to classify it.").wait_for()
    main(page).locator("input[type=file]").set_input_files(
        {"name": f"test-{UPLOAD_INDEX}.png", "mimeType": "image/png", "buffer": picture.getvalue()}
    )
    main(page).get_by_text(f"test-{UPLOAD_INDEX}.png").wait_for()
    main(page).get_by_role("heading", name="What the model receives").wait_for()
    choose_lenet5(page)
    assert check_prediction(page) == truth
    assert "kept: the background was already dark" in main(page).inner_text()  # no inversion of a dataset image
    shoot(page, "classify_upload")
    check_clean(page)


def test_compare_on_a_fresh_install_lists_the_shipped_models(server, page):
    open_page(page, f"{server['url']}/compare", "Compare runs")
    page.get_by_role("heading", name="Settings and results").wait_for()
    main(page).locator("[data-testid=stVegaLiteChart]").first.wait_for()  # every shipped model has curves
    wait_idle(page)
    chosen = main(page).get_by_test_id("stMultiSelect").inner_text()
    accuracy = checkpoint.read_metadata(SHIPPED_DIR / "lenet5.safetensors")["metrics"]["test_accuracy"]
    assert f"shipped: lenet5 (shipped) — test {accuracy:.2%}" in chosen
    assert "No per-epoch history recorded" not in main(page).inner_text()
    main(page).get_by_role("button", name="Download this table (CSV)").wait_for()
    shoot(page, "compare")
    check_clean(page)


def test_training_survives_page_switch_and_reload_then_stops(server, page):
    open_page(page, f"{server['url']}/train", "Train a model")
    main(page).get_by_role("button", name="Start training").wait_for()
    wait_idle(page)
    limit = page.get_by_role("spinbutton", name="Images to train on")
    limit.fill("20000")
    limit.press("Enter")
    wait_idle(page)
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("8")  # long enough that it is still running when Stop is pressed, under load too
    epochs.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Start training").click()

    progress = main(page).get_by_test_id("stProgress")
    progress.wait_for()
    page.get_by_text("Training loss per batch").wait_for()  # the live batch-loss curve
    assert main(page).get_by_test_id("stVegaLiteChart").count() >= 1
    first = progress.inner_text()
    assert first.startswith("Epoch 1/8 · batch ")

    # another page, then back: the training went on meanwhile
    nav(page, "Data").click()
    page.get_by_role("heading", name="The data").wait_for()
    wait_images(page, f"{MAIN} [data-testid=stImage] img", 50)  # meanwhile the training goes on
    nav(page, "Train").click()
    progress.wait_for()
    page.wait_for_function(
        "() => { const p = document.querySelector('[data-testid=stMainBlockContainer] [data-testid=stProgress]');"
        f" return p && p.innerText.trim() !== {first.strip()!r}; }}"
    )
    assert "running" in main(page).inner_text()

    # a reload is a new session of the same browser: the training is still shown, and still ours
    page.reload()
    progress.wait_for()
    main(page).get_by_role("button", name="Stop", exact=True).wait_for()
    page.get_by_text("Loss per epoch").wait_for(timeout=120_000)  # first epoch done: epoch curves drawn
    wait_marks(page, MAIN, "line", 2)
    shoot(page, "train_running")

    main(page).get_by_role("button", name="Stop", exact=True).click()
    main(page).get_by_text("Stopped after").wait_for()
    main(page).get_by_role("link", name="Evaluate").wait_for()  # the full rerun after the end is drawn
    text = main(page).inner_text()
    assert "Test accuracy" in text and "stopped by request during epoch" in text
    shoot(page, "train_stopped")
    [run] = [p for p in server["runs"].iterdir() if (p / "config.json").is_file()]
    assert (run / "best.safetensors").is_file() and (run / "summary.json").is_file()
    assert json.loads((run / "config.json").read_text())["limit"] == 20000

    # the stopped run is on Compare runs, selected, with its curves
    nav(page, "Compare runs").click()
    page.get_by_role("heading", name="Settings and results").wait_for()
    main(page).get_by_test_id("stMultiSelect").filter(has_text=run.name).wait_for()
    # two charts: the runs' curves, and the history panel's weight and gradient histograms after an epoch
    page.wait_for_function(
        f"() => document.querySelectorAll('{MAIN} [data-testid=stVegaLiteChart] svg.marks').length == 2"
    )
    wait_idle(page)
    assert run.name in main(page).get_by_test_id("stMultiSelect").inner_text()
    assert main(page).get_by_test_id("stVegaLiteChart").count() == 2
    assert main(page).get_by_text("Recorded after epoch 1").count() + main(page).get_by_text("After epoch").count()
    shoot(page, "compare_with_run")
