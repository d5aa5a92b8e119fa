"""Pictures of the dataset for the Data page: samples per class, class counts, mean images, augmentation."""

import numpy as np
import torch

from core.data.augment import augment
from core.data.classes import NUM_CLASSES


def class_counts(labels: torch.Tensor) -> list[int]:
    """How many images each of the ten classes has."""
    return torch.bincount(labels, minlength=NUM_CLASSES).tolist()


def sample_indices(labels: torch.Tensor, cls: int, count: int, seed: int = 0) -> list[int]:
    """`count` random indices of images of class `cls` (a different draw for each seed)."""
    idx = (labels == cls).nonzero().flatten()
    generator = torch.Generator().manual_seed(seed)
    return idx[torch.randperm(len(idx), generator=generator)[:count]].tolist()


def mean_images(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The average image of each class, float (10, 28, 28) in [0, 1]."""
    x = images.float().div(255)
    return torch.stack([x[labels == c].mean(0) for c in range(NUM_CLASSES)])


def augmented_views(images: torch.Tensor, variants: int, seed: int = 0) -> torch.Tensor:
    """Each uint8 image (N, 28, 28) as the trainer may see it: (N, variants, 28, 28) floats in [0, 1]."""
    x = images.float().div(255).unsqueeze(1)                     # (N, 1, 28, 28)
    batch = x.repeat_interleave(variants, dim=0)                 # each image `variants` times in a row
    out = augment(batch, generator=torch.Generator().manual_seed(seed))
    return out.reshape(len(images), variants, *images.shape[1:])


def to_picture(image: torch.Tensor, scale: int = 4) -> np.ndarray:
    """A uint8 or [0, 1] image (28, 28) as a uint8 array enlarged `scale` times with sharp pixels."""
    x = image.detach().cpu().float()
    if image.dtype != torch.uint8:
        x = x.clamp(0, 1) * 255
    x = x.round().to(torch.uint8)
    return x.repeat_interleave(scale, 0).repeat_interleave(scale, 1).numpy()
