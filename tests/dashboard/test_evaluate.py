"""Evaluate page: numbers, confusion matrix, the Shirt -> T-shirt/top browser, swap, sort, CSV."""

import json

import pytest

from core.data.classes import CLASS_NAMES
from dashboard import projector
from tests.dashboard.my_pages import evaluation_of, open_page, use_trained_model


@pytest.fixture()
def ckpt(monkeypatch, tmp_path_factory, data_dir, tmp_path):
    return use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path / "no-shipped")


def captions(at):
    return [c.value for c in at.caption]


def test_evaluate_page(ckpt, fmnist):
    result = evaluation_of(ckpt, fmnist)
    at = open_page("views/evaluate.py")
    assert at.title[0].value == "Evaluate a model"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{result.accuracy:.2%}"
    assert metrics["Mistakes"] == f"{10_000 - int(result.confusion_matrix.trace()):,} of 10,000"

    table = at.dataframe[0].value
    assert table.shape == (10, 10) and list(table.columns) == list(CLASS_NAMES)
    assert int(table.values.sum()) == 10_000
    assert table.values.tolist() == result.confusion_matrix.tolist()

    specs = [json.loads(c.proto.spec) for c in at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")]
    assert len(specs) == 2  # per-class accuracy, confusion matrix
    assert len(at.get("download_button")) == 1

    # Opens on Shirt predicted as T-shirt/top, most confident first.
    assert at.selectbox(key="evaluate_true").value == "Shirt"
    assert at.selectbox(key="evaluate_pred").value == "T-shirt/top"
    shirts = result.pair(6, 0)
    assert f"**{len(shirts):,}** test images of **Shirt** predicted as T-shirt/top." in [m.value for m in at.markdown]
    first = [c for c in captions(at) if c.startswith("#")]
    assert len(first) == min(24, len(shirts))
    assert first[0].startswith(f"#{shirts[0]} · true **Shirt** · predicted **T-shirt/top**")
    assert "top 3: T-shirt/top" in first[0]
    alts = [img.alt for element in at.get("image") for img in element.proto.imgs]
    assert len(alts) == len(first)
    assert (
        alts[0]
        == f"test image {shirts[0]:,}: true class Shirt, predicted T-shirt/top, {result.confidence[shirts[0]]:.0%}"
    )
    matrix = specs[1]
    assert matrix["title"] == "Test images by true and predicted class"
    assert f"{int(result.confusion_matrix.trace()):,} on the diagonal are right" in matrix["description"]
    heat = matrix["layer"][0]["encoding"]["color"]
    assert heat["scale"]["scheme"] == "viridis" and heat["scale"]["reverse"] is True  # readable with any colour vision
    assert heat["condition"] == {"test": "datum.count == 0", "value": "white"}
    assert specs[0]["description"].startswith(
        f"Bar chart of test accuracy per class: T-shirt/top {result.per_class_accuracy[0]:.1%}; "
    )

    at.radio(key="evaluate_order").set_value("Least confident first").run()
    assert [c for c in captions(at) if c.startswith("#")][0].startswith(f"#{shirts[-1]} ")

    at.button(key="evaluate_swap").click().run()
    assert not at.exception
    assert (at.selectbox(key="evaluate_true").value, at.selectbox(key="evaluate_pred").value) == (
        "T-shirt/top",
        "Shirt",
    )
    reverse = result.pair(0, 6)
    assert f"**{len(reverse):,}** test images of **T-shirt/top** predicted as Shirt." in [m.value for m in at.markdown]


def test_evaluate_page_without_models(monkeypatch, tmp_path, data_dir):
    from core.library import catalog

    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setattr(catalog, "SHIPPED_DIR", tmp_path / "none")
    at = open_page("views/evaluate.py")
    assert "No models yet" in at.info[0].value


def test_evaluate_in_projector_view_shows_the_numbers_and_two_charts_a_screen_high(ckpt, fmnist):
    result = evaluation_of(ckpt, fmnist)
    at = open_page("views/evaluate.py", projector=True)
    assert [t.value for t in at.title] == ["Evaluate a model"]
    assert {m.label: m.value for m in at.metric}["Test accuracy"] == f"{result.accuracy:.2%}"
    specs = [json.loads(c.proto.spec) for c in at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")]
    assert [s["title"] for s in specs] == ["Test accuracy per class", "Test images by true and predicted class"]
    assert [s["height"] for s in specs] == [projector.SCREEN_HEIGHT] * 2
    assert [s["config"]["axis"]["labelFontSize"] for s in specs] == [round(11 * projector.SCALE)] * 2  # large type
    # nothing to browse or download on the wall: the model picker and the way out only
    assert not at.get("download_button") and not at.dataframe and not at.expander
    assert [s.key for s in at.selectbox] == ["evaluate_model"]
    assert "Rows: the true class. Columns: what the model said." in captions(at)  # and nothing about browsing
    assert [b.label for b in at.button] == ["Leave projector view"]
