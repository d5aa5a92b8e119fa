"""Shared charts: a chart-building function decorated with `charts.shared` runs once per distinct arguments for
every session, and its specification is drawn exactly as st.altair_chart draws the chart."""

import json

from streamlit.testing.v1 import AppTest


def _app():
    import altair as alt
    import pandas as pd
    import streamlit as st

    from dashboard import charts

    st.session_state.setdefault("built", 0)

    @charts.shared
    def bars(values: tuple, title: str) -> alt.Chart:
        st.session_state.built += 1
        return alt.Chart(pd.DataFrame({"x": list(values)})).mark_bar().encode(x="x:Q").properties(title=title)

    def plain(values, title):
        return alt.Chart(pd.DataFrame({"x": list(values)})).mark_bar().encode(x="x:Q").properties(title=title)

    charts.draw(bars((1, 2, 3), "one"), width="stretch")
    st.altair_chart(plain((1, 2, 3), "one"), width="stretch")
    charts.draw(bars((1, 2, 3), "one"), width="stretch")  # the same arguments: not built again
    charts.draw(bars((1, 2, 4), "one"), width="stretch")


def test_built_once_per_arguments_and_drawn_as_altair_chart_draws_it():
    at = AppTest.from_function(_app).run()
    assert not at.exception
    shared, altair, again, other = at.get("vega_lite_chart")
    assert shared.proto.spec == altair.proto.spec and shared.proto.datasets == altair.proto.datasets
    assert again.proto.spec == shared.proto.spec
    assert other.proto.datasets != shared.proto.datasets and json.loads(other.proto.spec)["title"] == "one"
    assert at.session_state.built == 2

    at.run()  # another run, as another session would: every chart comes from the cache
    assert at.session_state.built == 2
    assert [c.proto.spec for c in at.get("vega_lite_chart")] == [shared.proto.spec, altair.proto.spec] + [
        again.proto.spec,
        other.proto.spec,
    ]
