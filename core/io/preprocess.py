"""Turn an uploaded file or a canvas drawing into the 28x28 image a model sees, keeping every step.

Fashion-MNIST is a light object on black, scaled so its longest side fills the 28 pixels. So: grayscale
(transparent pixels are background), invert when the background is light, crop to the object, pad to a
square, resize to 28x28.
"""

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from core.base.errors import ImageError
from core.data.classes import IMAGE_SIZE

# Pillow's format names; HEIF comes from pillow-heif (registered on the first HEIF file), AVIF is Pillow's own.
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF", "HEIF", "AVIF", "JPEG2000")
ACCEPTED = "PNG, JPEG, WebP, BMP, GIF, TIFF, HEIC/HEIF, AVIF or JPEG 2000"
EXTENSIONS = ("png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff", "heic", "heif", "avif", "jp2", "j2k", "jpf")
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
WORK_SIDE = 1024  # larger images are scaled down first: plenty for a 28x28 result
INK = 0.05  # a pixel brighter than this (after levels) belongs to the object
MIN_CONTRAST = 0.04  # less than this between darkest and brightest pixel: a blank image
# Measured on the test set: 97% of objects touch both edges along their longest side, so no margin.
MARGIN = 0

NOT_AN_IMAGE = f"not an image in a format the studio reads: upload a {ACCEPTED} file."
CORRUPT = "the image is corrupt or truncated and cannot be decoded."
EMPTY_FILE = "the file is empty (0 bytes)."
BLANK = "the image is blank: there is no object to classify."
TOO_MANY_PIXELS = "the image is {size}; the limit is 40 megapixels."


@dataclass
class Step:
    title: str
    image: np.ndarray  # uint8 (H, W), for display
    caption: str = ""


@dataclass
class Prepared:
    """The 28x28 uint8 tensor a model receives, and how it got there."""

    tensor: torch.Tensor
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def from_bytes(data: bytes) -> Prepared:
    """Preprocess an uploaded file; every unusable file raises ImageError with one line."""
    rgba, notes = decode(data)
    return from_rgba(rgba, notes)


def from_canvas(rgba: np.ndarray) -> Prepared:
    """Preprocess a drawable-canvas array (H, W, 4), uint8 or float 0-255."""
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.size == 0:
        raise ImageError(f"expected an RGBA drawing (height, width, 4), got shape {tuple(rgba.shape)}.")
    return from_rgba(rgba.astype(np.float32) / 255.0)


def decode(data: bytes) -> tuple[np.ndarray, list[str]]:
    """Bytes -> float RGBA (H, W, 4) in [0, 1], checking size and pixel count before decoding."""
    if len(data) == 0:
        raise ImageError(EMPTY_FILE)
    if len(data) > MAX_BYTES:
        raise ImageError(f"the file is {len(data) / 1024 / 1024:.1f} MB; the limit is 10 MB.")
    notes = []
    if _is_heif(data):
        _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data), formats=_openers())
    except Image.DecompressionBombError:  # Pillow's own guard, for images far beyond our limit
        raise ImageError(TOO_MANY_PIXELS.format(size="far over 40 megapixels")) from None
    except UnidentifiedImageError:
        raise ImageError(NOT_AN_IMAGE) from None
    except Exception:
        raise ImageError(CORRUPT) from None
    width, height = im.size
    if width * height > MAX_PIXELS:
        raise ImageError(TOO_MANY_PIXELS.format(size=f"{width}x{height} ({width * height / 1e6:.0f} megapixels)"))
    try:
        if getattr(im, "n_frames", 1) > 1:
            notes.append(
                "multi-page TIFF: using its first page."
                if im.format == "TIFF"
                else f"animated {im.format}: using its first frame."
            )
            im.seek(0)
        if im.format == "JPEG":
            im.draft(im.mode, (WORK_SIDE, WORK_SIDE))  # decode at reduced scale: fast and small
        im.load()
    except Exception:
        raise ImageError(CORRUPT) from None
    rgba = _to_rgba(_upright(im))
    return rgba, notes


def _openers() -> list[str]:
    """The accepted formats Pillow can open now (HEIF only once pillow-heif is registered)."""
    Image.init()
    return [f for f in FORMATS if f in Image.OPEN]


def _is_heif(data: bytes) -> bool:
    """An ISO base media file (HEIC, HEIF, AVIF) starts with an 'ftyp' box."""
    return data[4:8] == b"ftyp"


def _register_heif() -> None:
    """Teach Pillow to open HEIC/HEIF (phone photos) through pillow-heif; imported only when needed."""
    global _heif_registered
    if _heif_registered:
        return
    try:
        import pillow_heif
    except ImportError:
        raise ImageError("HEIC/HEIF images need the pillow-heif package (pip install pillow-heif).") from None
    pillow_heif.register_heif_opener()
    _heif_registered = True


_heif_registered = False


def _upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation (phone photos); unreadable EXIF leaves the image as it is."""
    try:
        return ImageOps.exif_transpose(im)
    except Exception:
        return im


def _to_rgba(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> float RGBA in [0, 1]; 16-bit grayscale is scaled, not clipped."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        gray = np.asarray(_shrink(im.convert("I")), dtype=np.float32)
        gray = np.clip(gray / 65535.0, 0, 1)
        return np.dstack([gray, gray, gray, np.ones_like(gray)])
    if im.mode == "CMYK":
        im = im.convert("RGB")
    return np.asarray(_shrink(im.convert("RGBA")), dtype=np.float32) / 255.0


def _shrink(im: Image.Image) -> Image.Image:
    """Scale large images down to WORK_SIDE first: plenty for a 28x28 result, and fast."""
    if max(im.size) > WORK_SIDE:
        im = im.copy()
        im.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    return im


def from_rgba(rgba: np.ndarray, notes: list[str] | None = None) -> Prepared:
    """Float RGBA in [0, 1] -> Prepared: grayscale, light-on-dark, crop, square, 28x28."""
    notes = list(notes or [])
    steps = []
    gray, alpha = _luminance(rgba), rgba[..., 3]
    if alpha.max() <= 0:
        raise ImageError(BLANK)
    has_transparency = alpha.min() < 1
    if has_transparency:
        # Transparent pixels are background: put the object on the colour that contrasts with it.
        object_level = float((gray * alpha).sum() / alpha.sum())
        background = 0.0 if object_level > 0.5 else 1.0
        gray = gray * alpha + background * (1 - alpha)
        notes.append(f"transparent pixels treated as {'black' if background == 0 else 'white'} background.")
    steps.append(Step("Grayscale", _u8(gray), f"{gray.shape[1]}x{gray.shape[0]}"))
    if gray.max() - gray.min() < MIN_CONTRAST:
        raise ImageError(BLANK)

    light = _background_level(gray) > 0.5
    ink = 1 - gray if light else gray
    ink = _levels(ink)
    steps.append(
        Step(
            "Light object on black",
            _u8(ink),
            "inverted: the background was light" if light else "kept: the background was already dark",
        )
    )
    if light:
        notes.append("inverted colours: Fashion-MNIST shows a light object on black.")

    box = _bounding_box(ink)
    if box is None:
        raise ImageError(BLANK)
    top, bottom, left, right = box
    crop = ink[top:bottom, left:right]
    steps.append(Step("Cropped to the object", _u8(crop), f"{crop.shape[1]}x{crop.shape[0]}"))

    square = _pad_square(crop)
    steps.append(Step("Padded to a square", _u8(square), f"{square.shape[1]}x{square.shape[0]}"))

    final = _resize(square, IMAGE_SIZE, MARGIN)
    steps.append(Step("What the model sees", final, "28x28"))
    return Prepared(torch.from_numpy(final.copy()), steps, notes)


def _luminance(rgba: np.ndarray) -> np.ndarray:
    return rgba[..., 0] * 0.299 + rgba[..., 1] * 0.587 + rgba[..., 2] * 0.114


def _background_level(gray: np.ndarray) -> float:
    """Median of the outermost pixels: what surrounds the object."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border))


def _levels(ink: np.ndarray) -> np.ndarray:
    """Stretch so the background (the border's level) is 0 and the brightest pixel 1; darker is clipped."""
    low = _background_level(ink)
    high = float(ink.max())
    if high - low < MIN_CONTRAST:
        raise ImageError(BLANK)
    return np.clip((ink - low) / (high - low), 0, 1)


def _bounding_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero((ink > INK).any(1))
    cols = np.flatnonzero((ink > INK).any(0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _pad_square(image: np.ndarray) -> np.ndarray:
    h, w = image.shape
    side = max(h, w)
    out = np.zeros((side, side), dtype=image.dtype)
    top, left = (side - h + 1) // 2, (side - w + 1) // 2  # odd leftovers go first, as in the dataset
    out[top : top + h, left : left + w] = image
    return out


def _resize(square: np.ndarray, size: int, margin: int) -> np.ndarray:
    """Area-average the square down (or bilinear up) to (size - 2*margin), centred in size x size."""
    inner = size - 2 * margin
    im = Image.fromarray(square.astype(np.float32))
    scaled = np.asarray(
        im.resize((inner, inner), Image.Resampling.LANCZOS if square.shape[0] < inner else Image.Resampling.BOX)
    )
    out = np.zeros((size, size), dtype=np.float32)
    out[margin : margin + inner, margin : margin + inner] = scaled
    return _u8(out)


def _u8(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)


def enlarge(image: np.ndarray, side: int = 140) -> np.ndarray:
    """Scale a small image up by a whole factor (sharp pixels) so its longer side is about `side`."""
    factor = max(1, side // max(image.shape[:2]))
    return np.asarray(image).repeat(factor, axis=0).repeat(factor, axis=1)


def encode_png(image: np.ndarray) -> bytes:
    """A uint8 grayscale array as PNG bytes (for downloads and tests)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()
