"""Shared charts: a chart-building function decorated with `charts.shared` runs once per distinct arguments for
every session, and its specification is drawn exactly as st.altair_chart draws the chart."""

import json

from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
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


def _probabilities_app():
    import streamlit as st

    from dashboard.prob_chart import show_probabilities

    for probs in st.session_state.pictures:
        show_probabilities(probs, class_names=("Hat", "Sock", "Bag"))


def test_the_probability_chart_carries_each_pictures_rows_on_one_shared_template():
    at = AppTest.from_function(_probabilities_app)
    at.session_state.pictures = [(0.2, 0.7, 0.1), (0.5, 0.25, 0.25)]
    at.run()
    assert not at.exception
    drawn = at.get("vega_lite_chart")
    first, second = (json.loads(c.proto.spec) for c in drawn)
    rows = [convert_arrow_bytes_to_pandas_df(c.proto.data.data).to_dict("records") for c in drawn]
    assert rows[0] == [
        {"class": "Hat", "probability": 0.2, "top": "other"},
        {"class": "Sock", "probability": 0.7, "top": "top prediction"},
        {"class": "Bag", "probability": 0.1, "top": "other"},
    ]
    assert [row["top"] for row in rows[1]] == ["top prediction", "other", "other"]
    assert first["description"] == (
        "Bar chart of the model's probabilities: top prediction Sock 70.0%; Hat 20.0%; Bag 10.0%"
    )
    assert "datasets" not in first and all("data" not in layer for layer in first["layer"])  # no placeholder rows
    assert first["layer"] == second["layer"] and first["title"] == "Probability of each class"
    assert first["layer"][0]["encoding"]["y"]["sort"] == ["Hat", "Sock", "Bag"]
