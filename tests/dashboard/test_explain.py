"""Explain page: every method for the answer and the runner-up, opened from an Evaluate mistake, bad input."""

from urllib.parse import parse_qs

import numpy as np
import pytest

from core.analysis import inference
from core.data.classes import CLASS_NAMES
from core.io import checkpoint, preprocess
from core.models import build
from tests.dashboard.my_pages import evaluation_of, open_page, use_trained_model

TITLES = ["Grad-CAM · conv2", "Gradient saliency", "Integrated Gradients", "Occlusion", "Which explanation to trust?"]


@pytest.fixture()
def ckpt(monkeypatch, tmp_path_factory, data_dir, tmp_path):
    return use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path / "no-shipped")


def heat_captions(at):
    return [img.caption for e in at.get("image") for img in e.proto.imgs if img.caption.startswith("for ")]


def open_explain(**query):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.studio_app import HOME

    at = AppTest.from_file(HOME, default_timeout=120)
    at.query_params.update(query)
    at.run()
    at.switch_page("views/explain.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_explain_a_test_image(ckpt, fmnist):
    at = open_page("views/explain.py")
    assert at.title[0].value == "Why did it say that?"
    assert [s.value for s in at.subheader] == TITLES
    first_shirt = int((fmnist.test_labels == 6).nonzero()[0])
    probs = inference.probabilities(checkpoint.load(ckpt).model, fmnist.test_images[first_shirt][None])[0].numpy()
    best, second = np.argsort(-probs)[:2]
    said = [m.value for m in at.markdown if " says **" in m.value][0]
    assert f"says **{CLASS_NAMES[best]}** ({probs[best]:.1%}); runner-up **{CLASS_NAMES[second]}**" in said
    beside = 6 if best != 6 else second  # a mistake is shown beside the true class, else the runner-up
    captions = heat_captions(at)
    assert (
        captions
        == [f"for {CLASS_NAMES[best]} ({probs[best]:.1%})", f"for {CLASS_NAMES[beside]} ({probs[beside]:.1%})"] * 4
    )
    assert any("true class: Shirt" in img.caption for e in at.get("image") for img in e.proto.imgs)
    assert at.selectbox(key="explain_layer_test-cnn").options == ["conv1", "conv2"]
    alts = [img.alt for e in at.get("image") for img in e.proto.imgs]
    assert alts[0] == "what the model sees: the 28×28 input, a test image of class Shirt"
    maps = alts[1:]
    assert len(maps) == 8 and maps[0].startswith(f"Grad-CAM map for {CLASS_NAMES[best]} over the input: evidence ")
    assert all(" over the input: evidence " in a or a.endswith("no evidence either way") for a in maps)
    assert [c.value for c in at.caption if c.value.startswith("Evidence ")][0] == maps[0].split(": ", 1)[
        1
    ].capitalize() + "."

    at.selectbox(key=f"explain_b_test{first_shirt}").set_value("Trouser").run()
    assert heat_captions(at)[1] == f"for Trouser ({probs[1]:.1%})"
    at.selectbox(key="explain_layer_test-cnn").set_value("conv1").run()
    assert at.subheader[0].value == "Grad-CAM · conv1" and not at.error


def test_evaluate_mistakes_link_to_their_explanation(ckpt, fmnist):
    result = evaluation_of(ckpt, fmnist)
    at = open_page("views/evaluate.py")
    links = [link.proto for link in at.get("page_link")]
    shown = result.pair(6, 0)[:24]
    assert [parse_qs(link.query_string) for link in links] == [
        {"model": ["test-cnn"], "index": [str(i)]} for i in shown
    ]
    assert all(link.page == "explain" and link.label == "Why?" for link in links)

    at = open_explain(model="test-cnn", index=str(shown[0]))
    assert at.number_input(key="explain_test_index").value == shown[0]
    assert any("true class: Shirt" in img.caption for e in at.get("image") for img in e.proto.imgs)
    said = [m.value for m in at.markdown if " says **" in m.value][0]
    assert "says **T-shirt/top**" in said
    captions = heat_captions(at)
    assert len(captions) == 8 and captions[0].startswith("for T-shirt/top (") and captions[1].startswith("for Shirt (")


def test_bad_link_is_one_line(ckpt):
    at = open_explain(model="nope", index="12345")
    assert [e.value for e in at.error] == [
        "No model named 'nope': pick one below.",
        "Test image index '12345' does not exist: use a number from 0 to 9,999.",
    ]
    assert [s.value for s in at.subheader] == TITLES  # the page still works with the defaults


def test_link_with_a_class_and_a_layer(ckpt):
    at = open_explain(model="test-cnn", index="0", target="shirt", layer="conv1")
    assert not at.error
    assert at.subheader[0].value == "Grad-CAM · conv1"
    assert heat_captions(at)[0].startswith("for Shirt (")
    at = open_explain(model="test-cnn", index="0", target="Shrt", layer="conv9")
    assert [e.value for e in at.error] == [
        "Cannot explain that class: unknown class 'Shrt'; use a number 0-9 or one of: T-shirt/top, Trouser, "
        "Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.",
        "Cannot use that layer: unknown layer 'conv9'; Grad-CAM layers of this model: conv1, conv2.",
    ]
    assert [s.value for s in at.subheader] == TITLES


def test_mlp_gets_a_line_instead_of_grad_cam(monkeypatch, tmp_path, data_dir):
    from core.library import catalog

    shipped = tmp_path / "shipped"
    checkpoint.save(
        shipped / "mlp.safetensors",
        build("mlp"),
        "mlp",
        {"hidden": [256, 128], "dropout": 0.2, "batch_norm": False},
        {"name": "tiny-mlp"},
    )
    monkeypatch.setattr(catalog, "SHIPPED_DIR", shipped)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    at = open_page("views/explain.py")
    assert [i.value for i in at.info] == [
        "Grad-CAM needs a convolution layer and MLP has none; use saliency, integrated_gradients or occlusion."
    ]
    assert [s.value for s in at.subheader] == ["Grad-CAM"] + TITLES[1:]
    assert len(heat_captions(at)) == 6 and not at.error


def test_upload_and_bad_upload(ckpt, fmnist):
    at = open_page("views/explain.py", explain_source="Upload")
    at.file_uploader(key="explain_upload").set_value(("x.png", b"not really a png", "image/png")).run()
    assert not at.exception
    assert (
        at.error[0].value
        == "This file cannot be used: not an image in a format the studio reads: upload a PNG, JPEG, WebP, BMP, GIF, TIFF, HEIC/HEIF, AVIF or JPEG 2000 file."
    )
    assert not at.subheader
    png = preprocess.encode_png(255 - fmnist.test_images[3].numpy())
    at.file_uploader(key="explain_upload").set_value(("coat.png", png, "image/png")).run()
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader] == TITLES
