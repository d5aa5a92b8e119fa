"""A convolution worked out by hand: equal to the model's own numbers on every shipped CNN, the real layer's
stride, padding, dilation and groups, batch norm and shortcuts shown as steps, one-line errors, the command line."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.analysis import conv_by_hand
from core.base.errors import StudioError
from core.conv import main as conv_main
from core.data.dataset import normalize
from core.io import checkpoint, preprocess
from core.models import build, conv_layers, network_of

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "checkpoints").glob("*.safetensors"))


def cells(height: int, width: int) -> list[tuple[int, int]]:
    """Corners (where the padding is), the centre and one off-centre cell."""
    return sorted(
        {(0, 0), (height - 1, width - 1), (0, width - 1), (height // 2, width // 2), (height // 3, 1 % width)}
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_by_hand_equals_the_model_on_every_convolution(path, fmnist):
    model = checkpoint.load(path).model
    layers = conv_layers(model)
    if not layers:
        pytest.skip(f"{path.stem} has no convolution")
    worst = 0.0
    for layer in layers:
        channels = network_of(model).get_submodule(layer)
        first = conv_by_hand.compute(model, fmnist.test_images[0], layer, 0, 0, 0)
        for i, (row, col) in enumerate(cells(*first.output_shape)):
            channel = (7 * i + 3) % channels.out_channels
            r = conv_by_hand.compute(model, fmnist.test_images[i], layer, channel, row, col)
            assert abs(r.conv - r.model_conv) <= 1e-4, (layer, channel, row, col, r.conv, r.model_conv)
            assert abs(r.activation - r.model_activation) <= 1e-4, (layer, channel, row, col)
            assert r.sum == pytest.approx(float(r.products.sum()), abs=1e-9)
            assert r.steps and r.steps[-1].name in ("ReLU", "Tanh") and not r.stop  # each reaches its activation
            assert r.steps[-1].after == (max(0.0, r.steps[-1].before) if r.steps[-1].name == "ReLU" else r.activation)
            worst = max(worst, r.error)
    assert worst <= 1e-4


def test_batch_norm_and_the_shortcut_are_steps():
    resnet = build("resnet18").eval()
    with torch.no_grad():  # batch norm statistics that are not the identity
        for m in resnet.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5), m.running_var.uniform_(0.5, 2), m.weight.uniform_(0.5, 1.5)
    image = torch.rand(28, 28)
    r = conv_by_hand.compute(resnet, image, "layer2.0.conv2", 5, 3, 4)
    assert [s.name for s in r.steps] == ["Batch norm", "Plus the shortcut", "ReLU"]
    assert [s.module for s in r.steps] == ["layer2.0.bn2", "", "layer2.0.relu"]
    assert r.error <= 1e-4 and not r.has_bias and r.bias == 0.0
    bn = resnet.layer2[0].bn2
    expected = (r.conv - float(bn.running_mean[5])) / math.sqrt(float(bn.running_var[5]) + bn.eps)
    gamma, beta = float(bn.weight.detach()[5]), float(bn.bias.detach()[5])
    assert r.steps[0].after == pytest.approx(expected * gamma + beta, abs=1e-9)
    first = conv_by_hand.compute(resnet, image, "layer2.0.conv1", 5, 3, 4)
    assert [s.module for s in first.steps] == ["layer2.0.bn1", "layer2.0.relu"]  # the same ReLU, its first call
    assert first.error <= 1e-4 and first.stride == (2, 2) and first.corner == (5, 7)


class Odd(nn.Module):
    """A convolution with every option set, reflect padding, then batch norm and a leaky ReLU."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, padding_mode="reflect")
        self.stem = nn.Conv2d(1, 4, 1)
        self.bn = nn.BatchNorm2d(6)
        self.act = nn.LeakyReLU(0.3)
        self.head = nn.Linear(6, 10)

    def forward(self, x):
        return self.head(self.act(self.bn(self.conv(self.stem(x)))).mean((2, 3)))


def test_stride_padding_dilation_and_groups_of_the_real_layer():
    torch.manual_seed(0)
    model = Odd().eval()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-1, 1)
    image = torch.rand(28, 28)
    x = model.stem(normalize(image[None]))
    padded = F.pad(x, (2, 2, 2, 2), mode="reflect")
    r = conv_by_hand.compute(model, image, "conv", 4, 5, 3)
    assert r.output_shape == (14, 14) and r.groups == 2 and r.input_channels == [2, 3]
    assert r.patch.shape == r.kernel.shape == (2, 3, 3)
    expected = padded[0, 2:4, 10:15:2, 6:11:2].detach().numpy()  # rows 5*2 + (0, 2, 4), columns 3*2 + (0, 2, 4)
    assert np.allclose(r.patch, expected, atol=1e-6)
    assert np.array_equal(r.kernel, model.conv.weight[4].detach().numpy())
    assert r.corner == (8, 4) and r.padding == (2, 2) and r.dilation == (2, 2)
    assert [s.name for s in r.steps] == ["Batch norm", "LeakyReLU"] and r.error <= 1e-5
    for row, col in ((0, 0), (13, 13), (7, 0)):
        assert conv_by_hand.compute(model, image, "conv", 1, row, col).error <= 1e-5


def test_pooling_before_the_activation_ends_at_the_convolution():
    model = build("fast_cnn").eval()
    r = conv_by_hand.compute(model, torch.rand(28, 28), "conv2.0", 3, 6, 9)
    assert r.steps == [] and r.stop.startswith("MaxPool2d comes next")
    assert r.activation == r.conv and abs(r.model_activation - r.conv) <= 1e-5


def test_bad_requests_are_one_line(fmnist):
    model, image = build("simple_cnn").eval(), fmnist.test_images[0]
    with pytest.raises(StudioError, match=r"^unknown layer 'conv1'; convolutions of this model: conv1\.0, conv2\.0\.$"):
        conv_by_hand.compute(model, image, "conv1", 0, 0, 0)
    with pytest.raises(StudioError, match=r"^conv1\.0 has 6 output channels \(0-5\), not 6\.$"):
        conv_by_hand.compute(model, image, "conv1.0", 6, 0, 0)
    with pytest.raises(StudioError, match=r"^row 24 is outside the 24×24 output of conv1\.0 \(0-23\)\.$"):
        conv_by_hand.compute(model, image, "conv1.0", 0, 24, 0)
    with pytest.raises(StudioError, match=r"^unknown layer 'fc'; convolutions of this model: none"):
        conv_by_hand.compute(build("mlp").eval(), image, "fc", 0, 0, 0)


def test_command_line(tmp_path, fmnist, capsys):
    png = tmp_path / "coat.png"
    png.write_bytes(preprocess.encode_png(fmnist.test_images[3].numpy()))
    ckpt = ROOT / "checkpoints" / "lenet5.safetensors"
    assert conv_main([str(ckpt), str(png), "--layer", "c3.0", "--channel", "2", "--at", "4,7", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert list(record) == ["patch", "kernel", "bias", "sum", "activation", "model_activation"]
    assert np.array(record["patch"]).shape == np.array(record["kernel"]).shape == (6, 5, 5)
    r = conv_by_hand.compute(
        checkpoint.load(ckpt).model, preprocess.from_bytes(png.read_bytes()).tensor, "c3.0", 2, 4, 7
    )
    assert record["sum"] == r.sum and record["bias"] == r.bias and record["activation"] == max(0.0, r.conv)
    assert abs(record["activation"] - record["model_activation"]) <= 1e-4

    assert conv_main([str(ckpt), str(png), "--layer", "c1.0", "--channel", "0", "--at", "0,0"]) == 0
    text = capsys.readouterr().out
    assert "c1.0, channel 0, output cell (0, 0) of 28×28" in text and "ReLU: max(0, " in text
    assert "top-left input pixel (-2, -2) (stride 1, padding 2, dilation 1)" in text

    assert conv_main([str(ckpt), str(png), "--layer", "c3.0", "--channel", "2", "--at", "4;7"]) == 2
    assert capsys.readouterr().err == "error: --at takes ROW,COL as two whole numbers, e.g. 3,5; got '4;7'.\n"


def test_the_shared_model_gains_no_hooks_and_threads_do_not_mix(fmnist):
    import threading

    model = checkpoint.load(ROOT / "checkpoints" / "two_conv.safetensors").model
    alone = [conv_by_hand.compute(model, fmnist.test_images[i], "conv2.0", 5, 6, 7).activation for i in (0, 1)]
    together = [[], []]

    def work(slot):
        for _ in range(4):
            together[slot].append(conv_by_hand.compute(model, fmnist.test_images[slot], "conv2.0", 5, 6, 7).activation)

    threads = [threading.Thread(target=work, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert together == [[alone[0]] * 4, [alone[1]] * 4]
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_a_map_as_one_record_per_cell():
    values = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -0.25]], np.float32)
    records = conv_by_hand.map_cells(values)
    assert records[:2] == [{"row": 0, "col": 0, "value": 0.5}, {"row": 0, "col": 1, "value": -1.0}]
    assert len(records) == 6 and records[-1] == {"row": 1, "col": 2, "value": -0.25}
    with pytest.raises(StudioError, match=r"^a map has rows and columns, not shape \(2, 2, 2\)\.$"):
        conv_by_hand.map_cells(np.zeros((2, 2, 2)))
