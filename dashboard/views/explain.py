"""Explain: why a model gave its answer on one picture, four ways, for its answer and for a second class."""

import numpy as np
import streamlit as st

from core.analysis import deletion, explanation_methods, explanations, heatmap_text, inference
from core.base.errors import StudioError
from core.io import preprocess
from dashboard import common, deletion_chart, image_inputs, url_params
from dashboard.images import show_image

common.intro(
    "Why did it say that?",
    "A prediction is only a number until you see what it rests on. Four **attribution methods** each colour "
    "the 28×28 input by how much every region or pixel counted for a class. Compare the model's answer with a "
    "second class side by side — Shirt against T-shirt/top is one click — and keep in mind that each method "
    "can mislead in its own way: when the methods agree, trust them more.",
)

state = st.session_state
asked = tuple(url_params.read("explain").values())  # model, index, target, layer
models = common.available_models()
fresh_link = any(a is not None for a in asked) and state.get("explain_applied") != asked
if fresh_link:
    state.explain_applied = asked
if fresh_link and asked[2] is not None:
    state.explain_asked_target = asked[2]  # read once the model, and so its classes, is known
if fresh_link and asked[0] is not None:
    match = [m for m in models if m.name == asked[0] or m.label == asked[0]]
    if not match:
        st.error(f"No model named {url_params.shown(asked[0])}: pick one below.")
    else:
        state.explain_model = match[0].label
if fresh_link and asked[1] is not None:
    index = url_params.whole_number(asked[1], 0, 9_999)
    if index is None:
        st.error(f"Test image index {url_params.shown(asked[1])} does not exist: use a number from 0 to 9,999.")
    else:
        state.explain_source, state.explain_test_how = "Test image", "Index"
        state.explain_test_index = index

entry, loaded = common.picked_model("explain_model")
names = loaded.class_names  # Fashion-MNIST's ten, then any class a student taught this model

# --- the input ----------------------------------------------------------------------------------------
picked = image_inputs.picture(common.dataset_if_present(), "explain")
image, label, ident = picked.image, picked.label, picked.ident


@st.cache_data(max_entries=64, show_spinner=False)
def _explain(path: str, mtime: float, pixels: bytes, target: int, layer: str | None):
    found = common.load_model(path)
    pixels = np.frombuffer(pixels, dtype=np.uint8).reshape(28, 28)
    return explanations.explain_all(found.model, pixels, target, layer, found.class_names)


@st.cache_data(max_entries=64, show_spinner=False)
def _deletion(path: str, mtime: float, pixels: bytes, target: int, layer: str | None):
    maps = {method: e.heatmap for method, e in _explain(path, mtime, pixels, target, layer).items()}
    picture = np.frombuffer(pixels, dtype=np.uint8).reshape(28, 28)
    return deletion.curves(common.load_model(path).model, picture, maps, target)


probs = inference.probabilities(loaded.model, image[None])[0].numpy()
order = np.argsort(-probs, kind="stable")
predicted, runner_up = int(order[0]), int(order[1])
# A mistake is best explained beside the class it should have said; otherwise beside the runner-up.
beside = names.index(label) if label and names.index(label) != predicted else runner_up

left, right = st.columns([1, 2])
with left:
    show_image(
        preprocess.enlarge(image.numpy(), 168),
        alt=f"what the model sees: the 28×28 input, {f'a test image of class {label}' if label else 'your picture'}",
        width=168,
        caption=f"What the model sees{f' — true class: {label}' if label else ''}",
    )
with right:
    st.markdown(
        f"**{entry.name}** says **{names[predicted]}** ({probs[predicted]:.1%}); runner-up "
        f"**{names[runner_up]}** ({probs[runner_up]:.1%})."
    )
    first, second = st.columns(2)
    if "explain_asked_target" in state:
        try:
            state[f"explain_a_{ident}"] = names[explanations.class_index(state.pop("explain_asked_target"), names)]
        except StudioError as e:
            st.error(f"Cannot explain that class: {e}")
    for key in (f"explain_a_{ident}", f"explain_b_{ident}"):
        if key in state and state[key] not in names:  # a class of the model picked before
            del state[key]
    class_a = first.selectbox("Explain the class", names, index=predicted, key=f"explain_a_{ident}")
    class_b = second.selectbox("Beside the class", names, index=beside, key=f"explain_b_{ident}")
    layers = explanations.gradcam_layers(loaded.model)
    layer = None
    if fresh_link and asked[3] is not None:
        try:
            state[f"explain_layer_{entry.name}"] = explanations.check_layer(loaded.model, asked[3])
        except StudioError as e:
            st.error(f"Cannot use that layer: {e}")
    if layers:
        default = explanations.check_layer(loaded.model, None)
        layer = st.selectbox(
            "Grad-CAM layer",
            layers,
            index=layers.index(default),
            key=f"explain_layer_{entry.name}",
            help="Deeper blocks see larger parts but have coarser maps.",
        )

a, b = names.index(class_a), names.index(class_b)
try:
    with st.spinner("Explaining…"):
        found_a = _explain(str(entry.path), entry.path.stat().st_mtime, image.numpy().tobytes(), a, layer)
        found_b = _explain(str(entry.path), entry.path.stat().st_mtime, image.numpy().tobytes(), b, layer)
        curves = _deletion(str(entry.path), entry.path.stat().st_mtime, image.numpy().tobytes(), a, layer)
except (StudioError, RuntimeError) as e:
    st.error(f"{entry.name} cannot explain this input: {str(e).splitlines()[0]}")
    st.stop()

st.caption(
    "Red: evidence for the class. Blue (signed methods only): evidence against it. Each method's two "
    "pictures share one scale, so a paler map means weaker evidence."
)
for method, record in explanation_methods.METHODS.items():
    st.subheader(record.title + (f" · {layer}" if record.uses_layer and layer else ""))
    text, one, two = st.columns([2, 1, 1])
    text.markdown(record.how_to_read)
    if method in curves:
        text.markdown(deletion_chart.summary(curves[method]))
    if method not in found_a:
        try:
            explanations.check_layer(loaded.model, None)
        except StudioError as e:
            text.info(str(e))
        continue
    scale = explanations.peak(found_a[method], found_b[method])
    for column, found, name in ((one, found_a[method], class_a), (two, found_b[method], class_b)):
        words = heatmap_text.describe(found.heatmap, found.signed)
        show_image(
            explanations.picture(found, scale, zoom=6),
            alt=f"{record.title} map for {name} over the input: {words}",
            where=column,
            width=168,
            caption=f"for {name} ({found.probabilities[names.index(name)]:.1%})",
        )
        column.caption(f"{words[0].upper()}{words[1:]}.")

deletion_chart.show(curves, class_a)
