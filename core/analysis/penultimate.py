"""Penultimate-layer features: what a network's output layer reads, one vector per image.

The output layer is the network's last Linear module (`core.models.output_layer`); a forward pre-hook keeps its
input. The class scores are that layer applied to these vectors, so a new class can be added by fitting one
more row on them (core.training.teach). For a model that predicts with test-time flip the vector is the
average of the image's and its mirror image's, which gives exactly the averaged scores.
"""

import torch
from torch import nn

from core.analysis.explanations import private_copy
from core.base.errors import StudioError
from core.data.dataset import normalize
from core.models import network_of, output_layer, uses_flip_averaging

BATCH = 500


def usable_layer(model: nn.Module) -> str:
    """The output layer's name, if its input is something the network learned (not the raw pixels) and its
    output is the model's answer; else a one-line StudioError."""
    network = network_of(model)
    kind = type(network).__name__
    try:
        name = output_layer(network)
    except StudioError:
        raise StudioError(f"{kind} has no penultimate layer to teach from: it has no linear output layer.") from None
    before = []
    for module_name, module in network.named_modules():
        if module_name == name:
            break
        before += [p for p in module.parameters(recurse=False)]
    if not before:
        raise StudioError(
            f"{kind} has no penultimate layer to teach from: its output layer reads the raw pixels "
            "(teach a model with hidden layers)."
        )
    return name


def output_weights(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """The output layer's weight (classes, features) and bias (classes,), float32 copies."""
    layer = dict(network_of(model).named_modules())[usable_layer(model)]
    bias = layer.bias if layer.bias is not None else torch.zeros(layer.out_features)
    return layer.weight.detach().float().cpu().clone(), bias.detach().float().cpu().clone()


def features(model: nn.Module, images: torch.Tensor, batch_size: int = BATCH) -> torch.Tensor:
    """(N, D) float32 features of uint8 or [0, 1] images (N, 28, 28), mirror-averaged for a test-time-flip model.
    Runs on a private copy of the network, so a model shared between pages is never hooked."""
    flip = uses_flip_averaging(model)
    twin = private_copy(model)
    for p in twin.parameters():
        p.requires_grad_(False)
    layer = dict(twin.named_modules())[usable_layer(twin)]
    device = next(twin.parameters()).device
    kept: list[torch.Tensor] = []
    handle = layer.register_forward_pre_hook(lambda module, inputs: kept.append(inputs[0].detach().float().flatten(1)))
    out = []
    try:
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                x = normalize(images[start : start + batch_size].to(device))
                twin(x)
                if flip:
                    twin(x.flip(-1))
                    kept[-2:] = [(kept[-2] + kept[-1]) / 2]
                out.append(kept.pop().cpu())
    finally:
        handle.remove()
    if not out:
        return torch.zeros(0, layer.in_features)
    return torch.cat(out)
