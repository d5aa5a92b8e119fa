"""What a filter wants to see: each optimised input excites its channel (or class) at least as much as the best
test image (shipped LeNet-5: its convolutions and all ten classes), the results are cached per checkpoint, and
the command line's JSON lines."""

import json
from pathlib import Path

import numpy as np
import pytest

from core.analysis import feature_vis, filter_top_images
from core.featurevis import main as featurevis_main
from core.io import checkpoint

LENET = Path(__file__).resolve().parents[2] / "checkpoints" / "lenet5.safetensors"


@pytest.fixture(scope="module")
def lenet_top(fmnist, tmp_path_factory):
    return filter_top_images.compute(checkpoint.load(LENET).model, fmnist.test_images)


@pytest.mark.parametrize("layer", ["c1.0", "c3.0"])
def test_each_image_beats_the_best_test_image(layer, fmnist, lenet_top):
    result = feature_vis.for_checkpoint(LENET, layer, fmnist)
    channels = lenet_top.layer(layer).channels
    assert result.images.shape == (channels, 28, 28) and result.images.dtype == np.float32
    assert 0 <= result.images.min() and result.images.max() <= 1
    assert np.array_equal(result.best_test, lenet_top.layer(layer).scores[:, 0])
    assert (result.activations >= result.best_test).all(), result.activations - result.best_test
    again = feature_vis.score(checkpoint.load(LENET).model, layer, result.images)  # the scores are real
    assert np.allclose(again, result.activations, atol=1e-4)
    inside = result.images[:, 6:22, 6:22]
    if layer == "c1.0":  # one linear filter: its mean over the map grows with the brightness its weights sum to
        weights = checkpoint.load(LENET).model.c1[0].weight.detach().sum((1, 2, 3)).numpy()
        assert np.array_equal(inside.mean((1, 2)) > 0.5, weights > 0) and inside.std((1, 2)).max() < 0.05
    else:  # most channels want patterns (both dark and bright inside the picture); a few want a flat image
        assert (np.ptp(inside.reshape(channels, -1), axis=1) > 0.5).mean() >= 0.5


def test_every_class_image_beats_the_best_test_image(fmnist):
    """All ten classes of the shipped LeNet-5, the model whose Coat and Sandal images the full 1/f frequency
    weighting trapped below the best test image."""
    model = checkpoint.load(LENET).model
    result = feature_vis.for_checkpoint(LENET, None, fmnist)
    assert result.layer == feature_vis.CLASSES and result.images.shape == (10, 28, 28)
    assert 0 <= result.images.min() and result.images.max() <= 1
    assert np.allclose(result.best_test, feature_vis.best_test_logits(model, fmnist.test_images), atol=1e-5)
    assert (result.activations >= result.best_test).all(), result.activations - result.best_test
    again = feature_vis.score(model, None, result.images)  # the scores are real
    assert np.allclose(again, result.activations, atol=1e-4)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_class_beats_it_from_other_starts(seed, fmnist):
    """Not one lucky start: other random starts reach it for every class too."""
    model = checkpoint.load(LENET).model
    result = feature_vis.optimise(model, None, seed=seed)
    best = feature_vis.best_test_logits(model, fmnist.test_images)
    assert (result.activations >= best).all(), (seed, result.activations - best)


def test_results_are_cached_per_checkpoint(fmnist, monkeypatch, tmp_path):
    copy = tmp_path / "lenet5.safetensors"
    copy.write_bytes(LENET.read_bytes())
    first = feature_vis.for_checkpoint(copy, "c3.0", fmnist)
    assert feature_vis.cache_path(copy).is_file()

    def no_work(*a, **k):
        raise AssertionError("recomputed")

    monkeypatch.setattr(feature_vis, "optimise", no_work)
    feature_vis._memory.clear()  # from the disk this time
    second = feature_vis.for_checkpoint(copy, "c3.0", fmnist)
    assert np.array_equal(first.images, second.images) and np.array_equal(first.best_test, second.best_test)
    copy.write_bytes(LENET.read_bytes())  # a new version of the file: the cache is stale
    with pytest.raises(AssertionError, match="recomputed"):
        feature_vis.for_checkpoint(copy, "c3.0", fmnist)


def test_command_line(fmnist, data_dir, capsys):
    assert featurevis_main([str(LENET), "--layer", "c3.0", "--json", "--data-dir", data_dir]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["channel"] for r in lines] == list(range(16))
    assert all(list(r) == ["channel", "image", "activation", "top_test_activation"] for r in lines)
    assert np.array(lines[0]["image"]).shape == (28, 28)
    assert all(r["activation"] >= r["top_test_activation"] for r in lines)

    assert featurevis_main([str(LENET), "--class", "Trouser", "--json", "--data-dir", data_dir]) == 0
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["class"] == "Trouser" and line["channel"] == 1
    best = feature_vis.best_test_logits(checkpoint.load(LENET).model, fmnist.test_images)
    assert line["top_test_activation"] == pytest.approx(float(best[1]), abs=1e-5)

    assert featurevis_main([str(LENET), "--layer", "c3.0", "--class", "Bag"]) == 2
    assert "give --layer NAME (each channel of a convolution) or --class NAME" in capsys.readouterr().err
    assert featurevis_main([str(LENET), "--layer", "c9"]) == 2
    assert capsys.readouterr().err == "error: unknown layer 'c9'; convolutions of this model: c1.0, c3.0, c5.0.\n"
