"""The real sizes of a model's convolution and pooling layers, for the sizes explorer.

Each layer's kernel, stride, padding and dilation are read from the module, and the input and output maps it
actually gets and gives from one forward pass of a blank picture with temporary hooks (on a private copy), so
the explorer's formula (`core.analysis.conv_sizes`) can be checked against what the model computes.
"""

from dataclasses import dataclass

import torch
from torch import nn

from core.analysis.conv_sizes import Geometry
from core.analysis.explanations import borrowed_copy
from core.data.dataset import normalize

KINDS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


@dataclass(frozen=True)
class LayerSize:
    """One convolution or pooling layer of a model, as the model runs it on a 28×28 picture."""

    name: str  # the module's name, e.g. "c3.0" or "layer2.0.shortcut.0"
    kind: str  # "Conv2d", "MaxPool2d" or "AvgPool2d"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]  # (rows, columns) added on each side
    dilation: tuple[int, int]
    ceil_mode: bool  # a pooling that rounds its output size up
    input: tuple[int, int]  # the map (rows, columns) the layer receives in the model
    output: tuple[int, int]  # the map (rows, columns) it gives, as the model computes it
    reads_picture: bool  # whether its input is the picture itself (the first layer), not an earlier map

    @property
    def geometry(self) -> Geometry | None:
        """The explorer's square geometry for this layer, or None when a square explorer cannot show it
        (a non-square kernel or input, uneven settings, or a pooling that rounds up)."""
        pairs = (self.kernel, self.stride, self.padding, self.dilation, self.input)
        if self.ceil_mode or any(a != b for a, b in pairs):
            return None
        return Geometry(self.kernel[0], self.stride[0], self.padding[0], self.dilation[0], self.input[0])

    def describe(self) -> str:
        k, s, p, d = self.kernel, self.stride, self.padding, self.dilation
        return (
            f"{self.name} ({self.kind}): {self.input[0]}×{self.input[1]} in, {k[0]}×{k[1]} kernel, stride {s[0]}, "
            f"padding {p[0]}, dilation {d[0]} → {self.output[0]}×{self.output[1]} out"
        )


def _pair(value) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (tuple, list)) else (int(value), int(value))


def _padding(module: nn.Module) -> tuple[int, int]:
    if isinstance(module, nn.Conv2d):  # also for padding="same": (left, right, top, bottom) as applied
        left, _, top, _ = module._reversed_padding_repeated_twice
        return int(top), int(left)
    return _pair(module.padding)


def model_layers(model: nn.Module) -> list[LayerSize]:
    """Every convolution and pooling layer of `model` (shortcuts included) in the order the forward pass
    calls them, each with its settings and the sizes it gets and gives on a blank 28×28 picture."""
    seen: dict[str, tuple] = {}
    order: list[str] = []
    picture = {}

    def recorder(name):
        def hook(module, inputs, output):
            if name not in seen:
                seen[name] = (tuple(inputs[0].shape[-2:]), tuple(output.shape[-2:]), inputs[0] is picture["x"])
                order.append(name)

        return hook

    with borrowed_copy(model) as twin:
        modules = {n: m for n, m in twin.named_modules() if isinstance(m, KINDS)}
        handles = [m.register_forward_hook(recorder(n)) for n, m in modules.items()]
        try:
            device = next(twin.parameters()).device
            with torch.inference_mode():
                picture["x"] = normalize(torch.zeros(1, 28, 28, device=device))
                twin(picture["x"])
        finally:
            for h in handles:
                h.remove()
        return [_layer(name, modules[name], *seen[name]) for name in order]


def _layer(name: str, m: nn.Module, size_in: tuple, size_out: tuple, first: bool) -> LayerSize:
    return LayerSize(
        name=name,
        kind=type(m).__name__,
        kernel=_pair(m.kernel_size),
        stride=_pair(m.stride if m.stride is not None else m.kernel_size),
        padding=_padding(m),
        dilation=_pair(getattr(m, "dilation", 1)),
        ceil_mode=bool(getattr(m, "ceil_mode", False)),
        input=(int(size_in[0]), int(size_in[1])),
        output=(int(size_out[0]), int(size_out[1])),
        reads_picture=first,
    )
