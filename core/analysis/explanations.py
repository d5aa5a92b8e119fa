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

from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES, MEAN, STD
from core.models import conv_layers, network_of

METHODS = ("gradcam", "saliency", "integrated_gradients", "occlusion")
TITLES = {
    "gradcam": "Grad-CAM",
    "saliency": "Gradient saliency",
    "integrated_gradients": "Integrated Gradients",
    "occlusion": "Occlusion",
}
SIGNED = {"gradcam": False, "saliency": True, "integrated_gradients": True, "occlusion": True}
IG_STEPS = 32
OCCLUSION_WINDOW = 4
OCCLUSION_STRIDE = 2


@dataclass
class Explanation:
    method: str
    target: int  # the class explained
    prediction: int  # the model's answer
    layer: str | None  # Grad-CAM's convolution layer, else None
    input: np.ndarray  # (28, 28) float32 in [0, 1]: what the model sees before normalisation
    heatmap: np.ndarray  # (28, 28) float32; signed where the method is (see SIGNED)
    probabilities: np.ndarray  # (10,)

    @property
    def signed(self) -> bool:
        return SIGNED[self.method]

    @property
    def target_name(self) -> str:
        return CLASS_NAMES[self.target]

    @property
    def prediction_name(self) -> str:
        return CLASS_NAMES[self.prediction]


class _FromPixels(nn.Module):
    """The model with its input normalisation inside: takes (N, 1, 28, 28) images in [0, 1]."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = network_of(model)  # the network itself: explanations look at one pass, no mirror image

    def forward(self, x):
        return self.model((x - MEAN) / STD).float()


def class_index(target) -> int:
    """A class given as an index (0-9, int or digit string) or a name (any case) -> its index."""
    if isinstance(target, (int, np.integer)) and 0 <= int(target) < len(CLASS_NAMES):
        return int(target)
    text = str(target).strip()
    if text.isascii() and text.isdigit() and len(text) <= 2 and int(text) < len(CLASS_NAMES):  # not "²" or "５"
        return int(text)
    names = {name.lower(): i for i, name in enumerate(CLASS_NAMES)}
    if text.lower() in names:
        return names[text.lower()]
    raise StudioError(f"unknown class {text!r}; use a number 0-9 or one of: {', '.join(CLASS_NAMES)}.")


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


def layer_grid(model: nn.Module, layer: str) -> tuple[float, float]:
    """(offset, step): output cell j of `layer` (a module or block) is centred on input pixel offset + step * j.

    Follows the convolutions and poolings up to `layer` in forward order (shortcuts run parallel to the
    main path and are skipped), so a map upsampled with it lines up with the input pixels it looks at.
    """
    offset, step = 0.0, 1.0
    entered = False
    for name, m in network_of(model).named_modules():
        inside = name == layer or name.startswith(layer + ".")
        if entered and not inside:
            break
        entered = entered or inside
        if ".shortcut" in name or not isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            continue
        k, s, p = (_first(getattr(m, a)) for a in ("kernel_size", "stride", "padding"))
        offset += step * (-p + (k - 1) / 2)
        step *= s
    return offset, step


def _first(v) -> int:
    return int(v[0] if isinstance(v, (tuple, list)) else v)


def upsample(cells: np.ndarray, offset: float, step: float, size: int = 28) -> np.ndarray:
    """(h, w) map -> (size, size) by linear interpolation between cell centres, held flat past the edges."""

    def weights(n):
        t = np.clip((np.arange(size) - offset) / step, 0, n - 1)
        low = np.floor(t).astype(int)
        high = np.minimum(low + 1, n - 1)
        frac = t - low
        m = np.zeros((size, n), dtype=np.float64)
        m[np.arange(size), low] += 1 - frac
        m[np.arange(size), high] += frac
        return m

    h, w = cells.shape
    return (weights(h) @ cells.astype(np.float64) @ weights(w).T).astype(np.float32)


def _as_input(image) -> torch.Tensor:
    """uint8 or [0, 1] image (28, 28), a tensor or an array -> float (1, 1, 28, 28) in [0, 1]."""
    image = torch.as_tensor(np.array(image)) if isinstance(image, np.ndarray) else image
    x = image.detach().float().cpu()
    if image.dtype == torch.uint8:
        x = x / 255.0
    return x.reshape(1, 1, *x.shape[-2:]).clamp(0, 1)


def explain(
    model: nn.Module, image: torch.Tensor, method: str = "gradcam", target=None, layer: str | None = None
) -> Explanation:
    """One method's heatmap for one 28x28 image (uint8 or float in [0, 1]) and one target class
    (index or name; default the predicted class)."""
    if method not in METHODS:
        raise StudioError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}.")
    if method != "gradcam" and layer is not None:
        raise StudioError(f"a layer goes with gradcam only, not {method}.")
    chosen = None if target is None else class_index(target)
    with borrowed_copy(model) as twin:
        if method == "gradcam":
            layer = check_layer(twin, layer, private=True)
        device = next(twin.parameters()).device
        forward = _FromPixels(twin)
        x = _as_input(image).to(device)
        with torch.enable_grad():
            with torch.no_grad():
                probs = F.softmax(forward(x), dim=1)[0].cpu().numpy()
            prediction = int(probs.argmax())
            target = prediction if chosen is None else chosen
            heat = _attribute(forward, twin, x, method, target, layer)
    return Explanation(
        method, target, prediction, layer, x[0, 0].cpu().numpy().astype(np.float32), heat, probs.astype(np.float32)
    )


def explain_all(model: nn.Module, image: torch.Tensor, target=None, layer: str | None = None) -> dict[str, Explanation]:
    """Every method that applies to `model` (Grad-CAM only where it has a convolution)."""
    methods = [m for m in METHODS if m != "gradcam" or conv_layers(model)]
    return {m: explain(model, image, m, target, layer if m == "gradcam" else None) for m in methods}


def _attribute(
    forward: nn.Module, twin: nn.Module, x: torch.Tensor, method: str, target: int, layer: str | None
) -> np.ndarray:
    from captum.attr import IntegratedGradients, LayerGradCam, Occlusion, Saliency

    x = x.clone().requires_grad_(True)
    if method == "gradcam":
        module = dict(twin.named_modules())[layer]
        cells = LayerGradCam(forward, module).attribute(x, target=target, relu_attributions=True)
        cells = cells.detach().float().cpu().numpy()[0].sum(0)  # one map; several only with split outputs
        return upsample(cells, *layer_grid(twin, layer))
    if method == "saliency":
        attr = Saliency(forward).attribute(x, target=target, abs=False)
    elif method == "integrated_gradients":
        attr = IntegratedGradients(forward).attribute(
            x, baselines=torch.zeros_like(x), target=target, n_steps=IG_STEPS, internal_batch_size=IG_STEPS
        )
    else:
        window, stride = OCCLUSION_WINDOW, OCCLUSION_STRIDE
        attr = Occlusion(forward).attribute(
            x,
            sliding_window_shapes=(1, window, window),
            strides=(1, stride, stride),
            baselines=0.0,
            target=target,
            perturbations_per_eval=256,
        )
    return attr.detach().float().cpu().numpy()[0, 0].astype(np.float32)


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
