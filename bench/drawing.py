"""A synthetic canvas drawing: a dark T-shirt outline painted on a transparent 280x280 RGBA canvas."""

import numpy as np
from PIL import Image, ImageDraw


def tshirt_rgba(side: int = 280) -> np.ndarray:
    """uint8 (side, side, 4): what streamlit-drawable-canvas returns for a quick sketch."""
    im = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    s = side / 280
    outline = [
        (90, 40),
        (120, 55),
        (160, 55),
        (190, 40),
        (250, 90),
        (220, 120),
        (200, 105),
        (200, 250),
        (80, 250),
        (80, 105),
        (60, 120),
        (30, 90),
        (90, 40),
    ]
    ImageDraw.Draw(im).line([(x * s, y * s) for x, y in outline], fill=(0, 0, 0, 255), width=max(1, round(12 * s)))
    return np.asarray(im)
