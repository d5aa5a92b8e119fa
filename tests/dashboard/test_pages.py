"""The page records: the navigation holds exactly them, Home lists every other page, every link between pages goes
through them to a page that exists, and one more record is all a new page needs."""

import ast
from pathlib import Path

import pytest

from core.library import catalog
from dashboard import pages
from tests.dashboard.studio_app import forget_caches, open_page

DASHBOARD = Path(pages.__file__).resolve().parent


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    forget_caches()
    yield
    forget_caches()


def navigation(at) -> list[tuple]:
    """What st.navigation registered, in order: (script, title, icon, URL path)."""
    return [
        (Path(info["script_path"]), info["page_name"], info["icon"], info["url_pathname"])
        for info in at._registered_pages.values()
    ]


def links(at) -> list[tuple]:
    return [(link.proto.label, link.proto.icon, link.proto.page) for link in at.get("page_link")]


def test_the_navigation_is_exactly_the_records():
    at = open_page()
    assert navigation(at) == [
        (page.path, page.title, page.icon, "" if page.default else page.name) for page in pages.PAGES
    ]
    assert [page.title for page in pages.PAGES] == [
        "Home",
        "Data",
        "Data lab",
        "Train",
        "Evaluate",
        "Feature maps",
        "Explain",
        "Embedding",
        "Classify",
        "Teach",
        "Challenge",
        "Compare runs",
        "Models",
        "Class",
    ]
    assert all(page.path.is_file() for page in pages.PAGES)
    assert len({page.name for page in pages.PAGES}) == len(pages.PAGES)
    assert [page.name for page in pages.PAGES if page.default] == ["home"]


def test_home_lists_every_other_page_with_its_record():
    at = open_page()
    others = [page for page in pages.PAGES if not page.default]
    assert links(at) == [(page.title, page.icon, page.name) for page in others]
    captions = [c.value for c in at.caption]
    assert [page.description for page in others] == [c for c in captions if c in {p.description for p in others}]
    assert "why a model gave its answer on one picture, four attribution methods side by side" in captions


def test_a_link_points_to_its_record(monkeypatch, tmp_path):
    empty = tmp_path / "no-shipped"
    empty.mkdir()
    monkeypatch.setattr(catalog, "SHIPPED_DIR", empty)
    at = open_page("views/compare.py")
    registered = {info["page_script_hash"]: info for info in at._registered_pages.values()}
    [link] = at.get("page_link")
    train = pages.named("train")
    assert (link.proto.label, link.proto.icon, link.proto.page) == ("Train a model", train.icon, "train")
    assert Path(registered[link.proto.page_script_hash]["script_path"]) == train.path


def test_an_unknown_page_name_says_which_exist():
    with pytest.raises(KeyError, match="no page named 'lab'; the pages are home, data, data_lab, train, evaluate"):
        pages.named("lab")


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            yield (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)), node


def test_every_link_in_the_dashboard_goes_through_a_record():
    """No page_link or switch_page outside pages.py; every name handed to pages.link is a record's."""
    from dashboard.train import train_panel

    named = []
    for source in sorted(DASHBOARD.rglob("*.py")):
        tree = ast.parse(source.read_text(), filename=str(source))
        for name, call in _calls(tree):
            if name in ("page_link", "switch_page"):
                assert source == DASHBOARD / "pages.py", f"{source.relative_to(DASHBOARD)} links around the records"
            if name in ("link", "link_to") and call.args and isinstance(call.args[0], ast.Constant):
                named.append((source.relative_to(DASHBOARD).as_posix(), call.args[0].value))
    assert {("views/compare.py", "train"), ("views/evaluate.py", "explain")} <= set(named)  # the scan sees them
    for _, name in named:
        pages.named(name)
    assert [pages.named(name).title for name in train_panel.ON_EVERY_PAGE] == [
        "Evaluate",
        "Feature maps",
        "Classify",
        "Compare runs",
    ]


def test_a_new_page_is_one_record(monkeypatch, tmp_path):
    view = tmp_path / "lab.py"
    view.write_text('import streamlit as st\n\nst.title("Data lab")\n')
    lab = pages.Page(str(view), "Data lab", ":material/science:", "try things on the data")
    monkeypatch.setattr(pages, "PAGES", (*pages.PAGES, lab))
    at = open_page()
    assert navigation(at)[-1] == (view, "Data lab", ":material/science:", "lab")
    assert links(at)[-1] == ("Data lab", ":material/science:", "lab")
    assert "try things on the data" in [c.value for c in at.caption]
    at.switch_page(str(view)).run()
    assert at.title[0].value == "Data lab" and not at.exception
