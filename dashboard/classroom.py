"""Who is asking: this browser's owner secret and whether the teacher's key was typed in this session.

The secret is created once per browser and kept in the page's URL (`?owner=...`, so a reload keeps it) and in
a cookie (so a new tab of the same browser finds it too). The server only ever stores its digest. The
teacher's key is typed once into the sidebar, checked in constant time, and never kept or shown.
"""

import streamlit as st

from core.serving import ownership

OWNER_PARAM = "owner"
COOKIE = "fmnist_owner"
COOKIE_DAYS = 30


def owner_secret() -> str:
    """This browser's secret: from the URL, else the cookie, else a new one; written back to both."""
    secret = st.session_state.get("owner_secret")
    if secret is None:
        candidates = (st.query_params.get(OWNER_PARAM), st.context.cookies.get(COOKIE))
        secret = next((c for c in candidates if ownership.looks_like_secret(c)), None) or ownership.new_secret()
        st.session_state.owner_secret = secret
    if st.query_params.get(OWNER_PARAM) != secret:
        st.query_params[OWNER_PARAM] = secret
    if st.context.cookies.get(COOKIE) != secret and not st.session_state.get("owner_cookie_set"):
        st.session_state.owner_cookie_set = True
        # secret is URL-safe (letters, digits, - and _): nothing here needs escaping
        st.sidebar.html(
            f"<script>document.cookie = '{COOKIE}={secret}; path=/; max-age={COOKIE_DAYS * 86400}; "
            "SameSite=Strict';</script>",
            unsafe_allow_javascript=True,
        )
    return secret


def is_teacher() -> bool:
    return bool(st.session_state.get("teacher")) and ownership.teacher_key_set()


def _check_key() -> None:
    typed = st.session_state.get("teacher_key", "")
    st.session_state.teacher_key = ""  # never kept, never shown again
    st.session_state.teacher = ownership.is_teacher_key(typed)
    st.session_state.teacher_refused = bool(typed) and not st.session_state.teacher


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
                st.caption("That is not the teacher key.")
