"""Data page: sample grid of the chosen class, shuffle, class balance, mean images, augmentation preview."""

import pytest

from core.data.classes import CLASS_NAMES
from tests.dashboard.studio_app import chart_specs, forget_caches, open_page


@pytest.fixture(autouse=True)
def environment(monkeypatch, data_dir):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    forget_caches()
    yield
    forget_caches()


def image_rows(at):
    """Captions of each st.image call, in page order."""
    return [[img.caption for img in element.proto.imgs] for element in at.get("image")]


def sample_indices(at) -> list[int]:
    return [int(c.lstrip("#")) for c in image_rows(at)[0]]


def test_data_page_shows_every_section(fmnist):
    at = open_page("views/data.py")
    assert at.title[0].value == "The data"
    assert [s.value for s in at.subheader] == [
        "Samples",
        "Class balance",
        "Mean image per class",
        "Training augmentation",
    ]
    rows = image_rows(at)
    picked = sample_indices(at)
    assert len(picked) == 16 and all(fmnist.train_labels[i] == 0 for i in picked)  # T-shirt/top by default
    assert rows[1] == list(CLASS_NAMES)  # mean image per class
    assert rows[2:] == [["original"] + [f"augmented {k}" for k in range(1, 6)]] * 4  # 4 samples, 5 variants
    assert "6,000 training and 1,000 test images per class" in at.caption[0].value
    spec = chart_specs(at)[0]
    assert spec["encoding"]["x"]["field"] == "class" and spec["encoding"]["y"]["field"] == "images"
    assert spec["title"] == "Images per class, training and test split"
    assert spec["description"].startswith("Bar chart of images per class: T-shirt/top 6,000 training, 1,000 test; ")
    # every picture says what it shows
    alts = [[img.alt for img in element.proto.imgs] for element in at.get("image")]
    assert alts[0] == [f"training image {i:,}: T-shirt/top" for i in picked]
    assert alts[1] == [f"mean of the 6,000 training images of {name}" for name in CLASS_NAMES]
    assert alts[2][0] == f"training image {picked[0]:,} (T-shirt/top), original"
    assert (
        alts[2][1]
        == f"training image {picked[0]:,} (T-shirt/top), augmented copy 1: shifted up to 2 pixels, perhaps mirrored"
    )


def test_choosing_class_count_and_shuffle(fmnist):
    at = open_page("views/data.py")
    at.selectbox(key="data_class").set_value("Bag")
    at.slider(key="data_count").set_value(8)
    at.run()
    first = sample_indices(at)
    assert len(first) == 8 and all(fmnist.train_labels[i] == CLASS_NAMES.index("Bag") for i in first)
    at.button(key="data_shuffle").click().run()
    second = sample_indices(at)
    assert len(second) == 8 and all(fmnist.train_labels[i] == 8 for i in second)
    assert second != first


def test_data_page_without_dataset_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path))
    at = open_page("views/data.py")
    assert "Fashion-MNIST not found" in at.warning[0].value
    assert not at.subheader and not at.get("image")
