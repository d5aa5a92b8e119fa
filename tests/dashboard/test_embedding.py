"""Embedding page: raw pixels beside the model's features, hover thumbnails, a slow projection in the background."""

import json
import time

import pytest

from core.analysis import embeddings
from core.data.classes import CLASS_NAMES
from tests.dashboard.my_pages import open_page, use_trained_model


@pytest.fixture()
def ckpt(monkeypatch, tmp_path_factory, data_dir, tmp_path):
    return use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path / "no-shipped")


def charts(at):
    return at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def point_captions(at):
    return [c.value for c in at.caption if " points · " in c.value]


def test_pca_side_by_side(ckpt, fmnist):
    at = open_page("views/embedding.py")
    assert at.title[0].value == "The learned space"
    assert at.radio(key="embedding_method").value == "pca" and at.select_slider(key="embedding_limit").value == 2000
    assert [m.value for m in at.markdown if m.value.startswith("**Raw") or "features (after" in m.value] == [
        "**Raw pixels (before learning)**",
        "**test-cnn's features (after learning)**",
    ]
    pixels = embeddings.cached(ckpt, "pca", "pixels", 2000, 0)
    learned = embeddings.cached(ckpt, "pca", "features", 2000, 0)
    assert pixels is not None and learned is not None
    mistakes = int((learned.labels != learned.predictions).sum())
    captions = point_captions(at)
    assert len(captions) == 2 and all(c.startswith(f"2,000 points · {mistakes:,} mistakes (crosses)") for c in captions)
    raw_score, model_score = (float(c.split("**")[1].rstrip("%")) for c in captions)
    assert model_score > raw_score
    specs = [json.loads(c.proto.spec) for c in charts(at)]
    assert len(specs) == 2
    for spec, score in zip(specs, (raw_score, model_score)):
        points, halo, names = spec["layer"]
        assert [t["field"] for t in points["encoding"]["tooltip"]] == ["image", "index", "true", "predicted"]
        assert spec["params"][0]["name"] == "region" and spec["params"][0]["views"] == [points["name"]]
        assert names["mark"]["type"] == "text" and names["encoding"]["text"]["field"] == "true"  # class names too
        assert spec["usermeta"] == {"embedOptions": {"renderer": "canvas"}}
        assert spec["description"].startswith("Scatter plot of 2,000 test images placed by ")
        assert f"{mistakes:,} mistakes drawn as crosses" in spec["description"]
        assert f"for {score:.1f}% of them" in spec["description"]
    assert [s["title"] for s in specs] == ["PCA of the pixels", "PCA of the features"]
    assert "Drag a box" in at.caption[-1].value


def test_tsne_runs_in_the_background(ckpt, fmnist):
    at = open_page("views/embedding.py")
    at.select_slider(key="embedding_limit").set_value(1000).run()
    at.radio(key="embedding_method").set_value("tsne").run()
    assert not at.exception and not charts(at)  # nothing blocks: the page returns, the work goes on
    deadline = time.monotonic() + 120
    while (
        embeddings.cached(ckpt, "tsne", "features", 1000, 0) is None
        or embeddings.cached(ckpt, "tsne", "pixels", 1000, 0) is None
    ):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    at.run()
    assert len(charts(at)) == 2 and len(point_captions(at)) == 2
    raw_score, model_score = (float(c.split("**")[1].rstrip("%")) for c in point_captions(at))
    assert model_score > raw_score


def test_without_the_dataset(ckpt, monkeypatch, tmp_path):
    from tests.dashboard.studio_app import forget_caches

    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path / "empty"))
    forget_caches()
    at = open_page("views/embedding.py")
    assert at.info[0].value.startswith("The learned space is drawn from the 10,000 test images")


def test_the_images_of_a_class_are_listed_from_the_keyboard(ckpt, fmnist):
    at = open_page("views/embedding.py")
    assert not at.get("image")  # nothing listed until a box is dragged or a class chosen
    at.selectbox(key="embedding_class").set_value("Shirt").run()
    learned = embeddings.cached(ckpt, "pca", "features", 2000, 0)
    shirts = learned.labels == 6
    wrong = learned.indices[shirts & (learned.labels != learned.predictions)]
    assert (
        f"**{int(shirts.sum()):,}** images of true class *Shirt*, {len(wrong):,} of them mistakes; "
        "the first 36 shown, mistakes first."
    ) in [m.value for m in at.markdown]
    alts = [img.alt for e in at.get("image") for img in e.proto.imgs]
    assert len(alts) == 36 and len(wrong) > 0
    first = int(wrong[0])
    predicted = CLASS_NAMES[int(learned.predictions[list(learned.indices).index(first)])]
    assert alts[0] == f"test image {first:,}: true class Shirt, predicted {predicted}"
    assert all(a.startswith("test image ") and ": true class Shirt, predicted " in a for a in alts)
