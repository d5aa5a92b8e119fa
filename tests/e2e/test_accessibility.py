"""WCAG 2.1 A and AA on every page, checked by axe-core in Chromium: on a fresh install and with a training
running, at a desktop and at a phone-sized viewport. Each page is waited on until it has finished drawing
(script run over, images decoded, charts drawn, no spinner), then axe-core runs with the WCAG 2 A/AA rules in
the page and in its component frames, and every chart must have a text description; any violation fails the test
with the rule, its impact and the elements (all of them in test-output/accessibility/)."""

import json
import os
import re
import signal
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.base")

from tests.e2e.test_browser import (  # noqa: E402  (after the importorskip)
    CHROMIUM,
    MAIN,
    browser,  # noqa: F401  (a fixture)
    main,
    running_app,
    wait_idle,
)

ROOT = Path(__file__).resolve().parents[2]
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"desktop": {"width": 1400, "height": 1000}, "phone": {"width": 390, "height": 844}}

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


def studio_pages() -> list[tuple[str, str]]:
    """(title, URL path) of every page, from the one record of pages the navigation is built from."""
    from dashboard.pages import PAGES as RECORDS

    return [(page.title, "" if page.default else page.name) for page in RECORDS]


PAGES = studio_pages()

# Drawn: the title is there, the script run is over, every image is decoded, every chart has its marks.
DRAWN_JS = f"""() => {{
    const main = document.querySelector('{MAIN}');
    if (!main || !main.querySelector('h1')) return false;
    if (main.querySelector('[data-testid=stSpinner], [data-testid=stSkeleton], [data-stale=true]')) return false;
    if (document.querySelector('[data-testid=stStatusWidget]')) return false;
    const images = [...main.querySelectorAll('img')];
    if (!images.every(i => i.complete && i.naturalWidth > 0)) return false;
    return [...main.querySelectorAll('[data-testid=stVegaLiteChart]')]
        .every(c => c.querySelector('svg.marks, canvas.marks'));
}}"""

# Settled: nothing in the page changed for `quiet` ms (pages that poll live work never settle: give up at `most`;
# they are drawn by then, and axe-core reads them as they are).
SETTLED_JS = """([quiet, most]) => new Promise(done => {
    let timer = setTimeout(finish, quiet);
    const watch = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(finish, quiet); });
    const cap = setTimeout(finish, most);
    function finish() { watch.disconnect(); clearTimeout(timer); clearTimeout(cap); done(); }
    watch.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
})"""

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}


def wait_drawn(pg):
    pg.wait_for_function(DRAWN_JS, timeout=240_000)
    pg.evaluate(SETTLED_JS, [1500, 8_000])
    pg.wait_for_function(DRAWN_JS, timeout=240_000)


def axe_violations(pg) -> list[dict]:
    """axe-core's WCAG 2 A/AA violations in the page and every frame of it (the drawing canvas is a frame)."""
    script = axe_playwright.AXE_SCRIPT
    for frame in pg.frames:
        if frame != pg.main_frame:
            frame.evaluate(script)
    pg.evaluate(script)
    return pg.evaluate("options => axe.run(document, options).then(r => r.violations)", AXE_OPTIONS)


def undescribed_charts(pg) -> list[dict]:
    """The studio's own rule, beyond axe-core's: every chart has a text description (Vega-Lite's `description`,
    which Vega gives the chart as its aria-label), the one thing a screen reader says of it. In axe's format."""
    missing = pg.evaluate(
        f"() => [...document.querySelectorAll('{MAIN} [data-testid=stVegaLiteChart]')]"
        "  .filter(c => !(c.getAttribute('aria-label') || '').trim())"
        "  .map(c => ({html: c.outerHTML.slice(0, 140), failureSummary: 'Fix this:\\n  ' +"
        "    'no text description; its title: ' + ([...c.querySelectorAll('.role-title-text text')].map(t => t.textContent).join(' ') || 'none')}))"
    )
    if not missing:
        return []
    return [
        {
            "id": "chart-description",
            "impact": "serious",
            "help": "Charts must have a text description",
            "nodes": missing,
        }
    ]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}, {len(v['nodes'])}x): {v['help']}")
        for node in v["nodes"][:8]:
            why = [line.strip() for line in (node.get("failureSummary") or "").splitlines()[1:2]]
            lines.append(f"      {node['html'][:140]}: {' '.join(why)[:220]}")
        if len(v["nodes"]) > 8:
            lines.append(f"      ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def check_page(context, url: str, title: str, path: str, viewport: str, state: str) -> None:
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    try:
        pg.goto(f"{url}/{path}")
        wait_drawn(pg)
        wait_idle(pg)
        assert pg.get_by_test_id("stException").count() == 0, main(pg).inner_text()[:2000]
        heading = main(pg).get_by_role("heading", level=1).first.inner_text()
        violations = axe_violations(pg) + undescribed_charts(pg)
        name = re.sub(r"\W+", "_", title.lower())
        report = test_output() / f"axe-{state}-{name}-{viewport}.json"
        report.write_text(json.dumps(violations, indent=1))
        if violations:
            pytest.fail(
                f"{title} ({state}, {viewport}, heading {heading!r}): {len(violations)} accessibility rules violated\n"
                + describe(violations),
                pytrace=False,
            )
    finally:
        pg.close()


def test_output() -> Path:
    folder = ROOT / "test-output" / "accessibility"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


test_output.__test__ = False


@pytest.fixture(scope="module")
def studio(data_dir, tmp_path_factory):
    # The training below (200 epochs of 20,000 images) must outlast every check: over the default per-training
    # cap. It runs as the studio's trainings do by default, in a worker process on the studio's local Ray, which
    # the module ends (by process id) once the server has stopped.
    from core.serving import ray_runner

    settings, app = dict(FMNIST_MAX_IMAGES="12000000", FMNIST_TRAINING_EXECUTOR="ray"), None
    try:
        with running_app(tmp_path_factory, data_dir, "a11y", **settings) as app:
            yield app
    finally:
        if app is not None:
            ray_runner.stop_local_head(app["runs"])


@pytest.fixture(scope="module")
def visitor(browser):  # noqa: F811
    """One browser per viewport that opens every page, as a visitor going from page to page: a page's checks start
    from a fresh page load, and the browser's cache of the app's scripts is kept between them."""
    contexts = {name: browser.new_context(viewport=size) for name, size in VIEWPORTS.items()}
    yield contexts
    for context in contexts.values():
        context.close()


def runs_in(app) -> list[Path]:
    return [p for p in Path(app["runs"]).iterdir() if (p / "config.json").is_file()]


@pytest.fixture(scope="module")
def training(studio, browser):  # noqa: F811
    """A training started on the Train page that outlasts every check; stopped at the end."""
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    pg.goto(f"{studio['url']}/train")
    main(pg).get_by_role("button", name="Start training").wait_for()
    wait_idle(pg)
    for name, value in (("Images to train on", "20000"), ("Epochs", "200")):  # the most epochs: long
        field = pg.get_by_role("spinbutton", name=name)
        field.fill(value)
        field.press("Enter")
        wait_idle(pg)
    pg.get_by_role("button", name="Start training").click()
    main(pg).get_by_test_id("stProgress").wait_for()
    pg.get_by_text("Loss per epoch").wait_for(timeout=240_000)  # an epoch done: a checkpoint and a history exist
    [run] = runs_in(studio)
    # Its worker is paused while the pages are checked: the training stays running in every page's eyes (alive,
    # owned, stoppable), and takes no CPU from the checks and the other tests.
    worker = training_worker(studio["runs"])
    os.kill(worker, signal.SIGSTOP)
    try:
        yield run
    finally:
        os.kill(worker, signal.SIGCONT)
    pg.goto(f"{studio['url']}/train")  # stopped, wherever it runs (a worker may outlive the server)
    stop = main(pg).get_by_role("button", name="Stop", exact=True)
    stop.click()
    stop.wait_for(state="detached", timeout=240_000)  # the training ended
    context.close()


def training_worker(runs_root) -> int:
    """The process id of the one training's worker, from the events it reports to the server."""
    from core.serving import job_events

    [record] = [json.loads(p.read_text()) for p in job_events.jobs_dir(runs_root).glob("job-*.json")]
    events = job_events.events_path(runs_root, record["id"], record["started"]).read_text().splitlines()
    [pid] = [e["pid"] for e in map(json.loads, events) if e.get("event") == "worker"]
    return pid


def test_pages_come_from_the_navigation(studio, browser):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    pg = context.new_page()
    try:
        pg.goto(studio["url"])
        links = pg.get_by_test_id("stSidebarNav").get_by_role("link")
        links.first.wait_for()
        more = pg.get_by_test_id("stSidebar").get_by_text(re.compile(r"^View \d+ more$"))
        if more.count():  # a long navigation shows its first pages until asked for the rest
            more.click()
            pg.get_by_test_id("stSidebar").get_by_text("View less").wait_for()
        shown = [t.strip().splitlines()[-1] for t in links.all_inner_texts()]  # after the icon's ligature
    finally:
        context.close()
    assert shown == [title for title, _ in PAGES]
    assert len(PAGES) >= 10 and PAGES[0] == ("Home", "")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("title,path", PAGES, ids=[p or "home" for _, p in PAGES])
def test_fresh_install(studio, visitor, title, path, viewport):
    assert runs_in(studio) == [], "not a fresh install: a training ran before this check"
    check_page(visitor[viewport], studio["url"], title, path, viewport, "fresh")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("title,path", PAGES, ids=[p or "home" for _, p in PAGES])
def test_with_a_training_running(studio, training, visitor, title, path, viewport):
    check_page(visitor[viewport], studio["url"], title, path, viewport, "training")
    assert not (training / "summary.json").exists(), "the training ended before this check"
