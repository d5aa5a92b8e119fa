"""Classify: draw or upload a picture, see how it becomes 28x28, and what one model or every model says."""

import streamlit as st

from core.analysis import inference
from core.models import uses_flip_averaging
from dashboard import common, image_inputs
from dashboard.prob_chart import show_probabilities

PER_ROW = 3

common.intro(
    "Classify your own picture",
    "A model only knows pictures like its training data: 28×28 pixels, a light garment on black, filling the "
    "frame. So your drawing or photo is first converted the same way — grayscale, inverted if the background "
    "is light, cropped, padded to a square and shrunk — and you can see each step. Then the model gives a "
    "probability for each class it knows: the ten of Fashion-MNIST, and any a student taught it on the Teach page.",
)

models = common.available_models()
if not models:
    st.info("No models yet: train one on the Train page.")
    st.stop()

source = st.radio("Picture", ["Draw", "Upload"], horizontal=True, key="classify_source")
if source == "Draw":
    canvas_column, _ = st.columns([1, 1])
    with canvas_column:
        prepared = image_inputs.prepare_drawing(image_inputs.drawing("classify_draw"))
else:
    prepared = image_inputs.prepare_upload(image_inputs.upload("classify_upload"))
if prepared is None:
    st.stop()

st.subheader("What the model receives")
image_inputs.show_steps(prepared)

st.subheader("Prediction")
mode = st.radio("Models", ["One model", "All models side by side"], horizontal=True, key="classify_mode")
if mode == "One model":
    labels = [m.label for m in models]
    chosen = [models[labels.index(st.selectbox("Model", labels, key="classify_model"))]]
else:
    chosen = models

batch = prepared.tensor[None]
for row in range(0, len(chosen), PER_ROW):
    columns = st.columns(PER_ROW if len(chosen) > 1 else 2)
    for column, entry in zip(columns, chosen[row : row + PER_ROW]):
        with column:
            loaded = common.load_model(entry.path)
            if loaded is None:
                continue
            probs = inference.probabilities(loaded.model, batch)[0].tolist()
            top = max(range(len(probs)), key=probs.__getitem__)
            if len(chosen) > 1:
                st.markdown(f"**{entry.name}** · {loaded.display_name}")
            st.metric(
                "Top prediction",
                loaded.class_names[top],
                f"{probs[top]:.1%} sure",
                delta_color="off",
                delta_arrow="off",
            )
            show_probabilities(probs, class_names=loaded.class_names)
            if uses_flip_averaging(loaded.model):
                st.caption(
                    "Test-time flip: this model looks at the picture and at its mirror image and averages "
                    "what it thinks of both."
                )
