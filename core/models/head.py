"""The output layer of a network: the last Linear module, whose rows are the class scores. Every architecture
ends in one; a model taught extra classes has the same network with more rows there."""

from torch import nn

from core.base.errors import StudioError
from core.models.flip import network_of


def output_layer(model: nn.Module) -> str:
    """The name of the network's last Linear module (its output layer)."""
    found = [name for name, m in network_of(model).named_modules() if isinstance(m, nn.Linear)]
    if not found:
        raise StudioError(f"{type(network_of(model)).__name__} has no linear output layer.")
    return found[-1]


def output_count(model: nn.Module) -> int:
    """How many classes the network scores."""
    return dict(network_of(model).named_modules())[output_layer(model)].out_features


def with_outputs(model: nn.Module, count: int) -> nn.Module:
    """`model` with its output layer replaced by a fresh one of `count` rows (in place; returned for chaining).
    The same number of rows leaves the model untouched."""
    network = network_of(model)
    name = output_layer(network)
    old = dict(network.named_modules())[name]
    if old.out_features == count:
        return model
    parent_name, _, child = name.rpartition(".")
    parent = network.get_submodule(parent_name) if parent_name else network
    new = nn.Linear(old.in_features, count, bias=old.bias is not None, device=old.weight.device, dtype=old.weight.dtype)
    setattr(parent, child, new)
    return model
