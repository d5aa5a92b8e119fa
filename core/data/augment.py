"""Batched data augmentation that runs on the training device: random shift, horizontal flip, random erasing."""

import math

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


def random_erase(
    x: torch.Tensor, share: float, area=(0.02, 0.25), aspect=(0.3, 3.3), generator=None
) -> torch.Tensor:
    """Random erasing (Zhong et al., 2020): in `share` of the images (B, C, H, W), replace one rectangle with
    uniform noise in [0, 1]; its area is a uniform fraction `area` of the picture, its height/width ratio
    log-uniform in `aspect`, its place uniform where it fits."""
    if share <= 0:
        return x
    b, _, h, w = x.shape
    device = x.device
    u = torch.rand(5, b, device=device, generator=generator)
    fraction = area[0] + (area[1] - area[0]) * u[0]
    ratio = torch.exp(math.log(aspect[0]) + (math.log(aspect[1]) - math.log(aspect[0])) * u[1])
    rh = (fraction * h * w * ratio).sqrt().round().clamp(1, h)
    rw = (fraction * h * w / ratio).sqrt().round().clamp(1, w)
    top = ((h - rh + 1) * u[2]).floor().clamp(max=h - rh)
    left = ((w - rw + 1) * u[3]).floor().clamp(max=w - rw)
    rows = torch.arange(h, device=device)[None, :, None]
    cols = torch.arange(w, device=device)[None, None, :]
    inside = (
        (rows >= top[:, None, None])
        & (rows < (top + rh)[:, None, None])
        & (cols >= left[:, None, None])
        & (cols < (left + rw)[:, None, None])
        & (u[4] < share)[:, None, None]
    )[:, None]
    noise = torch.rand(x.shape, device=device, generator=generator, dtype=x.dtype)
    return torch.where(inside, noise, x)


def augment(x: torch.Tensor, shift: int = 2, flip: bool = True, erase: float = 0.0, generator=None) -> torch.Tensor:
    """The training augmentation on a batch of [0,1] images (B, 1, 28, 28)."""
    x = random_shift(x, shift, generator)
    x = random_flip(x, generator) if flip else x
    return random_erase(x, erase, generator=generator)
