"""The real app in headless Chromium: from a mistake on the Evaluate page to its explanation, then the learned
space — hover a point for its picture, drag a box to list its images, and a t-SNE that arrives in the
background with a progress bar. Screenshots go to test-output/screenshots/."""

import os
import time
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.test_browser import (  # noqa: F401
    CHROMIUM,
    MAIN,
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


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    with running_app(
        tmp_path_factory, data_dir, "explain", FMNIST_CACHE_DIR=str(tmp_path_factory.mktemp("cache"))
    ) as app:
        yield app["url"]


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": WIDTH, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    yield pg
    context.close()


def described(pg, chart: str, text: str, timeout: float | None = None):
    """Wait until the scatter `chart` is drawn on its canvas and its text description (aria-label) says `text`."""
    pg.wait_for_function(
        """([sel, text]) => { const c = document.querySelector(sel);
            return c && c.querySelector('canvas.marks') && (c.getAttribute('aria-label') || '').includes(text); }""",
        arg=[f"{chart} [data-testid=stVegaLiteChart]", text],
        timeout=timeout,
    )


def hover_a_point(pg, chart: str):
    """The scatter is one canvas: move over it until a point's tooltip shows."""
    box = pg.locator(f"{chart} canvas.marks").first.bounding_box()
    for y in range(10, 90, 4):
        for x in range(5, 95, 3):
            pg.mouse.move(box["x"] + box["width"] * x / 100, box["y"] + box["height"] * y / 100)
            if pg.locator("#vg-tooltip-element.visible").count():
                return
    pytest.fail("no point of the scatter shows a tooltip")


def test_a_mistake_opens_its_explanation(server, page):
    open_page(page, f"{server}/evaluate", "Evaluate a model")
    why = main(page).get_by_role("link", name="Why?")
    why.first.wait_for(timeout=180_000)
    href = why.first.get_attribute("href")
    query = parse_qs(urlparse(href).query)
    model, index = query["model"][0], int(query["index"][0])
    why.first.click()
    page.get_by_role("heading", name="Why did it say that?", level=1).wait_for()
    page.get_by_role("heading", name="Occlusion").wait_for()
    assert wait_images(page, f"{MAIN} [data-testid=stImage] img", 9) == 9  # the input and 4 methods x 2 classes
    wait_idle(page)
    text = main(page).inner_text()
    assert f"{model} says T-shirt/top" in text and "true class: Shirt" in text
    assert main(page).get_by_test_id("stNumberInput").locator("input").input_value() == str(index)
    for heading in ("Grad-CAM", "Gradient saliency", "Integrated Gradients", "Occlusion"):
        assert main(page).get_by_role("heading", name=heading).count() == 1
    assert "for Shirt (" in text and "for T-shirt/top (" in text
    shoot(page, "explain-from-evaluate")
    check_clean(page)


def test_embedding_scatter_hover_select_and_tsne(server, page):
    open_page(page, f"{server}/embedding", "The learned space")
    raw, learned = f"{MAIN} .st-key-embedding_pixels", f"{MAIN} .st-key-embedding_features"
    described(page, raw, "Scatter plot of 2,000 test images placed by raw pixels with PCA")
    described(page, learned, "Scatter plot of 2,000 test images placed by ")
    wait_idle(page)

    hover_a_point(page, learned)  # hover: the picture and labels
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible")
    page.wait_for_function(
        "() => { const i = document.querySelector('#vg-tooltip-element img');"
        " return i && i.complete && i.naturalWidth == 56; }"
    )
    assert "true" in tooltip.inner_text() and "predicted" in tooltip.inner_text()
    shoot(page, "embedding-hover")

    page.mouse.move(5, 5)
    tooltip.wait_for(state="hidden")
    box = page.locator(f"{learned} canvas.marks").first.bounding_box()  # drag a box over the middle
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.7, steps=8)
    page.mouse.up()
    listed = main(page).get_by_text("images in the box on")
    listed.wait_for()
    wait_idle(page)
    assert int(listed.inner_text().split()[0].replace(",", "")) > 0
    assert wait_images(page, f"{MAIN} [data-testid=stImage] img", 1) >= 1
    shoot(page, "embedding-selection")

    main(page).get_by_role("slider").press("ArrowLeft")  # 1,000 images: a quicker t-SNE
    described(page, learned, "Scatter plot of 1,000 test images")
    wait_idle(page)
    page.evaluate("""() => { window.sawProgress = false;                        // the work runs in the background
        new MutationObserver(() => { if (document.querySelector('[data-testid=stProgress]')) window.sawProgress = true; })
            .observe(document.body, {childList: true, subtree: true}); }""")
    main(page).get_by_text("t-SNE", exact=True).click()
    page.wait_for_function("() => window.sawProgress", timeout=240_000)
    # two layouts of 1,000 points (raw pixels, then the learned features): 20 s on a quiet 2-core machine, and
    # over two minutes when other work keeps both cores busy
    described(page, raw, "Scatter plot of 1,000 test images placed by raw pixels with t-SNE", timeout=300_000)
    described(page, learned, "with t-SNE")
    wait_idle(page)
    assert "t-SNE" in main(page).inner_text() and main(page).get_by_test_id("stProgress").count() == 0
    shoot(page, "embedding-tsne")
    check_clean(page)


def test_what_each_filter_looks_for(server, page):
    open_page(page, f"{server}/feature_maps", "Feature maps")
    main(page).get_by_text("Show what each filter looks for").click()
    heading = main(page).get_by_text("What each filter of")
    heading.first.wait_for(timeout=240_000)  # after the background pass
    wait_idle(page)
    assert heading.count() == 3  # lenet5: c1, c3, c5
    grids = page.locator(f"{MAIN} [data-testid=stImage]").filter(has_text="channel ")
    deadline = time.monotonic() + 60
    while grids.count() < 6 + 16 + 16 and time.monotonic() < deadline:  # the grids arrive one by one
        page.wait_for_timeout(250)
    assert grids.count() == 6 + 16 + 16
    wait_images(page, f"{MAIN} [data-testid=stImage] img", 38)
    shoot(page, "feature-maps-filter-top-images")
    check_clean(page)
