"""Embedding: the test images as points, placed by the raw pixels and by what the model learned."""

import base64

import altair as alt
import pandas as pd
import streamlit as st

from core.analysis import embeddings
from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES
from core.io import preprocess
from dashboard import background, common
from dashboard.images import show_image

SEED = 0
SIZES = [1000, 2000, 5000, 10_000]
THUMBNAILS_UP_TO = 5000  # hover pictures travel with the chart: about 1 kB per point
SHOWN = 36
HOW_TO_READ = {
    "pca": "**PCA** keeps the two directions along which the points vary most: a straight-on shadow of the "
    "space. It is instant and distances mean something, but classes that differ along other directions "
    "land on top of each other.",
    "tsne": "**t-SNE** moves the points until each one's nearest neighbours in the full space are its "
    "neighbours on the page. Trust the clusters and who is next to whom; do not read the distances "
    "between clusters or their sizes, which it distorts.",
    "umap": "**UMAP** also keeps neighbours but tries to keep more of the global layout than t-SNE, so nearby "
    "clusters tend to be related. Its picture still depends on its settings and seed: a gap is a "
    "hint, not a measurement.",
}

common.intro(
    "The learned space",
    "Before its last layer a network turns each picture into a list of numbers — its **features**. Put every "
    "test image at the point its features say and squash the space to two dimensions: if training worked, the "
    "classes gather in clusters, far more cleanly than the raw pixels do. Mistakes (crosses) sit where "
    "clusters touch: the shirts among the T-shirts. Hover a point to see its picture, drag a box to list "
    "the images inside.",
)

data = common.dataset_if_present()
if data is None:
    st.info("The learned space is drawn from the 10,000 test images: get the dataset first (see Home).")
    st.stop()
entry = common.model_picker("embedding_model")
if entry is None:
    st.stop()

left, right = st.columns([2, 3])
method = left.radio(
    "Projection", embeddings.METHODS, format_func=embeddings.TITLES.get, horizontal=True, key="embedding_method"
)
limit = right.select_slider(
    "Test images (a random sample)", SIZES, value=2000, key="embedding_limit", format_func=lambda n: f"{n:,}"
)
st.markdown(HOW_TO_READ[method])


def _compute(path, space):
    return lambda task: embeddings.embed(path, method, space, limit, SEED, data, progress=task.progress)


found = {}
for space in embeddings.SPACES:
    try:
        found[space] = embeddings.cached(entry.path, method, space, limit, SEED)
        if found[space] is None and method == "pca":
            with st.spinner(f"PCA of the {space}…"):
                found[space] = embeddings.embed(entry.path, method, space, limit, SEED, data)
    except (StudioError, OSError) as e:
        st.error(f"Cannot project {entry.name}: {e}")
        st.stop()


@st.cache_data(max_entries=8, show_spinner="Drawing the thumbnails…")
def _thumbnails(indices: tuple) -> list[str]:
    images = data.test_images[list(indices)].numpy()
    return [
        "data:image/png;base64," + base64.b64encode(preprocess.encode_png(preprocess.enlarge(i, 56))).decode()
        for i in images
    ]


@st.cache_data(max_entries=32, show_spinner=False)
def _agreement(path: str, mtime: float, method: str, space: str, limit: int) -> float:
    e = embeddings.cached(path, method, space, limit, SEED)
    return embeddings.neighbour_accuracy(e.xy, e.labels)


def _frame(e: embeddings.Embedding, class_names=CLASS_NAMES) -> pd.DataFrame:
    """One row per point; `class_names` are the model's classes (a taught model's answers may be a taught class)."""
    frame = pd.DataFrame(
        {
            "index": e.indices,
            "x": e.xy[:, 0],
            "y": e.xy[:, 1],
            "true": [CLASS_NAMES[t] for t in e.labels],
            "predicted": [class_names[p] for p in e.predictions],
            "result": ["mistake" if t != p else "right" for t, p in zip(e.labels, e.predictions)],
        }
    )
    if len(frame) <= THUMBNAILS_UP_TO:
        frame["image"] = _thumbnails(tuple(int(i) for i in e.indices))
    return frame


def _chart(frame: pd.DataFrame, title: str, description: str) -> alt.LayerChart:
    """The points, coloured by true class and named at each class's median point, mistakes as crosses. Drawn on a
    canvas: one picture whose text alternative is `description` (thousands of points are no list to read)."""
    region = alt.selection_interval(name="region")
    tooltip = (["image"] if "image" in frame else []) + ["index", "true", "predicted"]
    points = (
        alt.Chart(frame)
        .mark_point(filled=True, opacity=0.75)
        .encode(
            x=alt.X("x:Q", axis=None),
            y=alt.Y("y:Q", axis=None),
            color=alt.Color(
                "true:N",
                scale=alt.Scale(domain=list(CLASS_NAMES), scheme="tableau10"),
                legend=alt.Legend(title="true class", orient="bottom", columns=5),
            ),
            shape=alt.Shape(
                "result:N", scale=alt.Scale(domain=["right", "mistake"], range=["circle", "cross"]), legend=None
            ),
            size=alt.condition("datum.result == 'mistake'", alt.value(40), alt.value(14)),
            tooltip=tooltip,
        )
        .add_params(region)
    )
    centres = frame.groupby("true", as_index=False)[["x", "y"]].median()
    names = alt.Chart(centres).encode(x="x:Q", y="y:Q", text="true:N")
    return alt.layer(
        points,
        names.mark_text(fontSize=12, fontWeight="bold", stroke="white", strokeWidth=4, strokeJoin="round"),
        names.mark_text(fontSize=12, fontWeight="bold", color="black"),
    ).properties(height=460, title=title, description=description, usermeta={"embedOptions": {"renderer": "canvas"}})


tasks = {
    space: background.runner().submit(
        (str(entry.path), entry.path.stat().st_mtime, method, space, limit, SEED), _compute(entry.path, space)
    )
    for space in embeddings.SPACES
    if found[space] is None
}  # the model's space first: it is the news

selected = None
frames = {}
columns = st.columns(2)
titles = {"pixels": "Raw pixels (before learning)", "features": f"{entry.name}'s features (after learning)"}
for column, space in zip(columns, embeddings.SPACES[::-1]):
    with column:
        st.markdown(f"**{titles[space]}**")
        e = found[space]
        if e is None:
            background.wait(tasks[space], f"{embeddings.TITLES[method]} of {limit:,} {space}")
            continue
        frame = _frame(e, entry.class_names)
        score = _agreement(str(entry.path), entry.path.stat().st_mtime, method, space, limit)
        st.caption(
            f"{len(frame):,} points · {int((frame.result == 'mistake').sum()):,} mistakes (crosses) · the class of "
            f"a point agrees with most of its 10 nearest neighbours for **{score:.1%}** of them"
        )
        frames[space] = frame
        crosses = int((frame.result == "mistake").sum())
        described = (
            f"Scatter plot of {len(frame):,} test images placed by {titles[space].split(' (')[0].lower()} with "
            f"{embeddings.TITLES[method]}, coloured and named by true class, {crosses:,} mistakes drawn as "
            f"crosses. The class of a point agrees with most of its 10 nearest neighbours for {score:.1%} of them."
        )
        event = st.altair_chart(
            _chart(frame, f"{embeddings.TITLES[method]} of the {space}", described),
            width="stretch",
            key=f"embedding_{space}",
            on_select="rerun",
            selection_mode="region",
        )
        box = (event.selection.get("region") or {}) if event else {}
        if box.get("x") and box.get("y"):
            (x0, x1), (y0, y1) = sorted(box["x"]), sorted(box["y"])
            inside = frame[frame.x.between(x0, x1) & frame.y.between(y0, y1)]
            selected = (f"in the box on *{titles[space]}*", inside)

st.subheader("The images in a region")
if selected is None and "features" in frames:
    by_class = st.selectbox(
        "From the keyboard: the images of one class",
        CLASS_NAMES,
        index=None,
        placeholder="Choose a class",
        key="embedding_class",
    )
    if by_class is not None:
        features = frames["features"]
        selected = (f"of true class *{by_class}*", features[features.true == by_class])
if selected is None:
    st.caption("Drag a box on either chart to list the images inside it here (double-click clears it).")
else:
    where, inside = selected
    mistakes = inside[inside.result == "mistake"]
    st.markdown(
        f"**{len(inside):,}** images {where}, {len(mistakes):,} of them mistakes; "
        f"the first {min(SHOWN, len(inside))} shown, mistakes first."
    )
    ordered = pd.concat([mistakes, inside[inside.result != "mistake"]]).head(SHOWN)
    for row in range(0, len(ordered), 9):
        for column, item in zip(st.columns(9), ordered.iloc[row : row + 9].to_dict("records")):
            verdict = f"predicted {item['predicted']}" if item["result"] == "mistake" else "predicted right"
            show_image(
                preprocess.enlarge(data.test_images[int(item["index"])].numpy(), 84),
                alt=f"test image {item['index']:,}: true class {item['true']}, {verdict}",
                where=column,
                width=84,
            )
            wrong = f" → **{item['predicted']}**" if item["result"] == "mistake" else ""
            column.caption(f"#{item['index']} · {item['true']}{wrong}")
