"""Why a model gave its answer: Grad-CAM, gradient saliency, Integrated Gradients and occlusion (Captum).

Every method returns a 28x28 heatmap aligned with the input as the model sees it. Attributions are taken
with respect to the [0, 1] image, so "black" (the Integrated Gradients baseline, the occlusion patch) is a
black pixel; the normalisation runs inside a small wrapper module. Each call works on a private copy of the
model, so a model shared by several sessions never gains hooks or `requires_grad` changes, and two
explanations running at once cannot mix.
"""

import copy
import threading
import weakref
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.analysis import explanation_methods
from core.analysis.map_grid import layer_grid, upsample  # noqa: F401 (where the maps' cells sit; used by callers)
from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES, MEAN, STD
from core.models import conv_layers, network_of

METHODS = tuple(explanation_methods.METHODS)  # each method is one record in core.analysis.explanation_methods


@dataclass
class Explanation:
    method: str
    target: int  # the class explained
    prediction: int  # the model's answer
    layer: str | None  # Grad-CAM's convolution layer, else None
    input: np.ndarray  # (28, 28) float32 in [0, 1]: what the model sees before normalisation
    heatmap: np.ndarray  # (28, 28) float32; signed where the method is
    probabilities: np.ndarray  # (classes,)
    class_names: tuple[str, ...] = CLASS_NAMES  # the model's classes, in output order

    @property
    def signed(self) -> bool:
        return explanation_methods.METHODS[self.method].signed

    @property
    def title(self) -> str:
        return explanation_methods.METHODS[self.method].title

    @property
    def target_name(self) -> str:
        return self.class_names[self.target]

    @property
    def prediction_name(self) -> str:
        return self.class_names[self.prediction]


class _FromPixels(nn.Module):
    """The model with its input normalisation inside: takes (N, 1, 28, 28) images in [0, 1]."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = network_of(model)  # the network itself: explanations look at one pass, no mirror image

    def forward(self, x):
        return self.model((x - MEAN) / STD).float()


def class_index(target, class_names=CLASS_NAMES) -> int:
    """A class given as an index (0-9, or more for a taught model; int or digit string) or a name (any case)
    -> its index among `class_names`."""
    if isinstance(target, (int, np.integer)) and 0 <= int(target) < len(class_names):
        return int(target)
    text = str(target).strip()
    if text.isascii() and text.isdigit() and len(text) <= 2 and int(text) < len(class_names):  # not "²" or "５"
        return int(text)
    names = {name.lower(): i for i, name in enumerate(class_names)}
    if text.lower() in names:
        return names[text.lower()]
    raise StudioError(
        f"unknown class {text!r}; use a number 0-{len(class_names) - 1} or one of: {', '.join(class_names)}."
    )


def gradcam_layers(model: nn.Module) -> list[str]:
    """Where Grad-CAM can look, in forward order: the output of each convolution block after its activation
    (the Sequential holding a convolution, or the residual block that ends in one)."""
    model = network_of(model)
    modules = dict(model.named_modules())
    out = []
    for conv in conv_layers(model):
        parent = conv.rpartition(".")[0]
        if parent and parent not in out:
            if isinstance(modules[parent], nn.Sequential) or conv == _last_conv_in(modules[parent], parent):
                out.append(parent)
                continue
        if not parent:
            out.append(conv)
    return out


def _last_conv_in(block: nn.Module, prefix: str) -> str | None:
    names = [f"{prefix}.{n}" for n, m in block.named_modules() if isinstance(m, nn.Conv2d) and "shortcut" not in n]
    return names[-1] if names else None


def check_layer(model: nn.Module, layer: str | None, private: bool = False) -> str:
    """The layer Grad-CAM reads (default: the last with a map larger than 1x1); a clear error if the model
    has no convolution or no such layer."""
    model = network_of(model)
    names = gradcam_layers(model)
    if not names:
        raise StudioError(
            f"Grad-CAM needs a convolution layer and {type(model).__name__} has none; "
            "use saliency, integrated_gradients or occlusion."
        )
    if layer is None:
        if private:
            sizes = map_sizes(model, names)
        else:
            with borrowed_copy(model) as twin:
                sizes = map_sizes(twin, names)
        spatial = [n for n in names if sizes[n] > 1]
        return (spatial or names)[-1]
    if layer not in names:
        raise StudioError(f"unknown layer {layer!r}; Grad-CAM layers of this model: {', '.join(names)}.")
    return layer


# map sides found by `map_sizes`, per model it ran on (a pooled private copy lives on, so its next caller
# skips the dry run); weak keys, so the entry goes with the copy
_known_map_sizes: "weakref.WeakKeyDictionary[nn.Module, dict[str, int]]" = weakref.WeakKeyDictionary()


def map_sizes(model: nn.Module, names: list[str]) -> dict[str, int]:
    """The side of each named layer's output map on a 28x28 input: a dry run with hooks, so give it a
    private copy (`private_copy`), never a shared model."""
    twin = model
    known = _known_map_sizes.get(twin)
    if known is not None and set(names) <= set(known):
        return known
    modules = dict(twin.named_modules())
    sizes = {}

    def record(name):
        def hook(module, inputs, output):
            sizes.setdefault(name, int(output.shape[-1]))

        return hook

    handles = [modules[n].register_forward_hook(record(n)) for n in names]
    with torch.no_grad():
        twin(torch.zeros(1, 1, 28, 28, device=next(twin.parameters()).device))
    for h in handles:
        h.remove()
    _known_map_sizes[twin] = sizes
    return sizes


def private_copy(model: nn.Module) -> nn.Module:
    """A copy of the network in eval mode, with gradients on and no hooks: the shared model is never touched."""
    twin = copy.deepcopy(network_of(model)).eval()
    _clear_hooks(twin)
    for p in twin.parameters():
        p.requires_grad_(True)
    return twin


def _clear_hooks(model: nn.Module) -> None:
    for module in model.modules():
        for hooks in (
            "_forward_hooks",
            "_forward_pre_hooks",
            "_backward_hooks",
            "_backward_pre_hooks",
            "_forward_hooks_with_kwargs",
            "_forward_hooks_always_called",
            "_forward_pre_hooks_with_kwargs",
        ):
            if isinstance(getattr(module, hooks, None), dict) and getattr(module, hooks):
                setattr(module, hooks, OrderedDict())


_pools: dict[int, tuple] = {}  # id(model) -> (weak reference, weights stamp, free private copies)
_pools_lock = threading.Lock()
POOL_SIZE = 4


def _stamp(model: nn.Module) -> tuple:
    """Changes whenever a parameter or buffer of `model` is modified in place (or replaced)."""
    return tuple((id(t), t._version) for t in (*model.parameters(), *model.buffers()))


@contextmanager
def borrowed_copy(model: nn.Module):
    """A private copy of `model` for one caller at a time; copies are reused while the model's weights stay
    the same (a deep copy costs about a forward pass), and a copy of changed weights is never handed out."""
    model = network_of(model)
    stamp = _stamp(model)
    with _pools_lock:
        for key in [k for k, (ref, _, _) in _pools.items() if ref() is None]:
            del _pools[key]
        entry = _pools.get(id(model))
        if entry is None or entry[0]() is not model or entry[1] != stamp:
            entry = _pools[id(model)] = (weakref.ref(model), stamp, [])
        twin = entry[2].pop() if entry[2] else None
    if twin is None:
        twin = private_copy(model)
    try:
        yield twin
    finally:
        _clear_hooks(twin)
        for p in twin.parameters():
            p.grad = None
        with _pools_lock:
            if _pools.get(id(model)) is entry and len(entry[2]) < POOL_SIZE:
                entry[2].append(twin)


def _as_input(image) -> torch.Tensor:
    """uint8 or [0, 1] image (28, 28), a tensor or an array -> float (1, 1, 28, 28) in [0, 1]."""
    image = torch.as_tensor(np.array(image)) if isinstance(image, np.ndarray) else image
    x = image.detach().float().cpu()
    if image.dtype == torch.uint8:
        x = x / 255.0
    return x.reshape(1, 1, *x.shape[-2:]).clamp(0, 1)


def explain(
    model: nn.Module,
    image: torch.Tensor,
    method: str = "gradcam",
    target=None,
    layer: str | None = None,
    class_names=CLASS_NAMES,
) -> Explanation:
    """One method's heatmap for one 28x28 image (uint8 or float in [0, 1]) and one target class
    (index or name among `class_names`, the model's classes; default the predicted class)."""
    record = explanation_methods.get(method)
    if not record.uses_layer and layer is not None:
        raise StudioError(f"a layer goes with gradcam only, not {method}.")
    class_names = tuple(class_names)
    chosen = None if target is None else class_index(target, class_names)
    with borrowed_copy(model) as twin:
        if record.uses_layer:
            layer = check_layer(twin, layer, private=True)
        device = next(twin.parameters()).device
        forward = _FromPixels(twin)
        x = _as_input(image).to(device)
        with torch.enable_grad():
            with torch.no_grad():
                probs = F.softmax(forward(x), dim=1)[0].cpu().numpy()
            prediction = int(probs.argmax())
            target = prediction if chosen is None else chosen
            heat = record.compute(forward, twin, x.clone().requires_grad_(True), target, layer)
    return Explanation(
        method,
        target,
        prediction,
        layer,
        x[0, 0].cpu().numpy().astype(np.float32),
        heat,
        probs.astype(np.float32),
        class_names,
    )


def explain_all(
    model: nn.Module, image: torch.Tensor, target=None, layer: str | None = None, class_names=CLASS_NAMES
) -> dict[str, Explanation]:
    """Every method that applies to `model` (Grad-CAM only where it has a convolution)."""
    methods = explanation_methods.applicable(bool(conv_layers(model)))
    uses = {m: explanation_methods.METHODS[m].uses_layer for m in methods}
    return {m: explain(model, image, m, target, layer if uses[m] else None, class_names) for m in methods}


def peak(*found: Explanation) -> float:
    """A common scale for several heatmaps of one method (the largest magnitude among them)."""
    return max([float(np.abs(e.heatmap).max()) for e in found] + [1e-12])


def picture(e: Explanation, scale: float | None = None, zoom: int = 4) -> np.ndarray:
    """The heatmap over the input as uint8 RGB (28*zoom square): red where the map is positive, blue where a
    signed map is negative, stronger colour for larger values; the input shows through in gray."""
    gray = np.repeat(e.input[..., None], 3, axis=2) * 0.8
    value = e.heatmap / (scale or peak(e))
    alpha = np.clip(np.abs(value), 0, 1)[..., None] ** 0.7
    red, blue = np.array([0.95, 0.15, 0.1]), np.array([0.15, 0.4, 0.95])
    colour = np.where(value[..., None] >= 0, red, blue)
    rgb = gray * (1 - alpha) + colour * alpha
    rgb = rgb.repeat(zoom, axis=0).repeat(zoom, axis=1)
    return (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
