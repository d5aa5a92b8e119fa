"""Test-time flip (and shifts): a network that predicts with the average of its logits for the image and its
mirror image (for models trained with horizontal flips), and with `shift` also for both moved one pixel up,
down, left and right (for models trained with shifts). The wrapper says it; the network inside is unchanged."""

import torch
import torch.nn.functional as F
from torch import nn

ONE_PIXEL = ((-1, 0), (1, 0), (0, -1), (0, 1))  # (rows, columns): up, down, left, right


def moved(x: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """Images (B, C, H, W) moved by one pixel at most, the uncovered edge filled with each image's darkest
    value (the black background, whatever the normalisation)."""
    b, c, h, w = x.shape
    background = x.amin(dim=(1, 2, 3)).view(b, 1, 1, 1)
    inside = F.pad(torch.ones_like(x[:1, :1], dtype=torch.bool), (1, 1, 1, 1))
    padded = torch.where(inside, F.pad(x, (1, 1, 1, 1)), background)
    return padded[:, :, 1 - rows : 1 - rows + h, 1 - cols : 1 - cols + w]


class FlipAveraged(nn.Module):
    """`network`, predicting with the average of the logits for the image and its mirror image; with `shift`,
    also for both moved one pixel in each of the four directions (ten passes)."""

    def __init__(self, network: nn.Module, shift: bool = False):
        super().__init__()
        self.network = network
        self.shift = shift
        self.train(network.training)

    def forward(self, x):
        views = [x, *(moved(x, r, c) for r, c in ONE_PIXEL)] if self.shift else [x]
        total = sum(self.network(v).float() + self.network(v.flip(-1)).float() for v in views)
        return total / (2 * len(views))


def network_of(model: nn.Module) -> nn.Module:
    """The network itself: what a FlipAveraged wraps, else `model`. Views of its layers (feature maps,
    Grad-CAM, embeddings) look at it, one pass per image, and its state dict is what a checkpoint holds."""
    return model.network if isinstance(model, FlipAveraged) else model


def uses_flip_averaging(model: nn.Module) -> bool:
    return isinstance(model, FlipAveraged)


def uses_shift_averaging(model: nn.Module) -> bool:
    return isinstance(model, FlipAveraged) and model.shift


def set_flip_averaging(model: nn.Module, on: bool = True, shift: bool = False) -> nn.Module:
    """The model to predict with: the network wrapped in FlipAveraged (with `shift`) when `on`, else the bare
    network. Returns a new object around the same network (the given model is not changed)."""
    network = network_of(model)
    return FlipAveraged(network, shift=shift) if on else network
