"""The class probability bar chart shared by the Classify, Feature maps and Teach pages."""

import altair as alt
import pandas as pd

from core.data.classes import CLASS_NAMES
from dashboard import charts


def probability_chart(probabilities, height: int = 280, class_names=CLASS_NAMES) -> dict:
    """Horizontal bars, classes in the model's order (`class_names`: Fashion-MNIST's ten, then any taught ones);
    the most likely class stands out. A chart specification for `charts.draw`, built once per distinct
    probabilities for the whole server (every student on the same picture and model gets the same chart)."""
    return _spec(tuple(float(p) for p in probabilities), height, tuple(class_names))


@charts.shared
def _spec(probs: tuple, height: int, class_names: tuple) -> alt.LayerChart:
    names = list(class_names)
    top = max(range(len(probs)), key=probs.__getitem__)
    frame = pd.DataFrame(
        {
            "class": names,
            "probability": probs,
            "top": ["top prediction" if i == top else "other" for i in range(len(probs))],
        }
    )
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("class:N", sort=names, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=120)),
            x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="probability"),
            color=alt.Color(
                "top:N", scale=alt.Scale(domain=["top prediction", "other"], range=["#e4572e", "#5b7fb0"]), legend=None
            ),
            tooltip=["class", alt.Tooltip("probability:Q", format=".1%")],
        )
    )
    labels = bars.mark_text(align="left", dx=3).encode(
        text=alt.Text("probability:Q", format=".0%"), color=alt.value("#444")
    )
    ranked = sorted(range(len(probs)), key=probs.__getitem__, reverse=True)
    return (bars + labels).properties(
        height=height,
        title="Probability of each class",
        description=f"Bar chart of the model's probabilities: top prediction {names[top]} {probs[top]:.1%}; "
        + "; ".join(f"{names[i]} {probs[i]:.1%}" for i in ranked[1:]),
    )
