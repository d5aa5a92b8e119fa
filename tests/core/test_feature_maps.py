"""Feature maps: exact layers and shapes in forward order, hooks gone afterwards, MLPs flagged."""

import threading

import numpy as np
import pytest
import torch

from core.analysis import feature_maps
from core.models import build


def hook_count(model) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


@pytest.fixture(scope="module")
def image(fmnist):
    return fmnist.test_images[0]


def maps_of(arch, image, **settings):
    torch.manual_seed(0)
    model = build(arch, settings).eval()
    return model, feature_maps.compute(model, image)


def test_simple_cnn_layers(image):
    model, result = maps_of("simple_cnn", image)
    assert [(l.name, l.kind, l.shape) for l in result.layers] == [
        ("conv1.0", "Conv2d", (6, 24, 24)),
        ("pool1", "MaxPool2d", (6, 12, 12)),
        ("conv2.0", "Conv2d", (16, 8, 8)),
        ("pool2", "MaxPool2d", (16, 4, 4)),
    ]
    assert result.has_maps and result.hidden == []
    assert result.filters.shape == (6, 1, 5, 5)
    assert np.array_equal(result.filters, model.conv1[0].weight.detach().numpy())
    assert all(l.activations.shape == l.shape and l.activations.dtype == np.float32 for l in result.layers)
    assert hook_count(model) == 0


def test_lenet5_layers(image):
    model, result = maps_of("lenet5", image)
    assert [(l.name, l.kind, l.shape) for l in result.layers] == [
        ("c1.0", "Conv2d", (6, 28, 28)),
        ("s2", "AvgPool2d", (6, 14, 14)),
        ("c3.0", "Conv2d", (16, 10, 10)),
        ("s4", "AvgPool2d", (16, 5, 5)),
        ("c5.0", "Conv2d", (120, 1, 1)),
    ]
    assert result.filters.shape == (6, 1, 5, 5)
    assert hook_count(model) == 0


def test_activations_and_probabilities_match_a_plain_forward_pass(image):
    model, result = maps_of("simple_cnn", image)
    from core.data.dataset import normalize

    with torch.inference_mode():
        x = normalize(image[None])
        conv1 = model.conv1[0](x)[0].numpy()
        probs = torch.softmax(model(x), 1)[0].numpy()
        pool1 = model.pool1(model.conv1(x))[0].numpy()
    np.testing.assert_allclose(result.layers[0].activations, conv1, atol=1e-5)
    np.testing.assert_allclose(result.layers[1].activations, pool1, atol=1e-5)
    np.testing.assert_allclose(result.probabilities, probs, atol=1e-6)
    assert result.probabilities.shape == (10,) and abs(result.probabilities.sum() - 1) < 1e-5


def test_resnet_lists_its_convolutions_without_shortcuts(image):
    model, result = maps_of("resnet18", image, width=0.125)
    names = [l.name for l in result.layers]
    assert names[:3] == ["stem.0", "layer1.0.conv1", "layer1.0.conv2"]
    assert len(names) == 17 and not any("shortcut" in n for n in names)
    assert result.layers[-1].shape == (64, 4, 4)
    assert hook_count(model) == 0


def test_mlp_has_hidden_activations_and_no_maps(image):
    model, result = maps_of("mlp", image)
    assert result.has_maps is False
    assert result.layers == [] and result.filters is None
    assert [(l.name, l.shape) for l in result.hidden] == [("hidden.1.1", (256,)), ("hidden.2.1", (128,))]
    assert all(l.activations.min() >= 0 for l in result.hidden)  # after ReLU
    assert hook_count(model) == 0


def test_hooks_removed_even_when_the_forward_pass_fails():
    model = build("simple_cnn").eval()
    with pytest.raises(RuntimeError):
        feature_maps.compute(model, torch.zeros(5, 5, dtype=torch.uint8))
    assert hook_count(model) == 0


def test_other_threads_forward_passes_are_not_recorded(image):
    """A session running the shared model at the same time must not leak into our maps."""
    model = build("simple_cnn").eval()
    stop = threading.Event()

    def hammer():
        noise = torch.rand(1, 1, 28, 28)
        while not stop.is_set():
            with torch.inference_mode():
                model(noise)

    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        results = [feature_maps.compute(model, image) for _ in range(20)]
    finally:
        stop.set()
        worker.join()
    first = results[0].layers[0].activations
    assert all(np.array_equal(r.layers[0].activations, first) for r in results)
    assert hook_count(model) == 0


def test_grids_are_images(image):
    _, result = maps_of("simple_cnn", image)
    grid = feature_maps.channel_grid(result.layers[0].activations, columns=3, tile=48, gap=2)
    assert grid.dtype == np.uint8 and grid.shape == (2 * 48 + 2, 3 * 48 + 2 * 2)
    filters = feature_maps.filter_grid(result.filters, columns=6, tile=50, gap=2)
    assert filters.shape == (50, 6 * 50 + 5 * 2, 3)
    assert feature_maps.vector_grid(np.arange(10.0), tile=5).shape == (20, 20)
    np.testing.assert_allclose(
        feature_maps.diverging(np.array([-1.0, 0.0, 1.0])), [[0.1, 0.3, 0.8], [1, 1, 1], [0.8, 0.1, 0.1]], atol=1e-6
    )
