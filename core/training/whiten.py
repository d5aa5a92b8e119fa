"""A data-dependent start for the first convolution (airbench's whitening initialisation).

Instead of random filters, the first convolution starts from the principal directions of the training images'
patches (the eigenvectors of their covariance), each divided by the square root of its variance, in + and -
pairs: from the first step its channels see the strongest, uncorrelated patterns of the data (edges, blobs,
stripes) rather than noise. Channels beyond the pairs keep their random start; every filter trains as usual.
"""

import torch
import torch.nn.functional as F
from torch import nn

from core.data.classes import MEAN, STD

SAMPLE = 2000  # training images whose patches are measured
EPS = 1e-2  # added to each variance: the weakest directions are not blown up


def first_conv(model: nn.Module) -> nn.Conv2d | None:
    """The model's first convolution, if it reads the one-channel image."""
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    return conv if conv is not None and conv.in_channels == 1 and conv.groups == 1 else None


@torch.no_grad()
def whitening_filters(images: torch.Tensor, kernel: int, pairs: int, padding: int) -> torch.Tensor:
    """(2 * pairs, 1, kernel, kernel) filters from uint8 images (N, 28, 28): the `pairs` strongest principal
    directions of the normalised kxk patches, scaled to unit variance, each with its negative."""
    x = (images[:SAMPLE].float().div(255).unsqueeze(1) - MEAN) / STD
    patches = F.unfold(x, kernel, padding=padding).transpose(1, 2).reshape(-1, kernel * kernel).double()
    patches = patches - patches.mean(0)  # float64: a float32 sum over a million patches is off by 1%
    variance, directions = torch.linalg.eigh(patches.T @ patches / len(patches))  # ascending
    variance, directions = variance.flip(0)[:pairs], directions.flip(1)[:, :pairs]
    w = (directions / (variance + EPS).sqrt()).T.reshape(pairs, 1, kernel, kernel).float()
    return torch.cat([w, -w])


def init_first_conv(model: nn.Module, images: torch.Tensor) -> int:
    """Set the first convolution's leading filters to whitening filters of `images`; returns how many were set
    (0 for a model without a one-channel first convolution)."""
    conv = first_conv(model)
    if conv is None:
        return 0
    k = conv.kernel_size[0]  # the studio's convolutions are square
    pairs = min(conv.out_channels // 2, k * k)
    padding = conv.padding[0] if isinstance(conv.padding, tuple) else 0
    filters = whitening_filters(images[:SAMPLE].cpu(), k, pairs, padding)
    with torch.no_grad():
        conv.weight[: 2 * pairs] = filters.to(conv.weight.dtype)
    return 2 * pairs
