"""Batched data augmentation that runs on the training device: random shift and horizontal flip."""

import torch
import torch.nn.functional as F


def random_shift(x: torch.Tensor, pixels: int, generator=None) -> torch.Tensor:
    """Shift each image (B, C, H, W) by up to `pixels` in each direction, filling with zeros (black)."""
    if pixels <= 0:
        return x
    b, _, h, w = x.shape
    # Every possible crop of the padded batch, as a view: (B, C, 2p+1, 2p+1, H, W); pick one per image.
    windows = F.pad(x, (pixels, pixels, pixels, pixels)).unfold(2, h, 1).unfold(3, w, 1)
    dy, dx = torch.randint(0, 2 * pixels + 1, (2, b), device=x.device, generator=generator)
    return windows[torch.arange(b, device=x.device), :, dy, dx]


def random_flip(x: torch.Tensor, generator=None) -> torch.Tensor:
    """Mirror half of the images left-right (clothes look the same mirrored)."""
    mask = torch.rand(x.shape[0], device=x.device, generator=generator) < 0.5
    return torch.where(mask[:, None, None, None], x.flip(-1), x)


def augment(x: torch.Tensor, shift: int = 2, flip: bool = True, generator=None) -> torch.Tensor:
    """The training augmentation on a batch of [0,1] images (B, 1, 28, 28)."""
    x = random_shift(x, shift, generator)
    return random_flip(x, generator) if flip else x
