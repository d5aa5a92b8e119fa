"""The one registry of architectures: display name, teaching text, default settings, builder."""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from core.base.errors import StudioError
from core.models.fast_cnn import FastCNN
from core.models.lenet5 import ACTIVATIONS, LeNet5
from core.models.linear import Linear
from core.models.mlp import MLP
from core.models.resnet18 import ResNet18
from core.models.simple_cnn import SimpleCNN
from core.models.two_conv import TwoConv


@dataclass(frozen=True)
class Architecture:
    name: str
    display_name: str
    description: str
    builder: Callable[..., nn.Module]
    defaults: dict = field(default_factory=dict)
    cpu_bf16: bool = False  # bfloat16 autocast trains it measurably faster on a CPU with native bf16

    def build(self, **settings) -> nn.Module:
        return self.builder(**self.settings(settings))

    def settings(self, overrides: dict | None = None) -> dict:
        """Defaults merged with overrides, validated; unknown keys are refused."""
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            allowed = ", ".join(sorted(self.defaults)) or "none"
            raise StudioError(f"{self.name} has no setting {unknown[0]!r} (its settings: {allowed}).")
        merged = {**self.defaults, **overrides}
        _validate(self.name, merged)
        return merged

    def parameter_count(self, **settings) -> int:
        return count_parameters(self.build(**settings))


def _validate(arch: str, s: dict) -> None:
    if "width" in s and not (isinstance(s["width"], (int, float)) and s["width"] > 0):
        raise StudioError(f"{arch}: width must be a positive number, got {s['width']!r}.")
    if arch in ("simple_cnn", "two_conv", "fast_cnn") and (not float(s["width"]).is_integer()):
        raise StudioError(f"{arch}: width must be a whole number (1, 2, 4, ...), got {s['width']!r}.")
    if "dropout" in s and not 0 <= s["dropout"] < 1:
        raise StudioError(f"{arch}: dropout must be in [0, 1), got {s['dropout']!r}.")
    if "hidden" in s:
        hidden = s["hidden"]
        if not hidden or any(int(h) != h or h < 1 for h in hidden):
            raise StudioError(f"{arch}: hidden sizes must be positive whole numbers, got {list(hidden)!r}.")
    if "activation" in s and s["activation"] not in ACTIVATIONS:
        raise StudioError(f"{arch}: activation must be one of {', '.join(ACTIVATIONS)}, got {s['activation']!r}.")


def _ints(settings: dict) -> dict:
    out = dict(settings)
    if "width" in out and float(out["width"]).is_integer():
        out["width"] = int(out["width"])
    if "hidden" in out:
        out["hidden"] = tuple(int(h) for h in out["hidden"])
    return out


REGISTRY: dict[str, Architecture] = {
    a.name: a
    for a in [
        Architecture(
            "linear",
            "Linear (softmax regression)",
            "One weight per pixel and class: each class score is a weighted sum of the 784 pixels, turned into "
            "probabilities by softmax. No hidden layer, so it can only draw straight boundaries between classes "
            "(about 84% on Fashion-MNIST): the baseline that shows what hidden layers and convolutions buy.",
            lambda **s: Linear(),
            {},
        ),
        Architecture(
            "mlp",
            "MLP (fully connected)",
            "Flattens the 28x28 image into 784 numbers and passes them through fully connected layers. "
            "It has no notion of neighbouring pixels, so a shift of one pixel looks like a new image to it: "
            "a useful baseline that shows why convolutions help.",
            lambda **s: MLP(**_ints(s)),
            {"hidden": (256, 128), "dropout": 0.2, "batch_norm": False},
        ),
        Architecture(
            "simple_cnn",
            "Simple CNN (2 conv + 2 pool + 3 FC)",
            "Two 5x5 convolutions, each followed by ReLU and 2x2 max pooling, learn local edge and texture "
            "detectors; three fully connected layers (120, 84, 10) combine them. Small and fast: the classic "
            "first CNN. `width` multiplies the channels (6 and 16).",
            lambda **s: SimpleCNN(**_ints(s)),
            {"width": 1, "batch_norm": False, "dropout": 0.0},
            cpu_bf16=True,
        ),
        Architecture(
            "two_conv",
            "2-conv CNN (2 conv + 1 linear)",
            "Two 3x3 convolution blocks (32 and 64 channels, batch norm, ReLU, 2x2 max pooling) keep more spatial "
            "detail than 5x5 kernels, and a single linear layer reads the 7x7 maps. Few layers, strong accuracy.",
            lambda **s: TwoConv(**_ints(s)),
            {"width": 1, "batch_norm": True, "dropout": 0.25},
            cpu_bf16=True,
        ),
        Architecture(
            "lenet5",
            "LeNet-5",
            "LeCun's 1998 network for handwritten digits: convolution (6 maps), average-pool subsampling, "
            "convolution (16 maps), subsampling, a 5x5 convolution to 120 features, then 84 and 10 units. "
            "A piece of history that still does well on small grayscale images.",
            lambda **s: LeNet5(**s),
            {"activation": "tanh"},
            cpu_bf16=True,
        ),
        Architecture(
            "resnet18",
            "ResNet-18",
            "Eighteen layers in four stages of residual blocks: each block adds its input back to its output, so "
            "gradients flow through deep networks. Adapted to 28x28 (3x3 stem, no initial pooling). "
            "`width` scales the channels (1.0 = the standard 64-512; 0.25 trains on a CPU).",
            lambda **s: ResNet18(**s),
            {"width": 0.25},
            cpu_bf16=True,
        ),
        Architecture(
            "fast_cnn",
            "Fast CNN (3 conv, pool first)",
            "Built for speed on a CPU: three 3x3 convolutions with 16, 32 and 64 channels (sizes the CPU's "
            "convolution library handles well), each followed at once by 2x2 max pooling (28 -> 14 -> 7 -> 3), "
            "so batch norm and ReLU work on a quarter of the pixels; one linear layer reads the 3x3 maps. "
            "About a sixth of two_conv's work per image: 91% test accuracy in 3 epochs (the quick demo). "
            "`width` multiplies the channels.",
            lambda **s: FastCNN(**_ints(s)),
            {"width": 1},
            cpu_bf16=True,
        ),
    ]
}


def get(name: str) -> Architecture:
    try:
        return REGISTRY[name]
    except KeyError:
        raise StudioError(f"unknown architecture {name!r}; choose one of: {', '.join(REGISTRY)}.") from None


def build(name: str, settings: dict | None = None) -> nn.Module:
    return get(name).build(**(settings or {}))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def feature_layers(model: nn.Module) -> list[str]:
    """Names of the model's convolution and pooling modules, in forward order (empty for an MLP)."""
    kinds = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
    return [name for name, m in model.named_modules() if isinstance(m, kinds) and not _is_shortcut(name)]


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the model's convolution modules, in forward order."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and not _is_shortcut(name)]


def _is_shortcut(name: str) -> bool:
    return ".shortcut" in name


def set_flip_averaging(model: nn.Module, on: bool = True) -> nn.Module:
    """Mark `model` to be used with test-time flip: every prediction is the average of the logits for the image
    and its mirror image (for models trained with horizontal flips). Inference and export honour the mark."""
    model.flip_averaging = bool(on)
    return model


def uses_flip_averaging(model: nn.Module) -> bool:
    return bool(getattr(model, "flip_averaging", False))


def fast_layout(model: nn.Module, device) -> torch.memory_format:
    """The memory format to keep `model` (and its inputs) in on `device`: channels-last for a
    convolutional model on a CPU or CUDA, where oneDNN and cuDNN run convolutions faster that way (on a
    2-core CPU simple_cnn trains 1.2x and evaluates the test set 2x faster); else the usual layout."""
    if torch.device(device).type in ("cpu", "cuda") and conv_layers(model):
        return torch.channels_last
    return torch.contiguous_format
