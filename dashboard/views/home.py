"""Home: what the studio is, where the dataset is, which models exist, and a link to every page."""

import pandas as pd
import streamlit as st

from core.data import dataset
from core.models import get as get_arch
from dashboard import common, pages

common.intro(
    "Fashion-MNIST Studio",
    "Fashion-MNIST is 70,000 small grayscale pictures of clothes in ten classes — a harder drop-in for the "
    "handwritten digits of MNIST. This studio lets you look at the data, train a neural network on it while "
    "you watch, and then open up the trained model: its mistakes, what its filters see, and how it classifies "
    "a picture you draw.",
)

st.subheader("Dataset")
files = dataset.locate()
if files:
    st.success(
        f"Found Fashion-MNIST in `{files['train_images'].parent}`: 60,000 training and 10,000 test "
        "images of 28×28 pixels."
    )
else:
    looked = ", ".join(f"`{d}`" for d in dataset.candidate_dirs())
    st.warning(dataset.HOW_TO_GET.format(where=f" (looked in {looked})"))

st.subheader("Models")
models = common.available_models()
if models:
    table = pd.DataFrame(
        [
            {
                "Model": m.name,
                "Architecture": get_arch(m.arch).display_name,
                "Source": m.source,
                "Test accuracy": None if m.test_accuracy is None else 100 * m.test_accuracy,
            }
            for m in models
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"Test accuracy": st.column_config.NumberColumn(format="%.2f %%")},
    )
else:
    st.info(
        "No models yet: no shipped checkpoints were found and nothing has been trained. "
        "Train one on the Train page — a small CNN reaches about 85% in a minute on a CPU."
    )

st.subheader("Pages")
for page in pages.PAGES:
    if page.default:
        continue  # this page
    left, right = st.columns([1, 4], vertical_alignment="center")
    pages.link(page.name, where=left)
    right.caption(page.description)
