"""Any address is safe: every page, fed random text for every parameter it reads, runs without an exception and
answers anything odd with one line; the old owner parameter always leaves the address."""

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from core.library import catalog
from dashboard import pages, url_params
from tests.dashboard.studio_app import HOME, forget_caches

ODD = ["", " ", "²", "①", "５", "9" * 5000, "-1", "1e3", "0x10", "10000", "٣", "\x00", "%", "../../etc", "<b>x</b>"]
TEXT = st.sampled_from(ODD) | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)


@pytest.fixture(scope="module", autouse=True)
def environment(data_dir, tmp_path_factory):
    """One small shipped model and an empty runs folder: every page has something to draw, quickly."""
    shipped = tmp_path_factory.mktemp("shipped")
    shutil.copy(catalog.SHIPPED_DIR / "lenet5.safetensors", shipped)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(catalog, "SHIPPED_DIR", shipped)
        mp.setenv("FMNIST_DATA_DIR", data_dir)
        mp.setenv("FMNIST_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
        forget_caches()
        yield
    forget_caches()


def reads(page: pages.Page) -> tuple[str, ...]:
    return url_params.EVERY_PAGE + url_params.PARAMS.get(page.name, ())


def open_with(page: pages.Page, query: dict) -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=120)
    at.query_params.update(query)
    at.run()
    if not page.default:
        at.query_params.update(query)  # Home's run took the old owner parameter out: give the page its own
        at.switch_page(page.view).run()
    return at


@pytest.mark.parametrize("page", pages.PAGES, ids=lambda p: p.name)
def test_every_page_takes_any_value_of_every_parameter_it_reads(page):
    examples = 15 if page.name in url_params.PARAMS else 4

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.fixed_dictionaries({name: TEXT for name in reads(page)}))
    def check(query):
        at = open_with(page, query)
        assert not at.exception, [e.message for e in at.exception]
        assert all("\n" not in e.value and len(e.value) < 400 for e in at.error), [e.value for e in at.error]
        assert "owner" not in at.query_params

    check()


@pytest.mark.parametrize(
    "value, line",
    [
        ("²", "Test image index '²' does not exist: use a number from 0 to 9,999."),
        ("①", "Test image index '①' does not exist: use a number from 0 to 9,999."),
        ("５", "Test image index '５' does not exist: use a number from 0 to 9,999."),
        (
            "1" + "0" * 30,
            "Test image index '1000000000000000000000000000000' does not exist: use a number from 0 to 9,999.",
        ),
        ("5" * 5000, "The link's index is 5,000 characters long, too long to be one: it is ignored."),
    ],
    ids=["superscript", "circled", "full-width", "30 digits", "5,000 digits"],
)
def test_odd_test_image_indexes_are_one_line(value, line):
    at = open_with(pages.PAGES[[p.name for p in pages.PAGES].index("explain")], {"index": value})
    assert not at.exception and [e.value for e in at.error] == [line]
    assert "Gradient saliency" in [s.value for s in at.subheader]  # the page goes on with its defaults


def test_the_index_helper_takes_ascii_digits_in_range_only():
    assert [url_params.whole_number(v, 0, 9_999) for v in ("0", " 42 ", "9999", "10000", "-1", "4.0", "٣", "")] == [
        0,
        42,
        9999,
        None,
        None,
        None,
        None,
        None,
    ]
