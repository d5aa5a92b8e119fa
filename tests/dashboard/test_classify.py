"""Classify page: an uploaded test image gets its label; steps shown; all models side by side; bad files."""

import numpy as np
import pytest

from core.analysis import evaluation
from core.data.classes import CLASS_NAMES
from core.io import checkpoint, preprocess
from core.models import build
from core.training.config import TrainConfig
from tests.dashboard.my_pages import open_page, use_trained_model
from tests.dashboard.studio_app import forget_caches

STEPS = ["Grayscale", "Light object on black", "Cropped to the object", "Padded to a square", "What the model sees"]


@pytest.fixture()
def ckpt(monkeypatch, tmp_path_factory, data_dir, tmp_path):
    return use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path / "shipped")


def confident_correct(ckpt, fmnist, cls: int) -> int:
    result = evaluation.evaluate(ckpt, fmnist)
    return int(np.flatnonzero((result.labels == cls) & (result.predictions == cls) & (result.confidence > 0.8))[0])


def upload(at, png: bytes):
    at.radio(key="classify_source").set_value("Upload").run()
    at.file_uploader(key="classify_upload").set_value(("picture.png", png, "image/png")).run()
    assert not at.exception, [e.message for e in at.exception]


def step_captions(at):
    return [img.caption.split(" (")[0] for e in at.get("image") for img in e.proto.imgs]


def test_opens_on_the_canvas(ckpt):
    at = open_page("views/classify.py")
    assert at.title[0].value == "Classify your own picture"
    assert at.radio(key="classify_source").value == "Draw"
    assert "Draw something on the canvas to classify it." in [i.value for i in at.info]


def test_uploaded_test_image_gets_its_label(ckpt, fmnist, monkeypatch, tmp_path):
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path / "no-data"))  # works without the dataset
    index = confident_correct(ckpt, fmnist, cls=1)  # a trouser
    forget_caches()
    at = open_page("views/classify.py")
    upload(at, preprocess.encode_png(255 - fmnist.test_images[index].numpy()))  # dark on light, as a user's scan
    assert step_captions(at) == STEPS
    alts = [img.alt for e in at.get("image") for img in e.proto.imgs]
    assert [a.split(": ")[0] for a in alts] == [f"step {n} of {len(STEPS)}, {s}" for n, s in enumerate(STEPS, 1)]
    assert alts[-1] == f"step {len(STEPS)} of {len(STEPS)}, What the model sees: 28x28"
    assert "ℹ️ Inverted colours: Fashion-MNIST shows a light object on black." in [c.value for c in at.caption]
    [top] = at.metric
    assert top.label == "Top prediction" and top.value == "Trouser"


def test_all_models_side_by_side(ckpt, fmnist, tmp_path):
    checkpoint.save(
        tmp_path / "shipped" / "mlp.safetensors",
        build("mlp"),
        "mlp",
        {"hidden": [256, 128], "dropout": 0.2, "batch_norm": False},
        {"name": "untrained-mlp"},
    )
    index = confident_correct(ckpt, fmnist, cls=9)
    at = open_page("views/classify.py")
    upload(at, preprocess.encode_png(fmnist.test_images[index].numpy()))
    at.radio(key="classify_mode").set_value("All models side by side").run()
    assert not at.exception
    names = [
        m.value for m in at.markdown if m.value.startswith("**untrained-mlp**") or m.value.startswith("**test-cnn**")
    ]
    assert [n.split("**")[1] for n in names] == ["untrained-mlp", "test-cnn"]
    assert len(at.metric) == 2 and at.metric[1].value == "Ankle boot"
    assert all(m.value in CLASS_NAMES for m in at.metric)
    flip_note = [c.value for c in at.caption if c.value.startswith("Test-time flip:")]
    assert flip_note == []  # neither model predicts with the flip

    config = TrainConfig(arch="mlp", augment=True, test_time_flip=True).validate().to_dict()
    checkpoint.save(
        tmp_path / "shipped" / "mlp.safetensors",
        build("mlp"),
        "mlp",
        config["arch_settings"],
        {"name": "untrained-mlp", "config": config},
    )
    forget_caches()
    at.run()
    flip_note = [c.value for c in at.caption if c.value.startswith("Test-time flip:")]
    assert flip_note == [
        "Test-time flip: this model looks at the picture and at its mirror image and averages what it thinks of both."
    ]


def test_bad_upload(ckpt):
    at = open_page("views/classify.py")
    png = preprocess.encode_png(np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8))
    upload(at, png[: len(png) // 2])
    assert at.error[0].value == "This file cannot be used: the image is corrupt or truncated and cannot be decoded."
    assert not at.metric
