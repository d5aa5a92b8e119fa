"""The learned space: penultimate-layer features of the test images projected to 2-D by PCA, t-SNE or UMAP,
beside the same projection of the raw pixels ("before learning").

scikit-learn, openTSNE and umap-learn are imported only when their method runs. Projections are cached on
disk per checkpoint, method, space, sample size and seed (`core.io.cache`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.analysis import evaluation
from core.analysis.explanations import private_copy
from core.base.errors import StudioError
from core.data import dataset
from core.data.dataset import normalize
from core.io import cache

METHODS = ("pca", "tsne", "umap")
SPACES = ("features", "pixels")
TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
TEST_SIZE = 10_000
PRE_PCA = 50  # t-SNE and UMAP start from the top 50 principal components (the usual speed-up)
BATCH = 1000
_memory = cache.Memo(64)  # 2-D points: at most a few hundred KB each

Progress = Callable[[float, str], None]  # (fraction done, what is happening)


@dataclass
class Embedding:
    method: str
    space: str
    indices: np.ndarray  # (n,) test-set indices
    labels: np.ndarray  # (n,) true classes
    predictions: np.ndarray  # (n,) the model's classes
    xy: np.ndarray  # (n, 2) float32


def check(method: str, space: str, limit: int | None) -> int:
    """Validate the request; returns the sample size."""
    if method not in METHODS:
        raise StudioError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}.")
    if space not in SPACES:
        raise StudioError(f"unknown space {space!r}; choose one of: {', '.join(SPACES)}.")
    size = TEST_SIZE if limit is None else int(limit)
    if not 10 <= size <= TEST_SIZE:
        raise StudioError(f"the sample size must be between 10 and {TEST_SIZE:,}, got {size:,}.")
    return size


def sample(size: int, seed: int = 0, total: int = TEST_SIZE) -> np.ndarray:
    """`size` test-set indices drawn without replacement (all of them, in order, when size == total)."""
    if size >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size, replace=False))


def penultimate_layer(model: nn.Module) -> str:
    """The name of the final Linear layer: its input is the penultimate-layer feature vector."""
    linear = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linear:
        raise StudioError(f"{type(model).__name__} has no final linear layer to read features from.")
    return linear[-1]


def features(
    model: nn.Module, images: torch.Tensor, batch_size: int = BATCH, progress: Callable[[int, int], None] | None = None
) -> np.ndarray:
    """(N, D) float32 penultimate-layer features: the input of the final Linear layer."""
    twin = private_copy(model)
    head = dict(twin.named_modules())[penultimate_layer(twin)]
    device = next(twin.parameters()).device
    kept: list[torch.Tensor] = []
    handle = head.register_forward_pre_hook(lambda module, inputs: kept.append(inputs[0].detach().float().cpu()))
    try:
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                twin(normalize(images[start : start + batch_size].to(device)))
                if progress:
                    progress(min(start + batch_size, len(images)), len(images))
    finally:
        handle.remove()
    return torch.cat(kept).flatten(1).numpy() if kept else np.zeros((0, 0), np.float32)


def pixels(images: torch.Tensor) -> np.ndarray:
    """(N, 784) float32 raw pixels in [0, 1]."""
    return images.reshape(len(images), -1).float().div(255.0).numpy()


def project(x: np.ndarray, method: str, seed: int = 0, progress: Progress | None = None) -> np.ndarray:
    """(N, D) -> (N, 2) float32 by PCA, t-SNE (openTSNE) or UMAP (umap-learn)."""
    from sklearn.decomposition import PCA

    x = np.asarray(x, dtype=np.float32)
    if method == "pca":
        return PCA(2, random_state=seed).fit_transform(x).astype(np.float32)
    reduced = PCA(min(PRE_PCA, *x.shape), random_state=seed).fit_transform(x) if x.shape[1] > PRE_PCA else x
    if method == "tsne":
        return _tsne(reduced, seed, progress)
    if method == "umap":
        import umap

        if progress:
            progress(0.5, "UMAP: neighbours and layout")
        return umap.UMAP(n_components=2, random_state=seed, n_jobs=1).fit_transform(reduced).astype(np.float32)
    raise StudioError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}.")


def _tsne(x: np.ndarray, seed: int, progress: Progress | None) -> np.ndarray:
    from openTSNE import TSNE

    exaggeration, iterations = 250, 500
    done = {"steps": 0}

    def report(iteration, error, embedding):
        done["steps"] += 25
        if progress:
            progress(min(done["steps"] / (exaggeration + iterations), 1.0), "t-SNE: laying out the points")
        return False

    tsne = TSNE(
        n_components=2,
        perplexity=30,
        early_exaggeration_iter=exaggeration,
        n_iter=iterations,
        random_state=seed,
        n_jobs=1,
        callbacks=report,
        callbacks_every_iters=25,
        verbose=False,
    )
    return np.asarray(tsne.fit(x), dtype=np.float32)


def neighbour_accuracy(xy: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """How often the majority class among a point's k nearest other points is its own class."""
    from sklearn.neighbors import NearestNeighbors

    labels = np.asarray(labels)
    _, nearest = NearestNeighbors(n_neighbors=k + 1).fit(xy).kneighbors(xy)
    votes = labels[nearest[:, 1:]]  # drop the point itself
    counts = np.stack([(votes == c).sum(1) for c in range(labels.max() + 1)], axis=1)
    return float((counts.argmax(1) == labels).mean())


def cache_path(path, method: str, space: str, size: int, seed: int) -> Path:
    return cache.cache_file(path, f".embed-{method}-{space}-{size}-{seed}.npz")


def cached(path, method: str, space: str, limit: int | None = None, seed: int = 0) -> "Embedding | None":
    """A stored projection for this checkpoint version, or None (no computation)."""
    size = check(method, space, limit)
    path = Path(path).resolve()
    key = _key(path, method, space, size, seed)
    found = _memory.get(key) or _read(path, key)
    if found is not None:
        _memory.put(key, found)
    return found


def embed(
    path,
    method: str = "pca",
    space: str = "features",
    limit: int | None = None,
    seed: int = 0,
    data: "dataset.FashionMNIST | None" = None,
    progress: Progress | None = None,
) -> Embedding:
    """The 2-D projection of a checkpoint's test-set features (or the raw pixels), computed once per
    checkpoint version, method, space, sample size and seed."""
    from core.io import checkpoint

    size = check(method, space, limit)
    found = cached(path, method, space, size, seed)
    if found is not None:
        return found
    path = Path(path).resolve()
    key = _key(path, method, space, size, seed)
    data = data if data is not None else dataset.load()
    result = evaluation.evaluate(path, data)
    indices = sample(size, seed, len(data.test_labels))
    images = data.test_images[torch.from_numpy(indices)]
    if progress:
        progress(0.0, "reading the features" if space == "features" else "reading the pixels")
    if space == "features":
        batches = None if progress is None else lambda done, total: progress(0.1 * done / total, "reading the features")
        x = features(checkpoint.load(path).model, images, progress=batches)
    else:
        x = pixels(images)
    xy = project(x, method, seed, None if progress is None else lambda f, what: progress(0.1 + 0.9 * f, what))
    if progress:
        progress(1.0, "done")
    found = Embedding(method, space, indices, result.labels[indices], result.predictions[indices], xy)
    cache.write_npz(
        cache_path(path, *key[3:]),
        key[1:3],
        indices=found.indices,
        labels=found.labels,
        predictions=found.predictions,
        xy=found.xy,
    )
    _memory.put(key, found)
    return found


def _key(path: Path, method: str, space: str, size: int, seed: int) -> tuple:
    stat = path.stat() if path.is_file() else None
    if stat is None:
        from core.io import checkpoint

        checkpoint.read_metadata(path)  # raises a CheckpointError that names the problem
    return str(path), stat.st_mtime_ns, stat.st_size, method, space, size, seed


def _read(path: Path, key: tuple) -> "Embedding | None":
    z = cache.read_npz(cache_path(path, *key[3:]), key[1:3])
    if z is None or not {"indices", "labels", "predictions", "xy"} <= set(z):
        return None
    return Embedding(key[3], key[4], z["indices"], z["labels"], z["predictions"], z["xy"])
