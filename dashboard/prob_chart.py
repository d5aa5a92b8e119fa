"""The class probability bar chart shared by the Classify, Feature maps and Teach pages."""

import altair as alt
import pandas as pd
import streamlit as st

from core.data.classes import CLASS_NAMES
from dashboard import charts


def show_probabilities(probabilities, class_names=CLASS_NAMES, height: int = 280, where=st) -> None:
    """Horizontal bars, classes in the model's order (`class_names`: Fashion-MNIST's ten, then any taught ones);
    the most likely class stands out. The chart's specification is built once per class list and height; each
    picture brings only its numbers (a fresh Altair chart cost ~40 ms of the interpreter every session shares)."""
    probs = [float(p) for p in probabilities]
    names = list(class_names)
    top = max(range(len(probs)), key=probs.__getitem__)
    ranked = sorted(range(len(probs)), key=probs.__getitem__, reverse=True)
    spec = {k: v for k, v in _template(tuple(names), height).items() if k != "datasets"}  # the placeholder rows
    spec["description"] = (
        f"Bar chart of the model's probabilities: top prediction {names[top]} {probs[top]:.1%}; "
        + "; ".join(f"{names[i]} {probs[i]:.1%}" for i in ranked[1:])
    )
    spec["data"] = {  # this picture's rows, inline
        "values": [
            {"class": name, "probability": p, "top": "top prediction" if i == top else "other"}
            for i, (name, p) in enumerate(zip(names, probs))
        ]
    }
    charts.draw(spec, where=where, width="stretch")


@charts.shared
def _template(names: tuple, height: int) -> alt.LayerChart:
    """The chart on placeholder rows (every probability 0), which `show_probabilities` replaces with the picture's:
    the bars and their labels read the chart's one data source."""
    placeholder = pd.DataFrame({"class": names, "probability": 0.0, "top": "other"})
    bars = (
        alt.Chart(placeholder)
        .mark_bar()
        .encode(
            y=alt.Y("class:N", sort=list(names), title=None, axis=alt.Axis(labelOverlap=False, labelLimit=120)),
            x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="probability"),
            color=alt.Color(
                "top:N", scale=alt.Scale(domain=["top prediction", "other"], range=["#e4572e", "#5b7fb0"]), legend=None
            ),
            tooltip=["class:N", alt.Tooltip("probability:Q", format=".1%")],
        )
    )
    labels = bars.mark_text(align="left", dx=3).encode(
        text=alt.Text("probability:Q", format=".0%"), color=alt.value("#444")
    )
    return alt.layer(bars, labels).properties(height=height, title="Probability of each class")
