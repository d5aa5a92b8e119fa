"""Explain page, the faithfulness check: each method's deletion curve against a random order, drawn from
core.analysis.deletion's numbers, and one sentence per method."""

import numpy as np
import pytest

from core.analysis import deletion, explanations
from core.io import checkpoint
from tests.dashboard.my_pages import open_page, use_trained_model
from tests.dashboard.studio_app import chart_data


@pytest.fixture()
def ckpt(monkeypatch, tmp_path_factory, data_dir, tmp_path):
    return use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path / "no-shipped")


def test_deletion_curves_per_method(ckpt, fmnist):
    at = open_page("views/explain.py", explain_test_how="Index", explain_test_index=3)
    assert at.subheader[-1].value == "Which explanation to trust?"
    model = checkpoint.load(ckpt).model
    image = fmnist.test_images[3]
    found = explanations.explain_all(model, image, layer="conv2")
    target = found["saliency"].target
    expected = deletion.curves(model, image, {m: e.heatmap for m, e in found.items()}, target)

    sentences = [m.value for m in at.markdown if m.value.startswith("Faithfulness: blacking out the 20%")]
    assert len(sentences) == 4
    for sentence, curve in zip(sentences, expected.values()):
        assert (
            f"to **{curve.probabilities[4]:.1%}**" in sentence and f"random pixels: {curve.random[4]:.1%})" in sentence
        )

    [chart] = [i for i, c in enumerate(at.get("vega_lite_chart")) if "Deletion curves" in c.proto.spec]
    rows = chart_data(at, chart)
    assert sorted(set(rows.method)) == sorted(
        ["Grad-CAM", "Gradient saliency", "Integrated Gradients", "Occlusion", "random order"]
    )
    saliency = rows[rows.method == "Gradient saliency"].sort_values("blacked out")
    assert np.allclose(saliency["probability"], expected["saliency"].probabilities, atol=1e-6)
    assert np.allclose(saliency["blacked out"], np.arange(11) * 0.05)
    table = at.dataframe[-1].value
    assert list(table["method"])[-1] == "random order"
    areas = table["mean probability"].tolist()
    assert areas[:4] == sorted(areas[:4])  # best first
