"""Every architecture: output shape, documented parameter count, feature layers, settings validation."""

import pytest
import torch

from core.base.errors import StudioError
from core.models import REGISTRY, build, conv_layers, count_parameters, feature_layers, get

# Parameter counts at the default settings (also listed in README.md).
EXPECTED_PARAMETERS = {
    "linear": 7_850,
    "mlp": 235_146,
    "simple_cnn": 44_426,
    "two_conv": 50_282,
    "lenet5": 61_706,
    "resnet18": 701_178,
    "fast_cnn": 29_178,
}


@pytest.mark.parametrize("arch", list(REGISTRY))
def test_output_shape_and_parameter_count(arch):
    model = build(arch).eval()
    assert model(torch.zeros(7, 1, 28, 28)).shape == (7, 10)
    assert count_parameters(model) == EXPECTED_PARAMETERS[arch]
    assert get(arch).parameter_count() == EXPECTED_PARAMETERS[arch]
    assert get(arch).display_name and len(get(arch).description) > 80


def test_full_width_resnet18_has_resnet18_size():
    assert count_parameters(build("resnet18", {"width": 1.0})) == 11_172_810


def test_width_scales_channels():
    assert count_parameters(build("simple_cnn", {"width": 2})) > EXPECTED_PARAMETERS["simple_cnn"]
    assert build("simple_cnn", {"width": 2}).conv1[0].out_channels == 12


def test_feature_layers_in_forward_order():
    assert conv_layers(build("simple_cnn")) == ["conv1.0", "conv2.0"]
    assert feature_layers(build("simple_cnn")) == ["conv1.0", "pool1", "conv2.0", "pool2"]
    assert feature_layers(build("lenet5")) == ["c1.0", "s2", "c3.0", "s4", "c5.0"]
    assert feature_layers(build("mlp")) == []
    assert len(conv_layers(build("resnet18"))) == 17  # stem + 16 in the residual blocks


@pytest.mark.parametrize(
    "arch,settings,message",
    [
        ("mlp", {"width": 2}, "mlp has no setting 'width' (its settings: batch_norm, dropout, hidden)."),
        ("simple_cnn", {"width": 1.5}, "simple_cnn: width must be a whole number (1, 2, 4, ...), got 1.5."),
        ("mlp", {"dropout": 1.0}, "mlp: dropout must be in [0, 1), got 1.0."),
        ("lenet5", {"activation": "gelu"}, "lenet5: activation must be one of tanh, relu, got 'gelu'."),
        (
            "nope",
            {},
            "unknown architecture 'nope'; choose one of: linear, mlp, simple_cnn, two_conv, lenet5, resnet18, fast_cnn.",
        ),
    ],
)
def test_bad_settings_have_clear_messages(arch, settings, message):
    with pytest.raises(StudioError) as e:
        build(arch, settings)
    assert str(e.value) == message
