"""Every picture on a page has alternative text: show_image refuses one without, and no page calls st.image itself."""

import ast
from pathlib import Path

import numpy as np
import pytest

from dashboard.images import show_image

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
ST_IMAGE_OPTIONS = {"caption", "width", "output_format", "use_container_width", "clamp", "channels", "alt"}


class Recorder:
    """Stands in for st (or a column): records st.image's arguments."""

    def __init__(self):
        self.calls = []

    def image(self, image, **options):
        self.calls.append((image, options))


def test_show_image_passes_the_alternative_text_to_st_image():
    where, picture = Recorder(), np.zeros((28, 28), dtype=np.uint8)
    show_image(picture, alt="test image 4,112: true class Shirt, predicted T-shirt/top, 61%", where=where, width=112)
    show_image([picture, picture], alt=["first", "second"], caption=["#1", "#2"], where=where)
    assert [options for _, options in where.calls] == [
        {"caption": None, "alt": "test image 4,112: true class Shirt, predicted T-shirt/top, 61%", "width": 112},
        {"caption": ["#1", "#2"], "alt": ["first", "second"]},
    ]


def test_show_image_refuses_a_picture_without_its_text():
    where, picture = Recorder(), np.zeros((28, 28), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"^every picture needs a non-empty alternative text$"):
        show_image(picture, alt="  ", where=where)
    with pytest.raises(ValueError, match=r"^every picture needs a non-empty alternative text$"):
        show_image([picture, picture], alt=["first", None], where=where)
    with pytest.raises(ValueError, match=r"^1 alternative texts for 2 pictures$"):
        show_image([picture, picture], alt="both", where=where)
    assert where.calls == []


def test_no_page_draws_a_picture_without_show_image():
    """st.image (or a column's .image) called with st.image's own options anywhere but dashboard/images.py."""
    found = []
    for path in sorted(DASHBOARD.rglob("*.py")):
        if path.name == "images.py" and path.parent == DASHBOARD:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "image"):
                continue
            by_st = isinstance(node.func.value, ast.Name) and node.func.value.id == "st"
            if by_st or {k.arg for k in node.keywords} & ST_IMAGE_OPTIONS:
                found.append(f"{path.relative_to(DASHBOARD)}:{node.lineno}")
    assert found == []
