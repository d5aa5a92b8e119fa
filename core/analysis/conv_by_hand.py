"""One output number of a convolution worked out by hand, and checked against the model's own.

For one convolution (named as the Feature maps page names it), one output channel and one output cell: the
input patch the kernel lies on (every input channel of its group, after the layer's own padding, sampled with
its stride and dilation), the kernel, their element-wise products, the sum, the bias; then each step the
model takes on that number up to its non-linearity — batch norm with its running statistics, the shortcut a
residual block adds, the activation function — worked out in float64 from the model's parameters.

The model's own values come from forward hooks on a private copy (a shared model never gains hooks). Which
steps follow the convolution is read from that same forward pass: the module that receives the
convolution's output tensor comes next, and so on; a tensor that reaches the next module changed by an
addition in the forward code is matched, exactly, to the convolution's value plus another module's output
(a residual block's shortcut). A convolution followed by pooling before its non-linearity (the fast CNN
pools first) has no activation of its own: its value ends at the convolution.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.analysis.explanations import borrowed_copy
from core.base.errors import StudioError
from core.data.dataset import normalize
from core.models import conv_layers


@dataclass(frozen=True)
class Step:
    """One thing the model does to the number after the convolution."""

    name: str  # e.g. "Batch norm", "plus the shortcut", "ReLU"
    module: str  # the module doing it ("" for an addition in the forward code)
    formula: str  # the arithmetic with this cell's numbers
    before: float
    after: float


@dataclass
class ByHand:
    layer: str
    channel: int
    row: int
    col: int
    patch: np.ndarray  # (in_channels of the group, kh, kw) float32: the padded input under the kernel
    kernel: np.ndarray  # (in_channels of the group, kh, kw) float32
    input_channels: list[int]  # which input channels the patch rows are (all of them unless groups > 1)
    corner: tuple[int, int]  # (row, col) of the patch's first tap in the unpadded input (negative: padding)
    stride: tuple[int, int]
    padding: tuple[int, int]  # (rows, columns) of padding added on each side
    dilation: tuple[int, int]
    groups: int
    input_shape: tuple[int, int]  # the layer's input map (rows, columns), before padding
    output_shape: tuple[int, int]  # the convolution's output map (rows, columns)
    bias: float  # 0.0 when the convolution has none
    has_bias: bool
    sum: float  # Σ patch × kernel, float64
    model_conv: float  # the model's convolution output at this cell
    steps: list[Step] = field(default_factory=list)
    stop: str = ""  # why the steps end before a non-linearity (empty when they reach one)
    model_activation: float = math.nan  # the model's own value after the last step

    @property
    def products(self) -> np.ndarray:
        return self.patch.astype(np.float64) * self.kernel.astype(np.float64)

    @property
    def conv(self) -> float:
        """The convolution's output: the sum plus the bias."""
        return self.sum + self.bias

    @property
    def activation(self) -> float:
        """The value after the last step (the non-linearity when the steps reach one)."""
        return self.steps[-1].after if self.steps else self.conv

    @property
    def error(self) -> float:
        """The largest gap between a by-hand number and the model's own (convolution output and activation)."""
        return max(abs(self.conv - self.model_conv), abs(self.activation - self.model_activation))

    def as_json(self) -> dict:
        """The command line's record: patch and kernel shaped [in_channels][k][k]."""
        return {
            "patch": self.patch.astype(np.float64).tolist(),
            "kernel": self.kernel.astype(np.float64).tolist(),
            "bias": self.bias,
            "sum": self.sum,
            "activation": self.activation,
            "model_activation": self.model_activation,
        }


def compute(model: nn.Module, image: torch.Tensor, layer: str, channel: int, row: int, col: int) -> ByHand:
    """The by-hand record for output cell (row, col) of `channel` of convolution `layer`, on a 28x28 image
    (uint8, or float in [0, 1])."""
    names = conv_layers(model)
    if layer not in names:
        listed = ", ".join(names) if names else "none (this model has no convolution)"
        raise StudioError(f"unknown layer {layer!r}; convolutions of this model: {listed}.")
    with borrowed_copy(model) as twin:
        conv = dict(twin.named_modules())[layer]
        if not 0 <= int(channel) < conv.out_channels:
            raise StudioError(
                f"{layer} has {conv.out_channels} output channels (0-{conv.out_channels - 1}), not {channel}."
            )
        x = normalize(torch.as_tensor(image).reshape(1, *image.shape[-2:]).to(next(twin.parameters()).device))
        with torch.no_grad():
            calls = _calls(twin, x)
        start = next(c for c in calls if c.name == layer)
        chain, stop = _following(calls, start, x)
    height, width = start.output.shape[-2:]
    for name, value, size in (("row", row, height), ("column", col, width)):
        if not 0 <= int(value) < size:
            raise StudioError(f"{name} {value} is outside the {height}×{width} output of {layer} (0-{size - 1}).")
    return _by_hand(conv, start, chain, stop, int(channel), int(row), int(col))


def _by_hand(conv, start: "_Call", chain: list["_Link"], stop: str, channel: int, row: int, col: int) -> ByHand:
    layer_input, conv_out = start.input, start.output
    padded = _pad(conv, layer_input)
    (sh, sw), (dh, dw), (kh, kw) = conv.stride, conv.dilation, conv.kernel_size
    per_group = conv.in_channels // conv.groups
    group = channel // (conv.out_channels // conv.groups)
    inputs = list(range(group * per_group, (group + 1) * per_group))
    top, left = row * sh, col * sw
    patch = padded[0, inputs][:, top : top + dh * (kh - 1) + 1 : dh, left : left + dw * (kw - 1) + 1 : dw]
    kernel = conv.weight.detach().float().cpu()[channel]
    patch = patch.float().cpu().numpy()
    kernel = kernel.numpy()
    pad_top, pad_left = conv._reversed_padding_repeated_twice[2], conv._reversed_padding_repeated_twice[0]
    has_bias = conv.bias is not None
    bias = float(conv.bias.detach().double()[channel]) if has_bias else 0.0
    total = float((patch.astype(np.float64) * kernel.astype(np.float64)).sum())
    result = ByHand(
        layer=start.name,
        channel=channel,
        row=row,
        col=col,
        patch=patch,
        kernel=kernel,
        input_channels=inputs,
        corner=(top - pad_top, left - pad_left),
        stride=(sh, sw),
        padding=(pad_top, pad_left),
        dilation=(dh, dw),
        groups=conv.groups,
        input_shape=tuple(layer_input.shape[-2:]),
        output_shape=tuple(conv_out.shape[-2:]),
        bias=bias,
        has_bias=has_bias,
        sum=total,
        model_conv=float(conv_out[0, channel, row, col]),
        stop=stop,
    )
    value = result.conv
    for link in chain:
        other = None if link.other is None else float(link.other[0, channel, row, col])
        after, formula = link.apply(value, channel, other)
        result.steps.append(Step(link.name, link.module, formula, value, after))
        value = after
    last = chain[-1].produces if chain else conv_out
    result.model_activation = float(last[0, channel, row, col])
    return result


def map_cells(values: np.ndarray) -> list[dict]:
    """A channel's (rows, columns) output map as one record per cell, {"row", "col", "value"} in reading order:
    what a chart of the map draws (one mark per cell)."""
    values = np.asarray(values, np.float64)
    if values.ndim != 2:
        raise StudioError(f"a map has rows and columns, not shape {tuple(values.shape)}.")
    return [
        {"row": r, "col": c, "value": float(values[r, c])}
        for r in range(values.shape[0])
        for c in range(values.shape[1])
    ]


def _pad(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """The convolution's input with its own padding added (zeros, or its padding mode)."""
    pads = conv._reversed_padding_repeated_twice  # (left, right, top, bottom), also for padding="same"
    if not any(pads):
        return x
    if conv.padding_mode == "zeros":
        return F.pad(x, pads)
    return F.pad(x, pads, mode=conv.padding_mode)


# ---- what follows the convolution --------------------------------------------------------------------------


@dataclass
class _Call:
    """One call of a module (without submodules) in the forward pass, in order."""

    name: str
    module: nn.Module
    received: torch.Tensor  # the input tensor object itself (to follow where a tensor goes)
    produced: torch.Tensor  # the output tensor object itself
    input: torch.Tensor  # copies taken at the call, so later in-place work cannot change them
    output: torch.Tensor


@dataclass
class _Link:
    name: str
    module: str
    produces: torch.Tensor  # the model's value after this step
    apply: Callable  # (value, channel, other term or None) -> (new value, formula)
    other: torch.Tensor | None = None  # what an addition adds (a shortcut's output)


def _calls(model: nn.Module, x: torch.Tensor) -> list[_Call]:
    """Every module call (modules without submodules) of one forward pass, with what it got and gave."""
    calls: list[_Call] = []

    def hook(name):
        def keep(module, inputs, output):
            if inputs and isinstance(inputs[0], torch.Tensor) and isinstance(output, torch.Tensor):
                calls.append(
                    _Call(name, module, inputs[0], output, inputs[0].detach().clone(), output.detach().clone())
                )

        return keep

    leaves = [(n, m) for n, m in model.named_modules() if n and not any(True for _ in m.children())]
    handles = [m.register_forward_hook(hook(n)) for n, m in leaves]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return calls


def _fmt(v: float) -> str:
    return f"{v:.4f}"


def _batch_norm(bn: nn.BatchNorm2d):
    def apply(z, c, _):
        mean, var = float(bn.running_mean[c]), float(bn.running_var[c])
        gamma = float(bn.weight.detach()[c]) if bn.affine else 1.0
        beta = float(bn.bias.detach()[c]) if bn.affine else 0.0
        y = (z - mean) / math.sqrt(var + bn.eps) * gamma + beta
        return y, (
            f"({_fmt(z)} − mean {_fmt(mean)}) / √(variance {_fmt(var)} + {bn.eps:g}) × γ {_fmt(gamma)} "
            f"+ β {_fmt(beta)} = {_fmt(y)}"
        )

    return apply


def _add(z, c, other):
    return z + other, f"{_fmt(z)} + shortcut {_fmt(other)} = {_fmt(z + other)}"


def _sigmoid(y: float) -> float:
    return 1 / (1 + math.exp(-y)) if y >= 0 else math.exp(y) / (1 + math.exp(y))


def _gelu(m: nn.GELU, y: float) -> float:
    if m.approximate == "tanh":
        return 0.5 * y * (1 + math.tanh(math.sqrt(2 / math.pi) * (y + 0.044715 * y**3)))
    return 0.5 * y * (1 + math.erf(y / math.sqrt(2)))


# The non-linearities worked out by hand: type -> (formula, function of (module, value)).
NON_LINEAR: dict[type, tuple[str, Callable[[nn.Module, float], float]]] = {
    nn.ReLU: ("max(0, {y})", lambda m, y: max(0.0, y)),
    nn.ReLU6: ("min(max(0, {y}), 6)", lambda m, y: min(max(0.0, y), 6.0)),
    nn.LeakyReLU: ("{y} if positive, else {y} × slope", lambda m, y: y if y > 0 else y * m.negative_slope),
    nn.Tanh: ("tanh({y})", lambda m, y: math.tanh(y)),
    nn.Sigmoid: ("1 / (1 + e^−{y})", lambda m, y: _sigmoid(y)),
    nn.SiLU: ("{y} × sigmoid({y})", lambda m, y: y * _sigmoid(y)),
    nn.GELU: ("{y} × Φ({y})", _gelu),
    nn.ELU: ("{y} if positive, else α(e^{y} − 1)", lambda m, y: y if y > 0 else m.alpha * math.expm1(y)),
}
PASS_THROUGH = (nn.Identity, nn.Dropout, nn.Dropout2d)  # in eval mode they change nothing


def _non_linear(module: nn.Module):
    formula, fn = NON_LINEAR[type(module)]

    def apply(y, c, _):
        a = fn(module, y)
        return a, f"{formula.format(y=_fmt(y))} = {_fmt(a)}"

    return apply


def _shortcut(calls: list[_Call], current: _Call, x: torch.Tensor) -> tuple[_Call, torch.Tensor] | None:
    """The module call that receives `current`'s output plus another tensor (a residual block's shortcut),
    with that other tensor: the model input or an earlier call's output, matched exactly."""
    later = calls[calls.index(current) + 1 :]
    earlier = [x] + [c.output for c in calls[: calls.index(current)]] + [c.output for c in later]
    for call in later:
        if call.input.shape != current.output.shape:
            continue
        for other in earlier:
            if other.shape == call.input.shape and torch.equal(current.output + other, call.input):
                return call, other
    return None


def _following(calls: list[_Call], start: _Call, x: torch.Tensor) -> tuple[list[_Link], str]:
    """The element-wise steps from the convolution call `start` up to and including its non-linearity, and
    why they stop early when they do (empty when they reach one)."""
    chain: list[_Link] = []
    current = start
    while True:
        later = calls[calls.index(current) + 1 :]
        nxt = next((c for c in later if c.received is current.produced), None)
        if nxt is None:
            found = _shortcut(calls, current, x)
            if found is None or type(found[0].module) not in NON_LINEAR:
                return chain, "the model's own code (not one of its layers) uses the value next, so it ends here"
            nxt, other = found
            chain.append(_Link("Plus the shortcut", "", nxt.input, _add, other))
            chain.append(_Link(type(nxt.module).__name__, nxt.name, nxt.output, _non_linear(nxt.module)))
            return chain, ""
        module = nxt.module
        if isinstance(module, PASS_THROUGH):
            current = nxt
            continue
        if isinstance(module, nn.BatchNorm2d) and module.track_running_stats:
            chain.append(_Link("Batch norm", nxt.name, nxt.output, _batch_norm(module)))
        elif type(module) in NON_LINEAR:
            chain.append(_Link(type(module).__name__, nxt.name, nxt.output, _non_linear(module)))
            return chain, ""
        else:
            return chain, f"{type(module).__name__} comes next, before any non-linearity, so the value ends here"
        current = nxt
