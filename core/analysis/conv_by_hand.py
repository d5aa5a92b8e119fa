"""One output number of a convolution worked out by hand, and checked against the model's own.

For one convolution (named as the Feature maps page names it), one output channel and one output cell: the
input patch the kernel lies on (every input channel of its group, after the layer's own padding, sampled with
its stride and dilation), the kernel, their element-wise products, the sum, the bias; then each step the
model takes on that number up to its non-linearity — batch norm with its running statistics, the shortcut a
residual block adds, the activation function — worked out in float64 from the model's parameters. The
model's own values come from forward hooks on a private copy, so a shared model never gains hooks.

Which steps follow a convolution is read from the model's traced graph (`torch.fx`), so a ReLU shared by two
places of a residual block is matched to the right call. A convolution followed by pooling before its
non-linearity (the fast CNN pools first) has no activation of its own: its value ends at the convolution.
"""

import math
import operator
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
        chain, stop = _following(twin, layer)
        wanted = (
            [(layer, 0)]
            + [key for link in chain for key in link.reads]
            + [link.produces for link in chain if link.produces]
        )
        x = normalize(torch.as_tensor(image).reshape(1, *image.shape[-2:]).to(next(twin.parameters()).device))
        with torch.no_grad():
            seen = _values(twin, x, wanted)
    layer_input, conv_out = seen[(layer, 0)]
    height, width = conv_out.shape[-2:]
    for name, value, size in (("row", row, height), ("column", col, width)):
        if not 0 <= int(value) < size:
            raise StudioError(f"{name} {value} is outside the {height}×{width} output of {layer} (0-{size - 1}).")
    channel, row, col = int(channel), int(row), int(col)
    return _by_hand(conv, layer, layer_input, conv_out, chain, stop, seen, channel, row, col)


def _by_hand(conv, layer, layer_input, conv_out, chain, stop, seen, channel, row, col) -> ByHand:
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
        layer=layer,
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
        output_shape=tuple(conv_out.shape[-2:]),
        bias=bias,
        has_bias=has_bias,
        sum=total,
        model_conv=float(conv_out[0, channel, row, col]),
        stop=stop,
    )
    value = result.conv
    for link in chain:
        after, formula = link.apply(value, channel, [seen[key][1][0, channel, row, col].item() for key in link.reads])
        result.steps.append(Step(link.name, link.module, formula, value, after))
        value = after
    last = chain[-1].produces if chain else (layer, 0)
    result.model_activation = float(seen[last][1][0, channel, row, col])  # the chain always ends on a module
    return result


def _pad(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """The convolution's input with its own padding added (zeros, or its padding mode)."""
    pads = conv._reversed_padding_repeated_twice  # (left, right, top, bottom), also for padding="same"
    if not any(pads):
        return x
    if conv.padding_mode == "zeros":
        return F.pad(x, pads)
    return F.pad(x, pads, mode=conv.padding_mode)


# ---- what follows the convolution --------------------------------------------------------------------------

Key = tuple[str, int]  # (module name, which call of it): a module may run more than once per forward pass


@dataclass
class _Link:
    name: str
    module: str
    produces: Key | None  # the model's value after this step (None: an addition inside the forward code)
    apply: Callable  # (value, channel, read values) -> (new value, formula)
    reads: list[Key] = field(default_factory=list)  # model values the step needs (a shortcut's output)


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


def _add(z, c, read):
    other = read[0]
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


def _following(model: nn.Module, layer: str) -> tuple[list[_Link], str]:
    """The element-wise steps from convolution `layer` up to and including its non-linearity, and why they
    stop early when they do (empty when they reach one)."""
    import torch.fx as fx

    try:
        graph = fx.symbolic_trace(model).graph
    except Exception as e:  # a model fx cannot trace: show the convolution alone
        return [], f"the model's forward code cannot be traced ({type(e).__name__}), so only the convolution is shown"
    modules = dict(model.named_modules())
    calls: dict[str, int] = {}
    keys = {}
    for node in graph.nodes:
        if node.op == "call_module":
            keys[node] = (node.target, calls.get(node.target, 0))
            calls[node.target] = calls.get(node.target, 0) + 1
    node = next(n for n in graph.nodes if n.op == "call_module" and n.target == layer)
    chain: list[_Link] = []
    while True:
        users = list(node.users)
        if len(users) != 1:
            return chain, "its output goes on to several places, so no single non-linearity follows it"
        nxt = users[0]
        module = modules.get(nxt.target) if nxt.op == "call_module" else None
        if isinstance(module, PASS_THROUGH):
            node = nxt
            continue
        if isinstance(module, nn.BatchNorm2d) and module.track_running_stats:
            chain.append(_Link("Batch norm", nxt.target, keys[nxt], _batch_norm(module)))
        elif type(module) in NON_LINEAR:
            name = type(module).__name__
            chain.append(_Link(name, nxt.target, keys[nxt], _non_linear(module)))
            return chain, ""
        elif nxt.op == "call_function" and nxt.target in (operator.add, torch.add) and len(nxt.args) == 2:
            other = nxt.args[1] if nxt.args[0] is node else nxt.args[0]
            after = list(nxt.users)
            after_module = modules.get(after[0].target) if len(after) == 1 and after[0].op == "call_module" else None
            if other not in keys or type(after_module) not in NON_LINEAR:
                return chain, "an addition follows that this page cannot follow to a non-linearity"
            chain.append(_Link("Plus the shortcut", "", None, _add, [keys[other]]))
            name = type(after_module).__name__
            chain.append(_Link(name, after[0].target, keys[after[0]], _non_linear(after_module)))
            return chain, ""
        else:
            what = type(module).__name__ if module is not None else str(getattr(nxt.target, "__name__", nxt.target))
            return chain, f"{what} comes next, before any non-linearity, so the value ends here"
        node = nxt


def _values(model: nn.Module, x: torch.Tensor, wanted: list[Key]) -> dict[Key, tuple[torch.Tensor, torch.Tensor]]:
    """One forward pass; for each wanted (module, call) its (first input, output), copied when produced."""
    modules = dict(model.named_modules())
    seen: dict[Key, tuple[torch.Tensor, torch.Tensor]] = {}
    counts: dict[str, int] = {}

    def hook(name):
        def keep(module, inputs, output):
            call = counts.get(name, 0)
            counts[name] = call + 1
            if (name, call) in wanted:
                seen[(name, call)] = (inputs[0].detach().clone(), output.detach().clone())

        return keep

    handles = [modules[name].register_forward_hook(hook(name)) for name in {n for n, _ in wanted}]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return seen
