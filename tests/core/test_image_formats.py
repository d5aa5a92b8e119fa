"""Every accepted image format, written here with Pillow / pillow-heif, reads like its PNG twin: same
28x28 input (within the format's loss) and the same class from a shipped model. Others are refused."""

import io

import numpy as np
import pytest
from PIL import Image

from core.analysis import inference
from core.base.errors import ImageError
from core.io import checkpoint, preprocess
from core.library.catalog import SHIPPED_DIR

INDICES = [0, 1, 2, 3, 5, 8, 13, 21]  # one test image of most classes
SIDE = 112  # a "photo": dark garment on white, larger than 28x28
NOT_AN_IMAGE = (
    "not an image in a format the studio reads: upload a PNG, JPEG, WebP, BMP, GIF, TIFF, HEIC/HEIF, "
    "AVIF or JPEG 2000 file."
)


def photo(image: np.ndarray) -> Image.Image:
    return Image.fromarray(255 - image).resize((SIDE, SIDE), Image.Resampling.BICUBIC).convert("RGB")


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    # A copy: Pillow keeps each save's encoder settings on the image, and a later multi-page save reuses them.
    image.copy().save(buffer, format=fmt, **kw)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def model():
    return checkpoint.load(SHIPPED_DIR / "simple_cnn.safetensors").model


@pytest.fixture(scope="module")
def twins(fmnist, model):
    """Each test image as a PNG photo, its 28x28 input and the class the model gives it."""
    photos = [photo(fmnist.test_images[i].numpy()) for i in INDICES]
    inputs = np.stack([preprocess.from_bytes(encode(p, "PNG")).tensor.numpy() for p in photos])
    classes = inference.logits(model, _tensor(inputs)).argmax(1).tolist()
    return photos, inputs, classes


def _tensor(inputs):
    import torch

    return torch.from_numpy(inputs)


@pytest.mark.parametrize(
    "fmt, kw, tolerance",
    [
        ("JPEG", {"quality": 90}, 4),
        ("WEBP", {"quality": 90}, 4),
        ("BMP", {}, 0),
        ("GIF", {}, 3),
        ("TIFF", {}, 0),
        ("HEIF", {"quality": 90}, 4),
        ("AVIF", {"quality": 90}, 4),
        ("JPEG2000", {}, 0),
    ],
)
def test_each_format_classifies_like_its_png_twin(fmt, kw, tolerance, twins, model):
    photos, png_inputs, png_classes = twins
    inputs = np.stack([preprocess.from_bytes(encode(p, fmt, **kw)).tensor.numpy() for p in photos])
    assert inputs.shape == (len(INDICES), 28, 28)
    assert np.abs(inputs.astype(int) - png_inputs.astype(int)).mean() <= tolerance
    assert inference.logits(model, _tensor(inputs)).argmax(1).tolist() == png_classes


def test_multi_page_tiff_uses_its_first_page(twins):
    photos, png_inputs, _ = twins
    data = encode(photos[0], "TIFF", save_all=True, append_images=[photos[1].copy()])
    prepared = preprocess.from_bytes(data)
    assert prepared.notes[0] == "multi-page TIFF: using its first page."
    assert np.array_equal(prepared.tensor.numpy(), png_inputs[0])


def test_heic_exif_orientation_is_applied(twins):
    photos, png_inputs, _ = twins
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": the sensor stored it turned
    data = encode(photos[2].transpose(Image.Transpose.ROTATE_90), "HEIF", quality=95, exif=exif.tobytes())
    upright = preprocess.from_bytes(data).tensor.numpy()
    assert np.abs(upright.astype(int) - png_inputs[2].astype(int)).mean() < 4


@pytest.mark.parametrize("fmt", ["ICO", "PPM", "TGA", "PCX", "SGI"])
def test_unsupported_formats_are_refused_with_the_list(fmt, twins):
    data = encode(twins[0][0].resize((64, 64)), fmt)
    with pytest.raises(ImageError) as e:
        preprocess.from_bytes(data)
    assert str(e.value) == NOT_AN_IMAGE


def test_truncated_heic_is_refused_cleanly(twins):
    data = encode(twins[0][0], "HEIF", quality=90)
    with pytest.raises(ImageError) as e:
        preprocess.from_bytes(data[: len(data) // 2])
    assert str(e.value) == "the image is corrupt or truncated and cannot be decoded."


def test_upload_limits_match_streamlit():
    """The server refuses anything over the largest upload (a checkpoint) before reading it; every image
    uploader asks the browser to refuse more than 10 MB."""
    import re
    from pathlib import Path

    import tomllib

    from core.io import checkpoint_import

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == checkpoint_import.MAX_BYTES
    uploaders = [
        m
        for p in (root / "dashboard").rglob("*.py")
        for m in re.findall(r"st\.file_uploader\((.*?)\)\n", p.read_text(), re.S)
    ]
    images = [u for u in uploaders if "UPLOAD_TYPES" in u]
    assert images and all("max_upload_size=10" in u for u in images)
    assert preprocess.MAX_BYTES == 10 * 1024 * 1024


def test_predict_command_reads_a_phone_photo(twins, tmp_path, capsys):
    from core.data.classes import CLASS_NAMES
    from core.predict import main as predict_main

    photos, _, classes = twins
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(encode(photos[0], "HEIF", quality=90))
    assert predict_main([str(SHIPPED_DIR / "simple_cnn.safetensors"), str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: {CLASS_NAMES[classes[0]]} ")
