"""Teach: a few drawings or photos of something Fashion-MNIST lacks, a name, and in seconds a model that knows it
beside the ten. What it learned is shown three ways: the examples it held out, the test set before and after,
and a drawing of one of the ten classes, which a naive fit would steal."""

import hashlib

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from core.analysis import inference, penultimate
from core.base.errors import ImageError, StudioError
from core.io import class_sources, preprocess
from core.library import taught as taught_models
from core.training import teach
from dashboard import background, classroom, common, image_inputs, pages
from dashboard.images import show_image
from dashboard.prob_chart import show_probabilities

SUGGESTED_ARCH = "two_conv"
state = st.session_state

common.intro(
    "Teach it a new class",
    "A trained network turns every picture into a list of numbers (its **penultimate-layer features**) and its "
    "last layer turns those into one score per class. To add a class it does not know, keep the whole network and "
    "give that last layer **one more row**, fitted in seconds on the features of your examples. Draw or upload "
    f"at least {teach.MIN_EXAMPLES} pictures of something Fashion-MNIST lacks (a hat, a sock, a glove, a scarf), "
    f"{teach.RECOMMENDED} or more work better, name it, and press **Teach**.",
)
with st.expander("The shortcut every naive fit learns", icon=":material/warning:"):
    st.markdown(
        "Your examples are **drawings**; the ten classes were learned from **photos**. A row fitted only against "
        "the photos can learn the easy rule *a drawing means the new class*, and then a drawing of a sneaker or a "
        "bag becomes your new class too. So the fit also sees the training photos **redrawn** as a student would "
        "draw them (outlines in a pen of random width), each with its own class: now *drawn* says nothing, and "
        "only the shape can tell your class apart. Check it below: draw one of the ten classes and compare the "
        "old model's answer with the new one's. Switch on the naive fit to watch the shortcut happen."
    )

if "teach_model" not in state:  # start from the model measured best at keeping the ten (python -m bench.teach)
    state.teach_model = next((m.label for m in common.available_models() if m.arch == SUGGESTED_ARCH), None)
    if state.teach_model is None:
        del state.teach_model
entry = common.model_picker("teach_model", label="Model to teach")
if entry is None:
    st.stop()
base = common.load_model(entry.path)
if base is None:
    st.stop()
try:
    penultimate.usable_layer(base.model)
except StudioError as e:
    st.error(f"{entry.name} cannot be taught: {e}")
    st.stop()
features = penultimate.output_weights(base.model)[0].shape[1]
st.caption(
    f"{entry.name} knows {len(base.class_names)} classes: {', '.join(base.class_names)}. Its last layer reads "
    f"{features:,} features per picture: the more it reads, the better it tells a new class from drawings of the "
    "ten (measured: two_conv, 6,272 features, kept all 90 such drawings' answers; LeNet-5, 84 features, 78). "
    "The network stays as it is; the new model gets its own name and appears in every model picker for this "
    "browser."
)

# --- 1. the name ----------------------------------------------------------------------------------------------
st.subheader("1. Name the new class")
name = st.text_input(
    "Class name", key="teach_name", max_chars=class_sources.MAX_NAME, placeholder="Hat, Sock, Glove, Scarf…"
)

# --- 2. the examples --------------------------------------------------------------------------------------------
st.subheader("2. Give examples")
drawings: list = state.setdefault("teach_drawings", [])
draw_column, upload_column = st.columns(2)
with draw_column:
    st.markdown("**Draw them** one at a time: draw, press *Add this drawing*, draw the next.")
    canvas = image_inputs.drawing("teach_draw")
    if st.button("Add this drawing", key="teach_add", icon=":material/add:", disabled=canvas is None):
        try:
            drawings.append(preprocess.from_canvas(canvas).tensor.numpy())
        except ImageError as e:
            st.error(f"Not added: {e}")
        else:
            state["teach_draw_generation"] = state.get("teach_draw_generation", 0) + 1  # a fresh canvas
            st.rerun()
with upload_column:
    st.markdown("**Or upload them**: photos or scans of one object each, on a plain background.")
    files = st.file_uploader(
        f"Pictures ({preprocess.ACCEPTED}; up to 10 MB each)",
        type=image_inputs.UPLOAD_TYPES,
        accept_multiple_files=True,
        key="teach_upload",
        max_upload_size=10,
    )

examples, captions = [], []
for i, picture in enumerate(drawings, start=1):
    examples.append(picture)
    captions.append(f"drawing {i}")
for file in files or []:
    try:
        examples.append(preprocess.from_bytes(file.getvalue()).tensor.numpy())
        captions.append(file.name)
    except ImageError as e:
        st.error(f"{file.name} is left out: {e}")

count = len(examples)
if count:
    st.markdown(
        f"**{count} example{'s' if count != 1 else ''}**, as the model will see them"
        + (
            f" — {teach.MIN_EXAMPLES - count} more needed."
            if count < teach.MIN_EXAMPLES
            else (f" — enough; {teach.RECOMMENDED} or more work better." if count < teach.RECOMMENDED else ".")
        )
    )
    show_image(  # one row of pictures that wraps on a narrow screen
        [preprocess.enlarge(picture, 56) for picture in examples],
        alt=[f"example {caption}: the 28×28 picture the model receives" for caption in captions],
        caption=captions,
        width=56,
    )
    if drawings:
        undo, clear, _ = st.columns([1, 1, 2])
        if undo.button("Remove the last drawing", key="teach_undo", icon=":material/undo:"):
            drawings.pop()
            st.rerun()
        if clear.button("Remove every drawing", key="teach_clear", icon=":material/delete:"):
            drawings.clear()
            st.rerun()
else:
    st.info(f"No examples yet: draw or upload at least {teach.MIN_EXAMPLES} ({teach.RECOMMENDED} or more is better).")

# --- 3. teach -------------------------------------------------------------------------------------------------
st.subheader("3. Teach")
naive = st.toggle(
    "Naive fit: leave out the redrawn classes",
    key="teach_naive",
    help="Fit the new row against the training photos only. It learns the shortcut “a drawing means the new "
    "class”: draw a sneaker below and see.",
)
if st.button("Teach", type="primary", key="teach_go", icon=":material/new_label:"):
    try:
        clean_name = teach.check_name(name, base.class_names)
        teach.check_examples(examples)
    except StudioError as e:
        st.error(str(e)[:1].upper() + str(e)[1:])
    else:
        data = common.get_dataset()
        owner = classroom.my_digest()
        pixels = hashlib.sha1(np.stack(examples).tobytes()).hexdigest()[:12]
        key = ("teach", str(entry.path), entry.path.stat().st_mtime, clean_name, pixels, naive, owner)
        chosen = list(examples)

        def work(task):
            found = teach.teach(base, clean_name, chosen, data, redrawn=not naive, progress=task.progress)
            task.progress(0.95, "saving the new model")
            label = f"{base.name} + {clean_name}" + (" (naive fit)" if naive else "")
            return str(taught_models.store(found, base, owner, name=label)), found.summary()

        background.runner().forget(key)  # pressing Teach again teaches again
        background.runner().submit(key, work)
        state.teach_task = key
        state.pop("teach_result", None)
        state.pop("teach_error", None)

if "teach_task" in state:
    task = background.runner().submit(state.teach_task, lambda task: None)
    if not task.done:
        background.wait(task, "Teaching")
        st.stop()
    del state.teach_task
    if task.error or task.result is None:
        state.teach_error = f"Not taught: {task.error or 'the server restarted while teaching; press Teach again.'}"
    else:
        state.teach_result = {"path": task.result[0], "summary": task.result[1], "base": str(entry.path)}
if "teach_error" in state:
    st.error(state.teach_error)
    st.stop()

result = state.get("teach_result")
if result is None:
    st.stop()

# --- what it learned ------------------------------------------------------------------------------------------
summary = result["summary"]
new = common.load_model(result["path"])
if new is None:
    st.stop()
names = list(new.class_names)
taught_name = summary["class"]
st.success(
    f"**{new.name}** knows {len(names)} classes. It is in every model picker for this browser (Classify, Explain, "
    "Evaluate...) and on the Models page, where the teacher can share it with the class.",
    icon=":material/check_circle:",
)
links = st.columns(3)
pages.link("classify", label="Try it on Classify", where=links[0])
pages.link("evaluate", label="Its confusion matrix on Evaluate", where=links[1])
pages.link("models", label="Download or share it on Models", where=links[2])

held, right = summary["held_out"], round(summary["held_out_accuracy"] * summary["held_out"])
before, after = summary["test_accuracy_before"], summary["test_accuracy_after"]
a, b, c = st.columns(3)
a.metric(
    f"Held-out examples called {taught_name}",
    f"{right} of {held}",
    f"{summary['held_out_accuracy']:.0%}",
    delta_color="off",
    delta_arrow="off",
)
b.metric(
    "Test accuracy (the ten classes)",
    f"{after:.2%}",
    f"{(after - before) * 100:+.2f} points (was {before:.2%})",
    delta_color="normal" if after >= before else "inverse",
)
c.metric(
    "Time",
    f"{summary['seconds']['total']:.1f} s",
    "its features were cached" if summary["features_cached"] else "its features were computed: once per model",
    delta_color="off",
    delta_arrow="off",
)
st.caption(
    f"{summary['trained_on']} examples were fitted and {held} held out: the held-out ones judge the new class on "
    "pictures it never learned from. The test accuracy counts the 10,000 test images, which have no "
    f"{taught_name}; it can only fall where the new class takes a test image."
)

per_class = pd.DataFrame(
    [
        {"class": n, "when": when, "accuracy": summary[f"per_class_{when}"][n]}
        for n in summary["per_class_before"]
        for when in ("before", "after")
    ]
)
bars = (
    alt.Chart(per_class)
    .mark_bar()
    .encode(
        x=alt.X("class:N", sort=list(summary["per_class_before"]), title=None, axis=alt.Axis(labelAngle=-30)),
        xOffset=alt.XOffset("when:N", sort=["before", "after"]),
        y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="test accuracy"),
        color=alt.Color(
            "when:N",
            sort=["before", "after"],
            scale=alt.Scale(domain=["before", "after"], range=["#9db4d3", "#1f4e89"]),
            legend=alt.Legend(title=None, orient="top"),
        ),
        tooltip=["class", "when", alt.Tooltip("accuracy:Q", format=".2%")],
    )
    .properties(
        height=240,
        title="Test accuracy per class, before and after teaching",
        description="Test accuracy per class before and after: "
        + "; ".join(
            f"{n} {summary['per_class_before'][n]:.1%} then {summary['per_class_after'][n]:.1%}"
            for n in summary["per_class_before"]
        ),
    )
)
st.altair_chart(bars, width="stretch")

st.markdown(f"**What {taught_name} takes from the ten**")
taken = summary["test_images_taken"]
total_taken = sum(taken.values())
if total_taken:
    st.write(
        f"{taught_name} now takes {total_taken} of the 10,000 test images: "
        + ", ".join(f"{n} {k}" for n, k in taken.items() if k)
        + "."
    )
else:
    st.write(f"{taught_name} takes none of the 10,000 test images: every answer on the test set is unchanged.")
st.write(
    f"The {held} held-out example{'s' if held != 1 else ''} got: "
    + ", ".join(f"{n}" for n in summary["held_out_predictions"])
    + "."
)

# --- does it still know the ten? ------------------------------------------------------------------------------
st.subheader("Does it still know the ten?")
st.markdown(
    "Draw one of the ten classes (a T-shirt, trousers, a bag, a sneaker...) or upload one. If the new model "
    f"answers **{taught_name}** where the old one did not, it learned that *drawn* means {taught_name}."
)
check_source = st.radio("Picture", ["Draw", "Upload"], horizontal=True, key="teach_check_source")
if check_source == "Draw":
    with st.columns(2)[0]:
        prepared = image_inputs.prepare_drawing(image_inputs.drawing("teach_check"))
else:
    prepared = image_inputs.prepare_upload(image_inputs.upload("teach_check_upload"))
if prepared is None:
    st.stop()
tops = []
for column, model, title in zip(st.columns(2), (base, new), ("Before", "After")):
    probs = inference.probabilities(model.model, prepared.tensor[None])[0].tolist()
    tops.append(int(np.argmax(probs)))
    with column:
        st.metric(
            f"{title}: {model.name}",
            model.class_names[tops[-1]],
            f"{max(probs):.1%} sure",
            delta_color="off",
            delta_arrow="off",
        )
        show_probabilities(probs, class_names=model.class_names)
old_top, new_top = tops
if new_top == old_top:
    st.success("Same answer as before: teaching the new class did not change it.", icon=":material/check:")
elif names[new_top] == taught_name:
    st.warning(
        f"Stolen: the new model calls it {taught_name}, the old one said {names[old_top]}. If it really is one of "
        "the ten, the new class learned the drawing style rather than the shape.",
        icon=":material/warning:",
    )
