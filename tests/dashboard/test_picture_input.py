"""The one input picker of Explain and Feature maps: the same choices on both pages, with the dataset and
without it (then a request for a test image falls back to a drawing, with a word on why)."""

import pytest

from tests.dashboard.my_pages import open_page, use_trained_model
from tests.dashboard.studio_app import forget_caches

PAGES = [("views/explain.py", "explain"), ("views/feature_maps.py", "maps")]
NO_DATASET = "Without the dataset there are no test images: draw or upload a picture."


@pytest.fixture()
def ckpt(monkeypatch, tmp_path_factory, data_dir, tmp_path):
    return use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path / "no-shipped")


@pytest.mark.parametrize("page, key", PAGES)
def test_with_the_dataset_a_test_image_is_the_default(ckpt, page, key):
    at = open_page(page)
    assert at.radio(key=f"{key}_source").options == ["Test image", "Drawing", "Upload"]
    assert at.radio(key=f"{key}_test_how").options == ["Class", "Index"]
    assert at.selectbox(key=f"{key}_test_class").value == "Shirt"
    assert any("true class: Shirt" in img.caption for e in at.get("image") for img in e.proto.imgs)
    assert NO_DATASET not in [c.value for c in at.caption]


@pytest.mark.parametrize("page, key", PAGES)
def test_without_the_dataset_a_test_image_falls_back_to_drawing(ckpt, page, key, monkeypatch, tmp_path):
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path / "empty"))
    forget_caches()
    at = open_page(page, **{f"{key}_source": "Test image"})
    assert at.radio(key=f"{key}_source").options == ["Drawing", "Upload"]
    assert at.radio(key=f"{key}_source").value == "Drawing"
    assert NO_DATASET in [c.value for c in at.caption]
    assert at.info[-1].value == "Draw something on the canvas to classify it."  # and the page waits for it
    assert not at.subheader and not any(" says **" in m.value or "Prediction" in m.value for m in at.markdown)
    assert not at.warning and not at.error  # a missing dataset is not an error on these pages
