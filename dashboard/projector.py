"""Projector view: any page as a room reads it on a wall: large type, no sidebar, charts a screen high.

It is switched on by the sidebar's toggle or by the address (`?projector=1`; `?projector=0` switches it off), and
stays on for the browser tab's session until switched off. Pages with charts ask `height`, `font` and `style`
for their sizes, so a chart fills one screen in this view (Train's live curves, the Challenge, Evaluate's
confusion matrix).
"""

import streamlit as st

from dashboard import url_params

PARAM = "projector"
KEY = "projector"  # the sidebar toggle's state: on or off for this session
SCREEN_HEIGHT = 640  # pixels: a chart's height in this view, about one projected screen under the page's title
SCALE = 1.6  # type in charts grows by this much

STYLE = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
html { font-size: 22px; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding: 1.5rem 2.5rem 3rem; }
[data-testid="stMain"] h1 { font-size: 2.6rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.25rem; }
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p { font-size: 2.4rem; }
[data-testid="stVegaLiteChart"] { margin-bottom: 2rem; }
@media (max-width: 640px) {  /* a phone: its narrow width goes to the charts, not to the margins */
  [data-testid="stMainBlockContainer"] { padding: 1rem 0.6rem 2rem; }
}
</style>"""


def on() -> bool:
    """Whether this session shows pages in projector view."""
    return bool(st.session_state.get(KEY))


def _projected(projected: bool | None) -> bool:
    """`projected` as given, or this session's view when it is None."""
    return on() if projected is None else projected


def height(normal: int, projected: bool | None = None) -> int:
    """A chart's height: `normal`, or a screen's in projector view (`projected`; this session's view if None)."""
    return max(normal, SCREEN_HEIGHT) if _projected(projected) else normal


def font(normal: float, projected: bool | None = None) -> float:
    """A font size in a chart: `normal`, or larger in projector view (`projected` as in `height`)."""
    return round(normal * SCALE) if _projected(projected) else normal


def style(chart, projected: bool | None = None):
    """An Altair chart with its axes, legend and title sized for the room in projector view (as is otherwise;
    `projected` as in `height`)."""
    if not _projected(projected):
        return chart
    return (
        chart.configure_axis(labelFontSize=font(11, True), titleFontSize=font(12, True))
        .configure_legend(labelFontSize=font(11, True), titleFontSize=font(12, True))
        .configure_title(fontSize=font(14, True))
    )


def _from_address() -> None:
    """Apply `?projector=` once per value seen: 1 on, 0 off; anything else is one line and changes nothing."""
    value = st.query_params.get(PARAM)
    if value is None or value == st.session_state.get("projector_param_seen"):
        return
    st.session_state.projector_param_seen = value
    if value.strip() in ("0", "1"):
        st.session_state[KEY] = value.strip() == "1"
    else:
        st.error(
            f"The link's projector value {url_params.shown(value)} is not 1 (on) or 0 (off): it is ignored.",
            icon=":material/error:",
        )


def _follow_toggle() -> None:
    """Keep the address in step with the toggle, so a reload or a copied link keeps the view."""
    if st.session_state.get(KEY):
        st.query_params[PARAM] = "1"
    elif PARAM in st.query_params:
        del st.query_params[PARAM]
    st.session_state.projector_param_seen = st.query_params.get(PARAM)


def setup() -> None:
    """On every page (Home.py): read the address, draw the sidebar toggle, and restyle the page when on."""
    _from_address()
    st.sidebar.toggle(
        "Projector view",
        key=KEY,
        on_change=_follow_toggle,
        help="Large type, no sidebar and charts a screen high, for a room. Also `?projector=1` in the address.",
    )
    if on():
        if st.query_params.get(PARAM) != "1":
            st.query_params[PARAM] = "1"
            st.session_state.projector_param_seen = "1"
        st.html(STYLE)
        st.button("Leave projector view", key="projector_leave", on_click=_leave, icon=":material/close_fullscreen:")


def _leave() -> None:
    st.session_state[KEY] = False
    _follow_toggle()
