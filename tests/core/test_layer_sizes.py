"""The sizes explorer linked to a model: every convolution and pooling layer of the shipped CNNs, loaded into the
explorer's arithmetic, gives the output size the model computes on a real test image."""

from pathlib import Path

import pytest
import torch
from torch import nn

from core.analysis import layer_sizes
from core.analysis.conv_sizes import Geometry
from core.data.dataset import normalize
from core.io import checkpoint
from core.models import network_of

SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints"
CNNS = ("lenet5", "simple_cnn", "two_conv", "resnet18")


def real_sizes(model: nn.Module, image: torch.Tensor) -> dict[str, tuple]:
    """Each conv/pool module's input and output map size on `image`, read by this test's own hooks."""
    network = network_of(model).eval()
    seen = {}

    def keep(name):
        def hook(module, inputs, output):  # returns None: the output is left as it is
            seen.setdefault(name, (tuple(inputs[0].shape[-2:]), tuple(output.shape[-2:])))

        return hook

    kinds = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
    handles = [m.register_forward_hook(keep(n)) for n, m in network.named_modules() if isinstance(m, kinds)]
    try:
        with torch.no_grad():
            network(normalize(image.reshape(1, 28, 28)))
    finally:
        for h in handles:
            h.remove()
    return seen


@pytest.mark.parametrize("name", CNNS)
def test_every_layer_of_the_shipped_cnns(name, fmnist):
    model = checkpoint.load(SHIPPED / f"{name}.safetensors").model
    layers = layer_sizes.model_layers(model)
    real = real_sizes(model, fmnist.test_images[0])
    assert [layer.name for layer in layers] == list(real)  # every conv and pooling layer, shortcuts included
    for layer in layers:
        g = layer.geometry
        assert g is not None, layer.describe()  # square settings, no rounding up: the explorer can show it
        assert (layer.input, layer.output) == real[layer.name]
        assert (g.output, g.output) == layer.output, layer.describe()  # the explorer's formula = the model
        module = dict(network_of(model).named_modules())[layer.name]
        with torch.no_grad():  # the same settings in a fresh layer of torch's own, on a map of that input size
            alone = type(module)(**_settings(module))(torch.zeros(1, 1, g.size, g.size))
        assert alone.shape[-1] == g.output
    assert [layer.reads_picture for layer in layers].count(True) == 1 and layers[0].reads_picture


def _settings(module: nn.Module) -> dict:
    if isinstance(module, nn.Conv2d):
        return {
            "in_channels": 1,
            "out_channels": 1,
            "kernel_size": module.kernel_size,
            "stride": module.stride,
            "padding": module.padding,
            "dilation": module.dilation,
        }
    found = {"kernel_size": module.kernel_size, "stride": module.stride, "padding": module.padding}
    return found | ({"dilation": module.dilation} if isinstance(module, nn.MaxPool2d) else {})


def test_lenet5_sizes_a_student_reads():
    layers = layer_sizes.model_layers(checkpoint.load(SHIPPED / "lenet5.safetensors").model)
    assert [(layer.name, layer.kind, layer.input[0], layer.output[0]) for layer in layers] == [
        ("c1.0", "Conv2d", 28, 28),
        ("s2", "AvgPool2d", 28, 14),
        ("c3.0", "Conv2d", 14, 10),
        ("s4", "AvgPool2d", 10, 5),
        ("c5.0", "Conv2d", 5, 1),
    ]
    assert layers[2].geometry == Geometry(5, 1, 0, 1, size=14)
    assert layers[0].describe() == ("c1.0 (Conv2d): 28×28 in, 5×5 kernel, stride 1, padding 2, dilation 1 → 28×28 out")


def test_resnet18_shortcuts_and_strides():
    layers = {x.name: x for x in layer_sizes.model_layers(checkpoint.load(SHIPPED / "resnet18.safetensors").model)}
    shortcut = layers["layer3.0.shortcut.0"]
    assert (shortcut.kernel, shortcut.stride, shortcut.input, shortcut.output) == ((1, 1), (2, 2), (14, 14), (7, 7))
    assert layers["layer4.0.conv1"].geometry == Geometry(3, 2, 1, 1, size=7)
    assert layers["layer4.0.conv1"].output == (4, 4)


def test_a_layer_the_square_explorer_cannot_show():
    model = nn.Sequential(nn.Conv2d(1, 2, (3, 5), padding=1), nn.MaxPool2d(2, ceil_mode=True), nn.Flatten())
    first, pool = layer_sizes.model_layers(model)
    assert first.geometry is None and first.output == (28, 26)
    assert pool.geometry is None and pool.ceil_mode and pool.output == (14, 13)


def test_an_mlp_has_none():
    assert layer_sizes.model_layers(checkpoint.load(SHIPPED / "mlp.safetensors").model) == []
