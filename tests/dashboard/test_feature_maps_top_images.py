"""Feature maps page: the "what each filter looks for" grid under each convolution, computed in the background."""

import time

import pytest

from core.analysis import filter_top_images
from core.data.classes import CLASS_NAMES
from tests.dashboard.my_pages import open_page, use_trained_model


@pytest.fixture()
def ckpt(monkeypatch, tmp_path_factory, data_dir, tmp_path):
    return use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path / "no-shipped")


def test_top_images_under_each_convolution(ckpt, fmnist):
    filter_top_images._memory.clear()
    at = open_page("views/feature_maps.py")
    assert not [m for m in at.markdown if m.value.startswith("What each filter")]  # off until asked for
    at.toggle(key="maps_top").set_value(True).run()
    assert not at.exception  # the work runs in the background; the maps show at once
    assert len([m for m in at.markdown if m.value.startswith("**conv")]) == 2
    deadline = time.monotonic() + 120
    while filter_top_images.cached(ckpt) is None:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    at.run()
    assert [m.value for m in at.markdown if m.value.startswith("What each filter")] == [
        "What each filter of **conv1.0** looks for (6 channels, strongest image first)",
        "What each filter of **conv2.0** looks for (16 channels, strongest image first)",
    ]
    top = filter_top_images.cached(ckpt)
    captions = [img.caption for e in at.get("image") for img in e.proto.imgs if img.caption.startswith("channel ")]
    assert len(captions) == 6 + 16
    first = top.layer("conv1.0").indices[0][0]
    assert captions[0] == f"channel 0 · {CLASS_NAMES[int(fmnist.test_labels[first])]}"
    assert filter_top_images.cache_path(ckpt).is_file() and filter_top_images.cache_path(ckpt).parent == ckpt.parent
