"""Who is asking: this browser's owner secret and whether the teacher's key was typed in this session.

The secret is created once per browser and kept in a cookie, so a reload and a new tab of the same browser
find it; it never appears in an address, so a copied link carries no rights. An old link that still has
`?owner=...` gives its secret only to a browser that has none yet (core.serving.ownership.browser_secret), and
the parameter is always taken out of the address. The server only ever stores the secret's digest. The
teacher's key is typed into the sidebar, checked in constant time, never kept or shown, and a browser that
types 5 wrong keys must wait before each further try.
"""

import streamlit as st

from core.base.errors import StudioError
from core.serving import ownership

OWNER_PARAM = "owner"  # where old links carried the secret
COOKIE = "fmnist_owner"
COOKIE_DAYS = 30


def browser_cookie() -> str | None:
    """The owner cookie this browser sent when the page connected (None if none)."""
    return st.context.cookies.get(COOKIE)


def owner_secret() -> str:
    """This browser's secret (see the module docstring); written to the cookie when the browser lacks it."""
    secret = st.session_state.get("owner_secret")
    if secret is None:
        secret = ownership.browser_secret(browser_cookie(), st.query_params.get(OWNER_PARAM))
        st.session_state.owner_secret = secret
    if OWNER_PARAM in st.query_params:
        del st.query_params[OWNER_PARAM]
    if browser_cookie() != secret:  # on every run until the browser reconnects with it, in case a run was cut short
        # the secret is URL-safe (letters, digits, - and _): nothing here needs escaping
        st.sidebar.html(
            f"<script>document.cookie = '{COOKIE}={secret}; path=/; max-age={COOKIE_DAYS * 86400}; SameSite=Strict'"
            " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
            unsafe_allow_javascript=True,
        )
    return secret


def my_digest() -> str:
    """What the server records of this browser: the digest of its secret. Draws nothing once the secret is known
    (Home.py asks for it at the top of every run), so a polled fragment or a button's callback may call it."""
    secret = st.session_state.get("owner_secret")
    return ownership.digest(secret if secret is not None else owner_secret())


def is_teacher() -> bool:
    return bool(st.session_state.get("teacher")) and ownership.teacher_key_set()


def _check_key() -> None:
    typed = st.session_state.get("teacher_key", "")
    st.session_state.teacher_key = ""  # never kept, never shown again
    try:
        st.session_state.teacher = ownership.KEY_TRIES.check(st.session_state.get("owner_secret", ""), typed)
    except StudioError as e:
        st.session_state.teacher, st.session_state.teacher_refused = False, f"{e}".capitalize()
        return
    st.session_state.teacher_refused = "That is not the teacher key." if typed and not st.session_state.teacher else ""


def teacher_sidebar() -> None:
    """The teacher's key field (only on a server that has a key); once accepted, a way to leave teacher mode."""
    if not ownership.teacher_key_set():
        return
    with st.sidebar:
        if is_teacher():
            st.success(
                "Teacher mode: you can stop any training, clear the queue and delete any run.", icon=":material/school:"
            )
            if st.button("Leave teacher mode", key="teacher_leave"):
                st.session_state.teacher = False
                st.rerun()
        else:
            st.text_input(
                "Teacher key",
                type="password",
                key="teacher_key",
                on_change=_check_key,
                help="The key the server was started with (FMNIST_TEACHER_KEY).",
            )
            if st.session_state.get("teacher_refused"):
                st.caption(st.session_state.teacher_refused)
