"""Feature maps: what every convolution and pooling layer of a model computes on one picture."""

import altair as alt
import pandas as pd
import streamlit as st

from core.analysis import feature_maps, filter_top_images
from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES
from core.io import preprocess
from dashboard import background, common, image_inputs
from dashboard.images import show_image
from dashboard.inside import by_hand_panel, sizes_panel, wishes_panel
from dashboard.prob_chart import show_probabilities

common.intro(
    "Feature maps",
    "A convolution layer slides small learned **filters** over the image; each filter produces one **feature "
    "map** that lights up where its pattern (an edge, a stripe, a corner) appears. Pooling then shrinks the "
    "maps, and deeper layers combine them into larger parts such as sleeves or soles. Pick a model and a "
    "picture and follow it layer by layer, from pixels to the ten class probabilities.",
)

entry, loaded = common.picked_model("maps_model")

# --- the input ----------------------------------------------------------------------------------------
data = common.dataset_if_present()
picked = image_inputs.picture(data, "maps")
image, label = picked.image, picked.label

try:
    maps = feature_maps.compute(loaded.model, image)
except (StudioError, RuntimeError) as e:
    st.error(f"{entry.name} cannot run on this input: {str(e).splitlines()[0]}")
    st.stop()

top = int(maps.probabilities.argmax())
left, right = st.columns([1, 2])
with left:
    st.markdown("**What the model sees**")
    show_image(
        preprocess.enlarge(image.numpy(), 168),
        alt=f"what the model sees: the 28×28 input, {f'a test image of class {label}' if label else 'your picture'}",
        width=168,
        caption=f"28×28 input{f' — true class: {label}' if label else ''}",
    )
with right:
    st.markdown(f"**Prediction: {loaded.class_names[top]}** ({maps.probabilities[top]:.1%})")
    show_probabilities(maps.probabilities, class_names=loaded.class_names)

# --- a model without convolutions -----------------------------------------------------------------------
if not maps.has_maps:
    st.info(
        f"**{loaded.display_name}** has no feature maps: it flattens the 28×28 image into 784 numbers "
        "before its first layer, so nothing in it is arranged as an image and no filter slides over the "
        "picture. What it has are hidden units: below, each layer's activations (one bar per unit)."
    )
    for layer in maps.hidden:
        active = int((layer.activations > 0).sum())
        st.markdown(f"**{layer.name}** — {layer.kind}, {layer.shape[0]} units, {active} active")
        frame = pd.DataFrame({"unit": range(layer.shape[0]), "activation": layer.activations})
        chart = (
            alt.Chart(frame)
            .mark_bar(color="#3b6ea5")
            .encode(
                x=alt.X("unit:Q", title="unit", scale=alt.Scale(domain=[0, layer.shape[0]], nice=False)),
                y=alt.Y("activation:Q", title="activation"),
                tooltip=["unit", alt.Tooltip("activation:Q", format=".3f")],
            )
        )
        strongest = int(frame.activation.idxmax())
        st.altair_chart(
            chart.properties(
                height=140,
                title=f"{layer.name}: activation of each unit",
                description=f"Bar chart of the {layer.shape[0]} units of {layer.name}: {active} active; the "
                f"strongest is unit {strongest} at {frame.activation[strongest]:.3f}",
            ),
            width="stretch",
        )
    st.stop()

# --- filters and maps -----------------------------------------------------------------------------------
st.subheader("First layer filters")
st.caption(
    "Each square is one learned filter (red = positive weight, blue = negative). Slid over the image, "
    "a filter responds where the picture matches its pattern."
)
show_image(
    feature_maps.filter_grid(maps.filters, columns=min(16, len(maps.filters)), tile=48, gap=6),
    alt=f"the {len(maps.filters)} first-layer filters, {maps.filters.shape[2]}×{maps.filters.shape[3]} weights each: "
    "red positive, blue negative, white zero",
    caption=f"{len(maps.filters)} filters of {maps.filters.shape[2]}×{maps.filters.shape[3]} pixels",
)

st.subheader("Layer by layer")
limit = st.slider("Channels shown per layer", 4, 64, 16, step=4, key="maps_channels")
st.caption(
    "Bright = strong response (each map scaled on its own). Convolution outputs are shown before the "
    "activation function; pooling outputs keep the strongest (max) or average response of each 2×2 block."
)
top = None
if data is not None and st.toggle(
    "Show what each filter looks for",
    key="maps_top",
    help="The 9 test images that excite each convolution channel most",
):
    top = filter_top_images.cached(entry.path)
    st.caption(
        "Under each convolution: **what each filter looks for** — the 9 test images that excite each channel "
        "most (highest mean response), tinted where the channel responds. They show what a filter has "
        "learned better than its weights do; a channel's favourite images can still share a pattern you "
        "would not name, such as a bright left edge."
    )
    if top is None:
        task = background.runner().submit(
            ("filter_top_images", str(entry.path), entry.path.stat().st_mtime),
            lambda task: filter_top_images.top_images(
                entry.path,
                data,
                progress=lambda done, total: task.progress(done / total, f"{done:,} of {total:,} test images"),
            ),
        )
        background.wait(task, "Finding the test images each filter likes most (once per model)")
for layer in maps.layers:
    channels, height, width = layer.shape
    shown = min(limit, channels)
    more = f", first {shown} shown" if shown < channels else ""
    single = height * width == 1  # a 1×1 map scaled on its own is always black: scale these together
    st.markdown(
        f"**{layer.name}** · {layer.kind} · output {channels}×{height}×{width} "
        f"({channels} maps of {height}×{width}{more}{'; scaled together' if single else ''})"
    )
    show_image(
        feature_maps.channel_grid(layer.activations[:shown], columns=8, tile=96, gap=4, per_channel=not single),
        alt=f"{layer.name} output: {shown} of its {channels} feature maps of {height}×{width}, "
        "bright where the channel responds",
    )
    if top is not None and layer.kind == "Conv2d":
        best = top.layer(layer.name)
        count = min(shown, best.channels)
        st.markdown(f"What each filter of **{layer.name}** looks for ({count} channels, strongest image first)")
        for row in range(0, count, 8):
            for column, c in zip(st.columns(8), range(row, count)):
                images = data.test_images[best.indices[c].tolist()].numpy()
                strongest = CLASS_NAMES[int(data.test_labels[int(best.indices[c][0])])]
                show_image(
                    filter_top_images.channel_picture(images, best.maps[c], best.grid),
                    alt=f"the {len(images)} test images that excite channel {c} of {layer.name} most, tinted orange "
                    f"where it responds; the strongest is a {strongest}",
                    where=column,
                    caption=f"channel {c} · {strongest}",
                    width="stretch",
                )

# --- inside one convolution: a number by hand, the sizes, what a filter wants to see ------------------------
by_hand_panel.show(
    loaded.model, image, {layer.name: layer.activations for layer in maps.layers if layer.kind == "Conv2d"}
)
sizes_panel.show(image, loaded.model, loaded.display_name)
wishes_panel.show(entry, loaded.model, data, loaded.class_names)
