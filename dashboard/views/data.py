"""Data: sample images per class, class balance, mean image per class, and the training augmentation."""

import altair as alt
import pandas as pd
import streamlit as st

from core.data import samples
from core.data.classes import CLASS_NAMES
from dashboard import common
from dashboard.images import show_image

common.intro(
    "The data",
    "Each Fashion-MNIST image is 28×28 grayscale pixels showing one piece of clothing, light on a black "
    "background, labelled with one of ten classes. Looking at many samples shows why some classes are hard: "
    "a shirt, a T-shirt and a pullover can look almost the same at this size. The mean image of a class shows "
    "its typical shape, and the augmentation preview shows the shifted and mirrored copies the model trains on.",
)

data = common.get_dataset()
if data is None:
    st.stop()


@st.cache_data(show_spinner="Averaging images…")
def _mean_images(source: str, _data):
    return [samples.to_picture(m, scale=3) for m in samples.mean_images(_data.train_images, _data.train_labels)]


@st.cache_data
def _counts(source: str, _data):
    return samples.class_counts(_data.train_labels), samples.class_counts(_data.test_labels)


st.subheader("Samples")
left, middle, right = st.columns([3, 2, 1], vertical_alignment="bottom")
cls_name = left.selectbox("Class", CLASS_NAMES, key="data_class")
count = middle.slider("How many", 4, 48, 16, step=4, key="data_count")
if "data_seed" not in st.session_state:
    st.session_state.data_seed = 0
if right.button("Shuffle", icon=":material/shuffle:", key="data_shuffle"):
    st.session_state.data_seed += 1
cls = CLASS_NAMES.index(cls_name)
picked = samples.sample_indices(data.train_labels, cls, count, seed=st.session_state.data_seed)
show_image(
    [samples.to_picture(data.train_images[i]) for i in picked],
    alt=[f"training image {i:,}: {cls_name}" for i in picked],
    caption=[f"#{i}" for i in picked],
    width=84,
    output_format="PNG",
)

st.subheader("Class balance")
train_counts, test_counts = _counts(data.source, data)
balance = pd.DataFrame(
    [{"class": name, "split": "train", "images": n} for name, n in zip(CLASS_NAMES, train_counts)]
    + [{"class": name, "split": "test", "images": n} for name, n in zip(CLASS_NAMES, test_counts)]
)
chart = (
    alt.Chart(balance)
    .mark_bar()
    .encode(
        x=alt.X("class:N", sort=list(CLASS_NAMES), title=None, axis=alt.Axis(labelAngle=-30)),
        xOffset=alt.XOffset("split:N", sort=["train", "test"]),
        y=alt.Y("images:Q", title="images"),
        color=alt.Color("split:N", title="split", sort=["train", "test"]),
        tooltip=["class", "split", "images"],
    )
    .properties(
        height=260,
        title="Images per class, training and test split",
        description="Bar chart of images per class: "
        + "; ".join(f"{name} {n:,} training, {m:,} test" for name, n, m in zip(CLASS_NAMES, train_counts, test_counts)),
    )
)
st.altair_chart(chart, width="stretch")
st.caption(
    f"Perfectly balanced: {train_counts[0]:,} training and {test_counts[0]:,} test images per class, "
    "so plain accuracy is a fair score."
)

st.subheader("Mean image per class")
show_image(
    _mean_images(data.source, data),
    alt=[f"mean of the {n:,} training images of {name}" for name, n in zip(CLASS_NAMES, train_counts)],
    caption=list(CLASS_NAMES),
    width=84,
    output_format="PNG",
)
st.caption(
    "Each pixel averaged over the 6,000 training images of the class: trousers show two legs, "
    "sandals are faint because their straps vary, and bags are wide blocks."
)

st.subheader("Training augmentation")
st.markdown(
    "With **augment** on, every batch is randomly shifted by up to 2 pixels and half the images are "
    "mirrored left-right. The model never sees exactly the same picture twice, which fights overfitting. "
    "First column: the original; the others: what training may see."
)
variants = 5
views = samples.augmented_views(data.train_images[picked[:4]], variants, seed=st.session_state.data_seed)
for i, index in enumerate(picked[:4]):
    shown = f"training image {index:,} ({cls_name})"
    show_image(
        [samples.to_picture(data.train_images[index])] + [samples.to_picture(v) for v in views[i]],
        alt=[f"{shown}, original"]
        + [f"{shown}, augmented copy {k + 1}: shifted up to 2 pixels, perhaps mirrored" for k in range(variants)],
        caption=["original"] + [f"augmented {k + 1}" for k in range(variants)],
        width=84,
        output_format="PNG",
    )
