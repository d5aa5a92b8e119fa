"""Test-time flip is a wrapper that says it: FlipAveraged around the unchanged network. Checkpoints hold the
network's own weights, and the views of its layers see the network as before."""

import torch
from safetensors.torch import load_file

from core.analysis import explanations, feature_maps, inference
from core.io import checkpoint
from core.models import FlipAveraged, build, conv_layers, feature_layers, network_of, uses_flip_averaging

SHIPPED_FLIP = "checkpoints/simple_cnn.safetensors"  # trained with flips; predicts with test-time flip


def test_the_shipped_flip_model_is_wrapped_and_its_network_holds_the_file_weights():
    loaded = checkpoint.load(SHIPPED_FLIP)
    assert isinstance(loaded.model, FlipAveraged) and uses_flip_averaging(loaded.model)
    assert not loaded.model.training and not loaded.model.network.training
    saved = load_file(SHIPPED_FLIP)
    state = network_of(loaded.model).state_dict()
    assert sorted(state) == sorted(saved)
    for key, value in saved.items():
        assert torch.equal(state[key].to(value.dtype).cpu(), value), key
    assert not uses_flip_averaging(checkpoint.load("checkpoints/mlp.safetensors").model)


def test_saving_a_wrapped_model_writes_the_network_and_loads_back_the_same(tmp_path):
    loaded = checkpoint.load(SHIPPED_FLIP)
    path = checkpoint.save(tmp_path / "again.safetensors", loaded.model, loaded.arch, loaded.settings, loaded.metadata)
    assert sorted(load_file(path)) == sorted(load_file(SHIPPED_FLIP))  # no "network." prefix
    again = checkpoint.load(path)
    assert isinstance(again.model, FlipAveraged)
    images = torch.randint(0, 256, (6, 28, 28), dtype=torch.uint8)
    assert torch.equal(inference.logits(again.model, images), inference.logits(loaded.model, images))


def test_the_wrapper_averages_the_logits_of_the_image_and_its_mirror():
    torch.manual_seed(0)
    network = build("simple_cnn").eval()
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        expected = (network(x) + network(x.flip(-1))) / 2
        assert torch.allclose(FlipAveraged(network)(x), expected, atol=1e-6)
    assert FlipAveraged(network.train()).training  # it follows the network's mode


def test_views_of_the_layers_see_the_network_itself(fmnist):
    loaded = checkpoint.load(SHIPPED_FLIP)
    network = network_of(loaded.model)
    assert conv_layers(loaded.model) == conv_layers(network) == ["conv1.0", "conv2.0"]
    assert feature_layers(loaded.model) == ["conv1.0", "pool1", "conv2.0", "pool2"]
    assert explanations.gradcam_layers(loaded.model) == ["conv1", "conv2"]
    image = fmnist.test_images[0]
    maps = feature_maps.compute(loaded.model, image)
    assert [layer.name for layer in maps.layers] == ["conv1.0", "pool1", "conv2.0", "pool2"]
    single_pass = torch.softmax(inference.logits(network, image[None]), 1)[0]  # one pass, no mirror image
    assert torch.allclose(torch.from_numpy(maps.probabilities), single_pass, atol=1e-5)
