"""Feature maps, what a filter wants to see: for each channel of a convolution (or each class), the input
optimised to excite it most, beside the test images that excite it most; computed once per checkpoint in
the background."""

import streamlit as st

from core.analysis import feature_vis, filter_top_images
from core.models import conv_layers
from dashboard import background
from dashboard.images import show_image

KEY = "wish"
CLASSES = "the classes (their scores)"


def show(entry, model, data, class_names) -> None:
    st.subheader("What a filter wants to see")
    st.markdown(
        "Start from a gray picture and change it, step by step, in whatever way raises one channel's mean "
        "response (**activation maximisation**). Left alone, that fills the picture with pixel noise the model "
        "happens to like; random shifts at every step and steps that favour smooth patterns over fine ones "
        "(the Lucid recipe) keep what works wherever it sits. Beside each result: the test images that excite "
        "the same channel most. Both are scored the same way: the channel's mean response over its map."
    )
    layers = conv_layers(model)
    choice = st.selectbox("Inputs optimised for", layers + [CLASSES], key=f"{KEY}_layer")
    layer = None if choice == CLASSES else choice
    found = feature_vis.cached(entry.path, layer)
    if found is None:
        _compute(entry, layer, data)
        return
    if layer is None:
        _classes(found, class_names)
    else:
        _channels(entry, found, data, layer, first=layer == layers[0])


def _compute(entry, layer, data) -> None:
    started = st.session_state.setdefault(f"{KEY}_started", [])
    key = ("feature_vis", str(entry.path), entry.path.stat().st_mtime, layer)
    if list(key) not in started:
        if data is None:
            st.info("Comparing with the test images needs the dataset, which is not here.")
            return
        if not st.button(
            "Optimise the inputs",
            key=f"{KEY}_go_{layer}",
            icon=":material/auto_awesome:",
            help="Once per model and layer, in the background (up to about 30 s; longer for ResNet-18's deep layers).",
        ):
            return
        started.append(list(key))
    task = background.runner().submit(
        key,
        lambda task: feature_vis.for_checkpoint(
            entry.path, layer, data, progress=lambda fraction, message: task.progress(fraction, message)
        ),
    )
    background.wait(task, f"Optimising inputs for {layer or 'every class'}")


def _verdict(found) -> str:
    beats = int((found.activations >= found.best_test).sum())
    return (
        f"Optimised in {found.seconds:.1f} s. The optimised input excites its target at least as much as the best "
        f"of the 10,000 test images for **{beats} of {len(found.activations)}**."
    )


def _channels(entry, found, data, layer: str, first: bool) -> None:
    st.markdown(_verdict(found))
    if first:
        st.caption(
            "A first-layer filter is one weighted sum of pixels, so its mean response over the whole map only "
            "grows with the brightness its weights add up to: a flat white (or black) picture wins. Its pattern "
            "is in its weights: the first layer filters above, and the by-hand section."
        )
    top = filter_top_images.cached(entry.path)
    count = len(found.images)
    limit = st.slider("Channels shown", 1, count, min(8, count), key=f"{KEY}_count_{layer}")
    for start in range(0, limit, 2):
        columns = st.columns([1, 2, 1, 2])
        for pair, c in enumerate(range(start, min(start + 2, limit))):
            wish, tops = columns[2 * pair], columns[2 * pair + 1]
            show_image(
                feature_vis.picture(found.images[c]),
                alt=f"the input optimised for channel {c} of {layer}: the pattern that excites it most",
                where=wish,
                caption=f"channel {c}: {found.activations[c]:.2f}",
            )
            if top is not None and data is not None:
                best = top.layer(layer)
                images = data.test_images[best.indices[c].tolist()].numpy()
                show_image(
                    filter_top_images.channel_picture(images, best.maps[c], best.grid),
                    alt=f"the {len(images)} test images that excite channel {c} of {layer} most, tinted where it "
                    "responds",
                    where=tops,
                    caption=f"its top {len(images)} test images: best {found.best_test[c]:.2f}",
                )


def _classes(found, class_names) -> None:
    st.markdown(_verdict(found))
    st.caption("Each picture raises one class's score (its logit, before softmax) as far as it can.")
    for start in range(0, len(found.images), 5):
        for column, c in zip(st.columns(5), range(start, min(start + 5, len(found.images)))):
            name = class_names[c] if c < len(class_names) else f"class {c}"
            show_image(
                feature_vis.picture(found.images[c]),
                alt=f"the input optimised to raise the score of {name}",
                where=column,
                caption=f"{name}: {found.activations[c]:.1f} (best test image {found.best_test[c]:.1f})",
            )
