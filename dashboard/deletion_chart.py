"""The Explain page's faithfulness check: deletion curves of every method against a random order, and one
sentence per method. The curves come from core.analysis.deletion."""

import altair as alt
import pandas as pd
import streamlit as st

from core.analysis import explanation_methods

RANDOM = "random order"
AT = 4  # the share quoted in each method's sentence: FRACTIONS[4] = 20 %


def summary(curve) -> str:
    """One sentence: what blacking out the map's top pixels does to the class probability, against random."""
    share = curve.fractions[AT]
    return (
        f"Faithfulness: blacking out the {share:.0%} of pixels this map ranks highest takes the class from "
        f"{curve.probabilities[0]:.1%} to **{curve.probabilities[AT]:.1%}** (the same number of random pixels: "
        f"{curve.random[AT]:.1%})."
    )


def show(curves: dict, class_name: str) -> None:
    """The section: every method's curve and the random one in one chart, and their areas, best first."""
    st.subheader("Which explanation to trust?")
    st.markdown(
        f"A map is **faithful** when the pixels it ranks highest are the ones the model needs. Black them out, "
        f"5 % more at a time, and watch the probability of **{class_name}**: the faster it falls, the more the "
        "map found what matters. Pixels blacked out in a random order are the yardstick; a curve above it "
        "points at pixels the model does not need."
    )
    titles = {name: explanation_methods.METHODS[name].title for name in curves}
    rows = [
        {"method": titles[name], "blacked out": float(f), "probability": float(p)}
        for name, c in curves.items()
        for f, p in zip(c.fractions, c.probabilities)
    ]
    first = next(iter(curves.values()))
    rows += [
        {"method": RANDOM, "blacked out": float(f), "probability": float(p)}
        for f, p in zip(first.fractions, first.random)
    ]
    order = sorted(curves, key=lambda name: curves[name].area)
    chart = (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "blacked out:Q",
                axis=alt.Axis(format="%", values=[0, 0.1, 0.2, 0.3, 0.4, 0.5]),
                title="share of the pixels blacked out",
            ),
            y=alt.Y("probability:Q", axis=alt.Axis(format="%"), title=f"probability of {class_name}"),
            color=alt.Color(
                "method:N",
                sort=[titles[n] for n in order] + [RANDOM],
                scale=alt.Scale(scheme="category10"),
                legend=alt.Legend(orient="bottom", columns=3),
                title=None,
            ),
            strokeDash=alt.condition(alt.datum.method == RANDOM, alt.value([5, 4]), alt.value([1, 0])),
            tooltip=["method", alt.Tooltip("blacked out:Q", format=".0%"), alt.Tooltip("probability:Q", format=".1%")],
        )
        .properties(
            height=280,
            title="Deletion curves",
            description="Line chart of the class probability as the top-ranked pixels are blacked out, one line per "
            f"method and a dashed random order; the fastest fall is {titles[order[0]]}'s",
        )
    )
    st.altair_chart(chart, width="stretch")
    table = pd.DataFrame(
        [{"method": titles[n], "mean probability": curves[n].area} for n in order]
        + [{"method": RANDOM, "mean probability": first.random_area}]
    )
    st.caption("Mean probability over each curve; lower is more faithful.")
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "mean probability": st.column_config.NumberColumn(
                format="%.3f", help="The class probability averaged over the curve: lower is more faithful."
            ),
        },
    )
    st.caption(
        "One picture, one class: a method can win here and lose on the next image. Blacking out pixels also "
        "makes pictures the model never saw in training, so no score is the last word."
    )
