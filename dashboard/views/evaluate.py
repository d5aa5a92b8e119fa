"""Evaluate: test accuracy, per-class accuracy, a clickable confusion matrix and the images behind each cell."""

import functools

import altair as alt
import pandas as pd
import streamlit as st

from core.analysis import duplicates, evaluation
from core.base.errors import StudioError
from core.io import class_sources, preprocess
from dashboard import charts, common, projector
from dashboard.images import show_image
from dashboard.pages import link as link_to

PAGE_SIZE = 24
COLUMNS = 6
# Cells shaded from light yellow (a few images) to dark purple (the whole row), reversed viridis on a square-root
# scale, empty cells white: readable with any colour vision. Counts are black on the light half, white on the dark.
WHITE_TEXT_FROM = 0.33
BAR_COLOUR = "#3b6ea5"  # 5.2:1 on white: the bar's height and its label carry the accuracy, not a colour scale


@charts.shared
def accuracy_chart(names: tuple, accuracies: tuple, projected: bool) -> alt.Chart:
    """Test accuracy per class as bars with their percentages (the same for every session on one model)."""
    frame = pd.DataFrame({"class": names, "accuracy": accuracies})
    bars = (
        alt.Chart(frame)
        .mark_bar(color=BAR_COLOUR)
        .encode(
            x=alt.X("class:N", sort=list(names), title=None, axis=alt.Axis(labelAngle=-30)),
            y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="accuracy"),
            tooltip=["class", alt.Tooltip("accuracy:Q", format=".1%")],
        )
    )
    text = bars.mark_text(dy=-6, fontSize=projector.font(11, projected)).encode(
        text=alt.Text("accuracy:Q", format=".0%"), color=alt.value("#444")
    )
    return projector.style(
        (bars + text).properties(
            height=projector.height(260, projected),
            title="Test accuracy per class",
            description="Bar chart of test accuracy per class: "
            + "; ".join(f"{name} {acc:.1%}" for name, acc in zip(names, accuracies)),
        ),
        projected,
    )


@charts.shared
def matrix_chart(names: tuple, cm: list, projected: bool) -> alt.Chart:
    """The confusion matrix as a clickable heat map with its counts (`cm`: rows true, columns predicted)."""
    cells = pd.DataFrame(
        [
            {
                "true": names[t],
                "predicted": names[p],
                "count": int(cm[t][p]),
                "share": cm[t][p] / max(int(sum(cm[t])), 1),
                "correct": t == p,
            }
            for t in range(len(names))
            for p in range(len(names))
        ]
    )
    pick = alt.selection_point(name="cell", fields=["true", "predicted"], on="click", clear=False, empty=False)
    base = alt.Chart(cells).encode(
        x=alt.X("predicted:N", sort=list(names), title="predicted class", axis=alt.Axis(labelAngle=-30, orient="top")),
        y=alt.Y("true:N", sort=list(names), title="true class"),
    )
    heat = (
        base.mark_rect(stroke="#e4572e")
        .encode(
            color=alt.condition(
                "datum.count == 0",
                alt.value("white"),
                alt.Color(
                    "share:Q", scale=alt.Scale(scheme="viridis", reverse=True, type="sqrt", domain=[0, 1]), legend=None
                ),
            ),
            strokeWidth=alt.condition(pick, alt.value(4), alt.value(0)),  # the clicked cell is framed
            tooltip=["true", "predicted", "count", alt.Tooltip("share:Q", format=".1%", title="share of the row")],
        )
        .add_params(pick)
    )
    counts = base.mark_text(fontSize=projector.font(12, projected)).encode(
        text="count:Q",
        color=alt.condition(f"datum.share > {WHITE_TEXT_FROM}", alt.value("white"), alt.value("black")),
    )
    worst_cells = cells[~cells.correct].nlargest(3, "count")
    total, right = sum(map(sum, cm)), sum(cm[i][i] for i in range(len(names)))
    return projector.style(heat + counts, projected).properties(
        height=projector.height(430, projected),
        title="Test images by true and predicted class",
        description=f"Counts of the {total:,} test images by true and predicted class; "
        f"{right:,} on the diagonal are right. Most frequent mistakes: "
        + "; ".join(f"{r.true} predicted as {r.predicted} {r['count']:,} times" for _, r in worst_cells.iterrows())
        + ". The table below holds every count.",
    )


TITLE = "Evaluate a model"
if projector.on():  # the room's view: the model, its numbers and two charts a screen high, nothing to browse
    st.title(TITLE)
else:
    common.intro(
        TITLE,
        "A model is judged on the 10,000 test images it never saw while training. One accuracy number hides "
        "where it fails, so the **confusion matrix** counts, for every true class (row), what the model predicted "
        "(column): the diagonal is right, everything else is a mistake. Click a cell to see those images: most "
        "errors are shirts, T-shirts, pullovers and coats, which look alike at 28×28 pixels.",
    )

data = common.get_dataset()
if data is None:
    st.stop()
entry = common.model_picker("evaluate_model")
if entry is None:
    st.stop()

try:
    with st.spinner("Classifying the 10,000 test images (once per model)…"):
        result = evaluation.evaluate(entry.path, data)
except (StudioError, OSError) as e:
    st.error(f"Cannot evaluate {entry.name}: {e}")
    st.stop()

# --- headline numbers -----------------------------------------------------------------------------
names = result.class_names  # Fashion-MNIST's ten, then any class a student taught this model
tested = slice(0, result.test_count)  # the test images; a taught model's held-out examples follow them
per_class = result.per_class_accuracy
cm = result.confusion_matrix
worst = int(per_class.argmin())
a, b, c = st.columns(3)
a.metric("Test accuracy", f"{result.accuracy:.2%}")
b.metric("Mistakes", f"{result.count - int(cm.trace()):,} of {result.count:,}")
c.metric("Hardest class", names[worst], f"{per_class[worst]:.1%} right", delta_color="off", delta_arrow="off")
leaks = duplicates.load(data)  # test images with a near-copy in training (Data lab)
if leaks is not None and len(leaks.leaked_test_indices()):
    left_out = leaks.leaked_test_indices()
    clean = duplicates.accuracy_without(result.predictions[tested], result.labels[tested], left_out)
    a.caption(
        f"**{clean:.2%}** without the {len(left_out)} test images that have a near-copy in training "
        f"({100 * (clean - result.accuracy):+.2f} points; see Data lab)."
    )
if result.held_out_count:
    taught = ", ".join(names[i] for i in class_sources.taught(entry.metadata))
    st.info(
        f"This model was taught {taught} on the Teach page. The test set has no picture of it, so its row of the "
        f"matrix holds the {result.held_out_count} examples held out when it was taught: "
        f"**{result.held_out_accuracy:.0%}** of them get their class. The test accuracy counts the 10,000 test "
        "images only.",
        icon=":material/new_label:",
    )

# --- per-class accuracy -----------------------------------------------------------------------------
st.subheader("Accuracy per class")
charts.draw(accuracy_chart(names, tuple(float(a) for a in per_class), projector.on()), width="stretch")

# --- confusion matrix ---------------------------------------------------------------------------------
st.subheader("Confusion matrix")
reading = "Rows: the true class. Columns: what the model said."
if not projector.on():  # the images behind a cell are shown below, except on a projected screen
    reading += " Click a cell, or choose the two classes under *Browse the images*, to see its images below."
st.caption(reading)
event = charts.draw(
    matrix_chart(names, cm.tolist(), projector.on()),
    width="stretch",
    key="evaluate_matrix",
    on_select="rerun",
    selection_mode="cell",
)
if projector.on():
    st.stop()  # the table, the images behind a cell and the download are for a screen of one's own
with st.expander("The same counts as a table"):
    st.dataframe(pd.DataFrame(cm, index=list(names), columns=list(names)), width="stretch")

# --- browsing one cell ---------------------------------------------------------------------------------
state = st.session_state
for key in ("evaluate_true", "evaluate_pred"):
    if key in state and state[key] not in names:  # a class of the model picked before
        del state[key]
state.setdefault("evaluate_true", "Shirt")
state.setdefault("evaluate_pred", "T-shirt/top")
clicked = (event.selection.get("cell") or [None])[0] if event else None
if clicked and clicked != state.get("evaluate_last_click"):
    state.evaluate_last_click = clicked
    state.evaluate_true, state.evaluate_pred = clicked["true"], clicked["predicted"]


def _swap():
    state.evaluate_true, state.evaluate_pred = state.evaluate_pred, state.evaluate_true


st.subheader("Browse the images")
left, middle, right = st.columns([2, 2, 2], vertical_alignment="bottom")
true_name = left.selectbox("True class", names, key="evaluate_true")
pred_name = middle.selectbox("Predicted as", names, key="evaluate_pred")
right.button(
    f"Swap: {pred_name} predicted as {true_name}", on_click=_swap, key="evaluate_swap", icon=":material/swap_horiz:"
)
sort_column, page_column = st.columns([4, 2], vertical_alignment="bottom")
order = sort_column.radio(
    "Sort by confidence", ["Most confident first", "Least confident first"], horizontal=True, key="evaluate_order"
)

t, p = names.index(true_name), names.index(pred_name)
indices = result.pair(t, p, most_confident_first=order.startswith("Most"))
what = "correctly classified" if t == p else f"predicted as {pred_name}"
pictures = "held-out examples" if t in class_sources.taught(entry.metadata) else "test images"
st.markdown(f"**{len(indices):,}** {pictures} of **{true_name}** {what}.")
if len(indices) == 0:
    st.info("No test image falls in this cell: pick another pair.")
else:
    pages = (len(indices) + PAGE_SIZE - 1) // PAGE_SIZE
    page = (
        page_column.number_input(
            f"Page (of {pages}, {PAGE_SIZE} images each)", 1, pages, 1, key=f"evaluate_page_{t}_{p}"
        )
        if pages > 1
        else 1
    )
    shown = indices[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    for row in range(0, len(shown), COLUMNS):
        for column, index in zip(st.columns(COLUMNS), shown[row : row + COLUMNS]):
            index = int(index)
            top3 = " · ".join(f"{name} {prob:.0%}" for name, prob in result.top_k(index))
            kind = "test image" if index < result.test_count else "held-out example"
            show_image(
                preprocess.enlarge(result.image(index, data), 112),
                alt=f"{kind} {index:,}: true class {names[result.labels[index]]}, predicted "
                f"{names[result.predictions[index]]}, {result.confidence[index]:.0%}",
                where=column,
                width=112,
            )
            column.caption(
                f"#{index} · true **{names[result.labels[index]]}** · predicted "
                f"**{names[result.predictions[index]]}** ({result.confidence[index]:.0%})  \n"
                f"top 3: {top3}"
            )
            if t != p and index < result.test_count:
                link_to(
                    "explain",
                    label="Why?",
                    where=column,
                    query_params={"model": entry.name, "index": index},
                    help="Open this mistake on the Explain page",
                )

# --- download -----------------------------------------------------------------------------------------
st.subheader("All predictions")
st.download_button(
    "Download all 10,000 test predictions (CSV)",
    functools.partial(evaluation.predictions_csv, result),  # written when it is asked for, not on every run
    file_name=f"{entry.name}-test-predictions.csv",
    mime="text/csv",
    key="evaluate_csv",
    icon=":material/download:",
    on_click="ignore",
)
st.caption("One row per test image: index, true label and class, predicted label and class, confidence.")
