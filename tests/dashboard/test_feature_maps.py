"""Feature maps page: layers of the trained CNN on a test image, an MLP explained, uploads without the dataset."""

import pytest

from core.io import checkpoint, preprocess
from core.models import build
from tests.dashboard.my_pages import open_page, use_trained_model


@pytest.fixture()
def ckpt(monkeypatch, tmp_path_factory, data_dir, tmp_path):
    return use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path / "no-shipped")


def layer_lines(at):
    return [m.value for m in at.markdown if m.value.startswith("**") and " · " in m.value]


def test_cnn_on_a_test_image(ckpt, fmnist):
    at = open_page("views/feature_maps.py")
    assert at.title[0].value == "Feature maps"
    assert at.radio(key="maps_source").options == ["Test image", "Drawing", "Upload"]
    assert layer_lines(at) == [
        "**conv1.0** · Conv2d · output 6×24×24 (6 maps of 24×24)",
        "**pool1** · MaxPool2d · output 6×12×12 (6 maps of 12×12)",
        "**conv2.0** · Conv2d · output 16×8×8 (16 maps of 8×8)",
        "**pool2** · MaxPool2d · output 16×4×4 (16 maps of 4×4)",
    ]
    assert "6 filters of 5×5 pixels" in [img.caption for e in at.get("image") for img in e.proto.imgs]
    assert any("true class: Shirt" in img.caption for e in at.get("image") for img in e.proto.imgs)  # the default
    alts = [img.alt for e in at.get("image") for img in e.proto.imgs]
    assert alts[:3] == [
        "what the model sees: the 28×28 input, a test image of class Shirt",
        "the 6 first-layer filters, 5×5 weights each: red positive, blue negative, white zero",
        "conv1.0 output: 6 of its 6 feature maps of 24×24, bright where the channel responds",
    ]
    assert len(alts) == 2 + 4 + 2  # the input, the filters, one grid per layer, the sizes explorer's two grids
    assert all(alt.strip() for alt in alts)
    assert any(m.value.startswith("**Prediction: ") for m in at.markdown)

    at.radio(key="maps_test_how").set_value("Index").run()
    at.number_input(key="maps_test_index").set_value(1).run()
    assert any("true class: Pullover" in img.caption for e in at.get("image") for img in e.proto.imgs)
    assert int(fmnist.test_labels[1]) == 2

    at.slider(key="maps_channels").set_value(4).run()
    assert layer_lines(at)[2] == "**conv2.0** · Conv2d · output 16×8×8 (16 maps of 8×8, first 4 shown)"


def test_mlp_explains_why_there_are_no_maps(monkeypatch, tmp_path, data_dir):
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
    at = open_page("views/feature_maps.py")
    assert "has no feature maps" in at.info[0].value
    hidden = [m.value for m in at.markdown if m.value.startswith("**hidden")]
    assert len(hidden) == 2 and "256 units" in hidden[0] and "128 units" in hidden[1]
    assert not at.subheader or "Layer by layer" not in [s.value for s in at.subheader]


def test_upload_without_the_dataset(ckpt, fmnist, monkeypatch, tmp_path):
    from tests.dashboard.studio_app import forget_caches

    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path / "empty"))
    forget_caches()
    at = open_page("views/feature_maps.py")
    assert at.radio(key="maps_source").options == ["Drawing", "Upload"]
    at.radio(key="maps_source").set_value("Upload").run()
    png = preprocess.encode_png(255 - fmnist.test_images[3].numpy())
    at.file_uploader(key="maps_upload").set_value(("coat.png", png, "image/png")).run()
    assert not at.exception and not at.error
    assert len(layer_lines(at)) == 4


def test_bad_upload_is_one_line(ckpt):
    at = open_page("views/feature_maps.py", maps_source="Upload")
    at.file_uploader(key="maps_upload").set_value(("x.png", b"not really a png", "image/png")).run()
    assert not at.exception
    assert at.error[0].value == (
        "This file cannot be used: not an image in a format the studio reads: upload a PNG, "
        "JPEG, WebP, BMP, GIF, TIFF, HEIC/HEIF, AVIF or JPEG 2000 file."
    )
