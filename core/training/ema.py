"""An exponential moving average of the weights whose decay warms up, so a short run is not stuck near its start.

A fixed decay of 0.999 keeps 99% of the first step's weights for 10 steps and 37% after 1,000: a run of a few
hundred steps would be evaluated with weights close to where it began. The decay used at update n is
min(decay, (1 + n) / (10 + n)), the usual warm-up (TensorFlow's ExponentialMovingAverage with num_updates).
"""

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


def warmed_decay(decay: float, updates: int) -> float:
    """The decay applied at the given update count (0 for the first update after the copy)."""
    return min(decay, (1 + updates) / (10 + updates))


def averaged(model: nn.Module, decay: float) -> AveragedModel:
    """An AveragedModel of `model` (parameters and buffers) with a warmed-up exponential decay."""

    @torch.no_grad()
    def update(averaged_params, current_params, num_averaged):
        if not averaged_params[0].is_floating_point():  # a counter such as num_batches_tracked: the latest
            torch._foreach_copy_(averaged_params, current_params)
            return
        d = warmed_decay(decay, int(num_averaged))
        torch._foreach_lerp_(averaged_params, current_params, 1 - d)

    return AveragedModel(model, multi_avg_fn=update, use_buffers=True)
