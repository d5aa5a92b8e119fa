"""What each filter looks for: the top images per channel, checked by brute force, and the disk cache."""

import numpy as np
import torch

from core.analysis import filter_top_images
from core.data.dataset import normalize
from core.io import checkpoint
from core.models import build, conv_layers, network_of

SUBSET = 300


def brute_force(model, images):
    """Every conv output of every image, one image at a time."""
    modules = dict(model.named_modules())
    names = conv_layers(model)
    outputs = {n: [] for n in names}
    handles = [
        modules[n].register_forward_hook(lambda m, i, o, n=n: outputs[n].append(o.detach()[0].clone())) for n in names
    ]
    with torch.no_grad():
        for image in images:
            model(normalize(image[None]))
    for h in handles:
        h.remove()
    return {n: torch.stack(v) for n, v in outputs.items()}  # (N, C, h, w)


def test_top_images_are_the_top_by_brute_force(fmnist):
    model = network_of(checkpoint.load("checkpoints/simple_cnn.safetensors").model)  # hooks count one pass per image
    images = fmnist.test_images[:SUBSET]
    seen = []
    found = filter_top_images.compute(model, images, batch_size=64, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (SUBSET, SUBSET) and len(seen) == 5
    truth = brute_force(model, images)
    assert [layer.name for layer in found.layers] == ["conv1.0", "conv2.0"]
    for layer in found.layers:
        out = truth[layer.name]
        means = out.mean((2, 3)).numpy()  # (N, C)
        assert layer.indices.shape == layer.scores.shape == (out.shape[1], 9)
        assert layer.maps.shape == (out.shape[1], 9) + tuple(out.shape[2:])
        for c in range(out.shape[1]):
            expected = np.sort(means[:, c])[::-1][:9]
            assert np.allclose(layer.scores[c], expected, atol=1e-4)  # really the top 9, in order
            assert np.allclose(means[layer.indices[c], c], layer.scores[c], atol=1e-4)  # and they are those images
            assert means[layer.indices[c][-1], c] >= np.delete(means[:, c], layer.indices[c]).max() - 1e-4
            assert np.allclose(layer.maps[c, 0].astype(np.float32), out[layer.indices[c][0], c].numpy(), atol=2e-2)


def test_cached_once_per_checkpoint(fmnist, tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "tiny.safetensors"
    checkpoint.save(path, build("simple_cnn"), "simple_cnn", {"width": 1, "batch_norm": False, "dropout": 0.0}, {})
    assert filter_top_images.cached(path) is None
    first = filter_top_images.top_images(path, fmnist)
    assert (
        filter_top_images.cache_path(path).is_file() and filter_top_images.cache_path(path).parent == tmp_path / "cache"
    )
    filter_top_images._memory.clear()
    again = filter_top_images.cached(path)
    assert again is not None and again.layer("conv2.0").grid == (6.5, 2.0)
    assert np.array_equal(again.layer("conv2.0").indices, first.layer("conv2.0").indices)
    picture = filter_top_images.channel_picture(
        fmnist.test_images[first.layers[0].indices[0].tolist()].numpy(), first.layers[0].maps[0], first.layers[0].grid
    )
    assert picture.shape == (3 * 56 + 4, 3 * 56 + 4, 3) and picture.dtype == np.uint8
