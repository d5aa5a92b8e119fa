"""The learned space: t-SNE keeps a trained CNN's neighbours (better than raw pixels do), features come from the
layer before the last, projections are cached per checkpoint, method, space, size and seed."""

import numpy as np
import pytest
import torch

from core.analysis import embeddings
from core.base.errors import StudioError
from core.io import checkpoint
from core.models import build

SHIPPED = "checkpoints/simple_cnn.safetensors"


def test_tsne_of_features_keeps_neighbours_better_than_pixels(fmnist):
    indices = embeddings.sample(2000, seed=0)
    images = fmnist.test_images[torch.from_numpy(indices)]
    labels = fmnist.test_labels.numpy()[indices]
    features = embeddings.features(checkpoint.load(SHIPPED).model, images)
    steps = []
    learned = embeddings.project(features, "tsne", seed=0, progress=lambda f, what: steps.append(f))
    raw = embeddings.project(embeddings.pixels(images), "tsne", seed=0)
    assert learned.shape == raw.shape == (2000, 2)
    assert steps[-1] == 1.0 and steps == sorted(steps)
    model_score = embeddings.neighbour_accuracy(learned, labels)
    pixel_score = embeddings.neighbour_accuracy(raw, labels)
    assert model_score >= 0.85, model_score
    assert model_score > pixel_score, (model_score, pixel_score)


def test_features_are_the_input_of_the_last_linear_layer(fmnist):
    model = build("simple_cnn").eval()
    images = fmnist.test_images[:50]
    got = embeddings.features(model, images, batch_size=16)
    assert got.shape == (50, 84)
    with torch.no_grad():
        x = model.pool2(model.conv2(model.pool1(model.conv1(embeddings.normalize(images)))))
        expected = model.classifier[:-1](x).numpy()
    assert np.allclose(got, expected, atol=1e-5)
    assert embeddings.penultimate_layer(build("two_conv")) == "classifier.2"
    assert embeddings.features(build("resnet18").eval(), images[:4]).shape == (4, 128)
    assert embeddings.pixels(images).shape == (50, 784)


def test_neighbour_accuracy_counts_majorities():
    square = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    xy = np.concatenate([square, square + 10])
    assert embeddings.neighbour_accuracy(xy, np.array([0, 0, 0, 0, 1, 1, 1, 1]), k=3) == 1.0
    # the odd one out in the first square is outvoted; the other three keep a 2-1 majority
    assert embeddings.neighbour_accuracy(xy, np.array([0, 0, 0, 1, 1, 1, 1, 1]), k=3) == 7 / 8


def test_embed_is_cached_per_request(fmnist, tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "tiny.safetensors"
    checkpoint.save(path, build("mlp"), "mlp", {"hidden": [256, 128], "dropout": 0.2, "batch_norm": False}, {})
    found = embeddings.embed(path, "pca", "features", limit=300, seed=3, data=fmnist)
    assert found.xy.shape == (300, 2) and len(set(found.indices.tolist())) == 300
    assert np.array_equal(found.labels, fmnist.test_labels.numpy()[found.indices])
    assert embeddings.cache_path(path, "pca", "features", 300, 3).is_file()
    assert embeddings.cached(path, "pca", "features", 300, 4) is None  # another seed: not computed yet
    assert embeddings.cached(path, "pca", "pixels", 300, 3) is None  # another space
    embeddings._memory.clear()
    again = embeddings.cached(path, "pca", "features", 300, 3)
    assert np.array_equal(again.xy, found.xy) and np.array_equal(again.indices, found.indices)
    pixels = embeddings.embed(path, "pca", "pixels", limit=300, seed=3, data=fmnist)
    assert np.array_equal(pixels.indices, found.indices) and not np.allclose(pixels.xy, found.xy)


def test_bad_requests_are_one_line():
    with pytest.raises(StudioError, match=r"^unknown method 'mds'; choose one of: pca, tsne, umap\.$"):
        embeddings.check("mds", "features", None)
    with pytest.raises(StudioError, match=r"^unknown space 'logits'; choose one of: features, pixels\.$"):
        embeddings.check("pca", "logits", None)
    with pytest.raises(StudioError, match=r"^the sample size must be between 10 and 10,000, got 20,000\.$"):
        embeddings.check("pca", "features", 20_000)
