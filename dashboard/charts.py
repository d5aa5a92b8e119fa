"""Charts built once for the whole server. Building an Altair chart and checking it against the Vega-Lite schema
costs tens of milliseconds of the one interpreter every session shares (it was about two thirds of the Evaluate
page's time), and a class opening the same page asks for the same charts: the same model's accuracy bars and
confusion matrix, the same test image's probabilities.

Decorate a function that returns an Altair chart with `shared`: it then returns the chart's specification,
built once per distinct arguments (st.cache_data, so the arguments must say everything the chart depends on),
and `draw` shows it.
"""

import functools

import streamlit as st
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

MAX_SPECS = 256  # a specification is a few kilobytes: its data as Arrow bytes and the encodings


def shared(build):
    """`build(*args)` -> Altair chart becomes `build(*args)` -> its Vega-Lite specification, cached by the
    arguments for every session. The conversion is st.altair_chart's own, so the chart is drawn exactly as
    st.altair_chart would draw it."""

    @functools.wraps(build)
    def spec(*args, **kwargs) -> dict:
        return _convert_altair_to_vega_lite_spec(build(*args, **kwargs))

    return st.cache_data(max_entries=MAX_SPECS, show_spinner=False)(spec)


def draw(spec: dict, where=st, **options):
    """Show a specification from a `shared` function in `where` (the page by default); `options` go to
    st.vega_lite_chart (width, key, on_select, selection_mode...). Returns the selection state as
    st.altair_chart does."""
    return where.vega_lite_chart(spec=spec, **options)
