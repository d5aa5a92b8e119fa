"""A browser's identity lives in its cookie, never in the address: an old `?owner=` link is moved into the
cookie of a browser that has none and taken out of the address, and never replaces a cookie. (AppTest
cannot send cookies, so the cookie the browser sent is stood in for by `classroom.browser_cookie`.)"""

import pytest
from streamlit.testing.v1 import AppTest

from core.serving import ownership
from dashboard import classroom
from tests.dashboard.studio_app import HOME, forget_caches

MINE, COPIED = ownership.new_secret(), ownership.new_secret()


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    forget_caches()
    yield
    forget_caches()


def visit(monkeypatch, cookie, **query) -> AppTest:
    monkeypatch.setattr(classroom, "browser_cookie", lambda: cookie)
    at = AppTest.from_file(HOME, default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception
    return at


def cookie_written(at) -> str | None:
    """The secret the page's script writes into the browser's cookie, if it writes one."""
    scripts = [h.proto.body for h in at.sidebar.get("html") if classroom.COOKIE in h.proto.body]
    return scripts[0].split(f"{classroom.COOKIE}=")[1].split(";")[0] if scripts else None


def test_a_new_browser_gets_a_secret_in_its_cookie_not_in_its_address(monkeypatch):
    at = visit(monkeypatch, None)
    secret = at.session_state["owner_secret"]
    assert ownership.looks_like_secret(secret) and "owner" not in at.query_params
    assert cookie_written(at) == secret
    at.run()  # the same session: the same secret
    assert at.session_state["owner_secret"] == secret and "owner" not in at.query_params


def test_a_browser_with_its_cookie_keeps_it_whatever_the_address_says(monkeypatch):
    at = visit(monkeypatch, MINE, owner=COPIED)  # a link copied from another browser's address bar
    assert at.session_state["owner_secret"] == MINE
    assert "owner" not in at.query_params and cookie_written(at) is None  # nothing to write: the cookie stays


def test_an_old_link_moves_into_the_cookie_of_a_browser_that_has_none(monkeypatch):
    at = visit(monkeypatch, None, owner=COPIED)
    assert at.session_state["owner_secret"] == COPIED
    assert "owner" not in at.query_params and cookie_written(at) == COPIED


def test_an_odd_owner_parameter_is_dropped(monkeypatch):
    at = visit(monkeypatch, "garbage!", owner="<script>alert(1)</script>")
    secret = at.session_state["owner_secret"]
    assert secret not in ("garbage!", "<script>alert(1)</script>") and ownership.looks_like_secret(secret)
    assert "owner" not in at.query_params and cookie_written(at) == secret


def digest_page():
    import streamlit as st

    from dashboard import classroom

    st.text(classroom.my_digest())


def test_my_digest_is_the_one_digest_of_this_browsers_secret_and_draws_nothing_once_the_secret_is_known(monkeypatch):
    monkeypatch.setattr(classroom, "browser_cookie", lambda: None)
    fresh = AppTest.from_function(digest_page, default_timeout=30)
    fresh.run()  # no secret yet in this session: it is made (and the cookie written) first
    secret = fresh.session_state["owner_secret"]
    assert [t.value for t in fresh.text] == [ownership.digest(secret)] and cookie_written(fresh) == secret
    known = AppTest.from_function(digest_page, default_timeout=30)
    known.session_state["owner_secret"] = MINE  # as Home.py leaves it before every page (and polled fragment)
    known.run()
    assert [t.value for t in known.text] == [ownership.digest(MINE)] != [MINE]
    assert not known.sidebar.get("html")  # nothing drawn: safe inside a fragment or a button's callback
