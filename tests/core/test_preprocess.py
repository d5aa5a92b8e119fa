"""Uploads and drawings become the 28x28 image a model sees; bad uploads get one exact line."""

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from core.base.errors import ImageError
from core.io import preprocess

NOT_AN_IMAGE = (
    "not an image in a format the studio reads: upload a PNG, JPEG, WebP, BMP, GIF, TIFF, HEIC/HEIF, "
    "AVIF or JPEG 2000 file."
)
# Test images the dataset shows with plenty of texture and shape.
INDICES = [0, 1, 2, 3, 5, 8, 13, 21]


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def distance(a: torch.Tensor, b) -> float:
    """Mean absolute pixel difference, 0-255."""
    return float(np.abs(a.numpy().astype(int) - np.asarray(b).astype(int)).mean())


@pytest.fixture(scope="module")
def originals(fmnist):
    return [fmnist.test_images[i].numpy() for i in INDICES]


def png_with_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (no pixel data is ever needed to reject it)."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


# --- rejected uploads: one exact line each ---------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "the file is empty (0 bytes)."),
        (b"hello, this is text", NOT_AN_IMAGE),
        (b"%PDF-1.4\n" + b"0" * 500, NOT_AN_IMAGE),
        (
            b"\x89PNG\r\n\x1a\n" + b"\0" * 7 * 1024 * 1024 + b"x" * (3 * 1024 * 1024 + 1),
            "the file is 10.0 MB; the limit is 10 MB.",
        ),
        (png_with_size(8000, 6000), "the image is 8000x6000 (48 megapixels); the limit is 40 megapixels."),
    ],
)
def test_bad_uploads_have_exact_messages(data, message):
    with pytest.raises(ImageError) as e:
        preprocess.from_bytes(data)
    assert str(e.value) == message


def test_decompression_bomb_is_refused_before_decoding():
    bomb = encode(Image.new("1", (20000, 10000)), "PNG")  # 200 megapixels in a few KB
    assert len(bomb) < 100_000
    with pytest.raises(ImageError) as e:
        preprocess.from_bytes(bomb)
    assert str(e.value) == "the image is far over 40 megapixels; the limit is 40 megapixels."


def test_truncated_png_is_corrupt(originals):
    data = encode(Image.fromarray(originals[0]).resize((280, 280)), "PNG")
    with pytest.raises(ImageError) as e:
        preprocess.from_bytes(data[: len(data) // 2])
    assert str(e.value) == "the image is corrupt or truncated and cannot be decoded."


def test_unsupported_format_is_refused(originals):
    with pytest.raises(ImageError) as e:
        preprocess.from_bytes(encode(Image.fromarray(originals[0]), "PDF"))
    assert str(e.value) == NOT_AN_IMAGE


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (100, 80), 255),
        Image.new("RGB", (64, 64), (30, 120, 200)),
        Image.new("RGBA", (64, 64), (0, 0, 0, 0)),
    ],
)
def test_blank_images_are_refused(image):
    with pytest.raises(ImageError) as e:
        preprocess.from_bytes(encode(image, "PNG"))
    assert str(e.value) == "the image is blank: there is no object to classify."


def test_blank_canvas_is_refused():
    with pytest.raises(ImageError) as e:
        preprocess.from_canvas(np.zeros((280, 280, 4), dtype=np.uint8))
    assert str(e.value) == "the image is blank: there is no object to classify."


# --- accepted uploads come back as the dataset image -----------------------------------------------


def test_dataset_image_round_trips_exactly(originals):
    for image in originals:
        prepared = preprocess.from_bytes(encode(Image.fromarray(image), "PNG"))
        assert prepared.tensor.dtype == torch.uint8 and prepared.tensor.shape == (28, 28)
        assert distance(prepared.tensor, image) < 3


def test_dark_on_light_is_inverted_back(originals):
    distances = []
    for image in originals:
        prepared = preprocess.from_bytes(encode(Image.fromarray(255 - image).resize((280, 280), Image.NEAREST), "PNG"))
        distances.append(distance(prepared.tensor, image))  # re-centring on a 280-pixel grid: sub-pixel shifts
        assert any("inverted" in note for note in prepared.notes)
        assert [s.title for s in prepared.steps] == [
            "Grayscale",
            "Light object on black",
            "Cropped to the object",
            "Padded to a square",
            "What the model sees",
        ]
    assert max(distances) < 25 and np.mean(distances) < 12


def test_sixteen_bit_png_keeps_its_range(originals):
    image = originals[1]
    sixteen = Image.fromarray(image.astype(np.uint16) * 257)
    data = encode(sixteen, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    assert distance(preprocess.from_bytes(data).tensor, image) < 3


def test_cmyk_jpeg(originals):
    image = originals[2]
    data = encode(Image.fromarray(255 - image).convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    assert distance(preprocess.from_bytes(data).tensor, image) < 12


def test_transparent_png_dark_object_on_nothing(originals):
    image = originals[3]
    rgba = np.zeros((28, 28, 4), dtype=np.uint8)
    rgba[..., 3] = image  # black ink, opacity = the dataset's brightness
    prepared = preprocess.from_bytes(encode(Image.fromarray(rgba), "PNG"))
    assert distance(prepared.tensor, image) < 6


def test_palette_png_with_transparency(originals):
    image = originals[4]
    palette_image = Image.fromarray(255 - image).convert("P")
    palette_image.info["transparency"] = int(np.asarray(palette_image)[0, 0])  # the background colour
    prepared = preprocess.from_bytes(encode(palette_image, "PNG", transparency=palette_image.info["transparency"]))
    assert distance(prepared.tensor, image) < 12


def test_animated_gif_uses_first_frame(originals):
    first, second = (Image.fromarray(255 - originals[i]).convert("P") for i in (5, 6))
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    prepared = preprocess.from_bytes(data)
    assert prepared.notes[0] == "animated GIF: using its first frame."
    assert distance(prepared.tensor, originals[5]) < distance(prepared.tensor, originals[6])
    assert distance(prepared.tensor, originals[5]) < 12


def test_exif_orientation_is_applied(originals):
    image = originals[7]
    stored = Image.fromarray(255 - image).resize((112, 112)).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    prepared = preprocess.from_bytes(encode(stored, "JPEG", quality=95, exif=exif))
    assert distance(prepared.tensor, image) < 15
    assert distance(prepared.tensor, image) < distance(prepared.tensor, np.rot90(image)) - 10


@pytest.mark.parametrize("fmt", ["WEBP", "BMP"])
def test_other_formats(originals, fmt):
    image = originals[0]
    kw = {"lossless": True} if fmt == "WEBP" else {}
    assert distance(preprocess.from_bytes(encode(Image.fromarray(255 - image), fmt, **kw)).tensor, image) < 3


def test_large_photo_is_scaled_down_and_centred():
    photo = Image.new("RGB", (3000, 2000), (235, 235, 235))
    photo.paste((20, 20, 20), (1400, 500, 1600, 1500))  # a tall dark bar: 200 x 1000
    prepared = preprocess.from_bytes(encode(photo, "JPEG", quality=90))
    final = prepared.tensor.numpy()
    columns = np.flatnonzero(final.max(0) > 128)
    rows = np.flatnonzero(final.max(1) > 128)
    assert rows[0] == 0 and rows[-1] == 27  # fills the height, like the dataset
    assert 4 <= len(columns) <= 7 and abs(columns.mean() - 13.5) < 1  # keeps its 1:5 aspect, centred


# --- drawings ---------------------------------------------------------------------------------------


def test_canvas_drawing_dark_strokes_on_transparent():
    canvas = np.zeros((280, 280, 4), dtype=np.uint8)
    canvas[60:220, 100:110] = (0, 0, 0, 255)  # a vertical stroke
    canvas[60:70, 100:180] = (0, 0, 0, 255)  # a horizontal stroke: an upside-down L, 160 x 80
    prepared = preprocess.from_canvas(canvas)
    final = prepared.tensor.numpy()
    assert final[0, 7:20].min() > 200  # the top stroke is light, on the first row
    assert final[27, 7:11].max() > 200  # the vertical stroke reaches the bottom
    assert final[:, :6].max() == 0 and final[:, 22:].max() == 0  # padded to a square: black sides
    assert final[10:, 12:].max() == 0  # inside the L is background


def test_canvas_drawing_white_background_and_light_strokes_agree():
    dark_on_white = np.full((200, 200, 4), 255, dtype=np.uint8)
    dark_on_white[50:150, 90:110, :3] = 0
    light_on_black = np.zeros((200, 200, 4), dtype=np.uint8)
    light_on_black[..., 3] = 255
    light_on_black[50:150, 90:110, :3] = 255
    a = preprocess.from_canvas(dark_on_white).tensor
    b = preprocess.from_canvas(light_on_black).tensor
    assert torch.equal(a, b)
    assert a.max() == 255 and a[:, 0].max() == 0


def test_canvas_needs_rgba():
    with pytest.raises(ImageError) as e:
        preprocess.from_canvas(np.zeros((10, 10, 3), dtype=np.uint8))
    assert str(e.value) == "expected an RGBA drawing (height, width, 4), got shape (10, 10, 3)."


def test_scan_pasted_on_a_grey_page_is_cropped_to_the_object(originals):
    """A white picture on a grey page: the page is the background, the white square is not the object."""
    image = originals[0]
    page = Image.new("RGB", (900, 700), (225, 220, 210))
    page.paste(Image.fromarray(255 - image).resize((560, 560), Image.NEAREST).convert("RGB"), (150, 60))
    prepared = preprocess.from_bytes(encode(page, "JPEG", quality=90))
    assert prepared.steps[2].image.shape[1] == 560  # cropped to the boot, not to the white square
    assert distance(prepared.tensor, image) < 20  # pixels darker than the page are lost: levels differ
