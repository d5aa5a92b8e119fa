"""Where a picture comes from on the Classify, Feature maps and Explain pages: a drawing, an upload or a test
image, always turned into the 28x28 input by core.io.preprocess, with every step shown."""

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from core.base.errors import ImageError
from core.data.classes import CLASS_NAMES
from core.io import preprocess
from dashboard.images import show_image

if TYPE_CHECKING:
    import torch

UPLOAD_TYPES = list(preprocess.EXTENSIONS)
CANVAS_SIDE = 280


def _canvas_widget():
    """streamlit-drawable-canvas's st_canvas, or None where it cannot load (e.g. under AppTest)."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception:
        return None
    return st_canvas


def drawing(key: str):
    """A canvas with pen width and clear; returns the drawing's RGBA array, or None if there is none."""
    st_canvas = _canvas_widget()
    if st_canvas is None:
        st.info("The drawing canvas is not available here; upload an image instead.")
        return None
    generation = st.session_state.setdefault(f"{key}_generation", 0)
    pen, clear = st.columns([3, 1], vertical_alignment="bottom")
    width = pen.slider("Pen width", 4, 40, 18, key=f"{key}_pen")
    if clear.button("Clear", key=f"{key}_clear", icon=":material/delete:"):
        st.session_state[f"{key}_generation"] = generation = generation + 1
    st.space("small")  # room for the canvas's floating toolbar
    result = st_canvas(
        stroke_width=width,
        stroke_color="#000000",
        background_color="#ffffff",
        height=CANVAS_SIDE,
        width=CANVAS_SIDE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"{key}_canvas_{generation}",
    )
    st.caption(
        "Draw one piece of clothing, dark on white, filling most of the square. The canvas toolbar has undo and redo."
    )
    image = result.image_data if result is not None else None
    if image is None or not (result.json_data or {}).get("objects"):
        return None
    return image


def upload(key: str) -> bytes | None:
    file = st.file_uploader(
        f"Upload an image ({preprocess.ACCEPTED}; up to 10 MB)", type=UPLOAD_TYPES, key=key, max_upload_size=10
    )
    return file.getvalue() if file is not None else None


def prepare_drawing(rgba) -> "preprocess.Prepared | None":
    if rgba is None:
        st.info("Draw something on the canvas to classify it.")
        return None
    try:
        return preprocess.from_canvas(rgba)
    except ImageError:
        st.info("The canvas is empty: draw something to classify it.")
        return None


def prepare_upload(data: bytes | None) -> "preprocess.Prepared | None":
    if data is None:
        st.info("Choose an image file to classify it.")
        return None
    try:
        return preprocess.from_bytes(data)
    except ImageError as e:
        st.error(f"This file cannot be used: {e}")
        return None


def show_steps(prepared: "preprocess.Prepared") -> None:
    """Each preprocessing step, left to right, ending with what the model receives."""
    columns = st.columns(len(prepared.steps))
    for number, (column, step) in enumerate(zip(columns, prepared.steps), start=1):
        picture = preprocess.enlarge(step.image)
        height, width = picture.shape[:2]
        with column:  # the longer side 140 px, so a tall crop is no taller than the square steps
            show_image(
                picture,
                alt=f"step {number} of {len(prepared.steps)}, {step.title}: {step.caption}",
                caption=f"{step.title} ({step.caption})",
                width=max(1, round(140 * width / max(height, width))),
            )
    for note in prepared.notes:
        st.caption(f"ℹ️ {note[0].upper()}{note[1:]}")


def test_image_picker(data, key: str) -> int:
    """Pick a test image by index or by class; returns its index."""
    how = st.radio("Pick by", ["Class", "Index"], horizontal=True, key=f"{key}_how")
    if how == "Index":
        return int(st.number_input("Test image index (0-9,999)", 0, len(data.test_labels) - 1, 0, key=f"{key}_index"))
    left, right = st.columns(2)
    name = left.selectbox("Class", CLASS_NAMES, index=6, key=f"{key}_class")
    indices = (data.test_labels == CLASS_NAMES.index(name)).nonzero().flatten().tolist()
    nth = right.number_input(f"Which {name} (1-{len(indices)})", 1, len(indices), 1, key=f"{key}_nth")
    return indices[int(nth) - 1]


@dataclass(frozen=True)
class Picture:
    """The 28x28 input a page works on, with what is known about it."""

    image: "torch.Tensor"  # 28x28 uint8, as the dataset holds its images
    label: str | None  # the true class of a test image; None for a drawing or an upload
    ident: str  # "test<index>", or a digest of the drawn or uploaded pixels: keys the widgets of this picture


def picture(data, key: str) -> Picture:
    """The input picker: a test image (when the dataset is there), a drawing or an upload, chosen with the radio
    `<key>_source`; the page stops with a hint until there is a picture. `data` is the dataset or None."""
    sources = (["Test image"] if data is not None else []) + ["Drawing", "Upload"]
    if data is None:
        st.caption("Without the dataset there are no test images: draw or upload a picture.")
    if st.session_state.get(f"{key}_source") not in sources:  # e.g. a link asked for a test image
        st.session_state.pop(f"{key}_source", None)
    source = st.radio("Input", sources, horizontal=True, key=f"{key}_source")
    if source == "Test image":
        index = test_image_picker(data, f"{key}_test")
        return Picture(data.test_images[index], CLASS_NAMES[int(data.test_labels[index])], f"test{index}")
    if source == "Drawing":
        with st.columns(2)[0]:
            prepared = prepare_drawing(drawing(f"{key}_draw"))
    else:
        prepared = prepare_upload(upload(f"{key}_upload"))
    if prepared is None:
        st.stop()
    with st.expander("How the picture became 28×28", expanded=False):
        show_steps(prepared)
    image = prepared.tensor
    return Picture(image, None, hashlib.sha1(image.numpy().tobytes()).hexdigest()[:12])
