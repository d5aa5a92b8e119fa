"""Grad-CAM's map sizes: found by one dry run per private copy, remembered beside the copy, never stored on it."""

import gc

from core.analysis import explanations
from core.models import build


def _forward_counter(model):
    calls = []
    model.register_forward_pre_hook(lambda module, inputs: calls.append(1))
    return calls


def test_map_sizes_are_remembered_per_copy_without_touching_the_module():
    shared = build("lenet5").eval()
    shared_attributes = set(vars(shared))
    names = explanations.gradcam_layers(shared)
    with explanations.borrowed_copy(shared) as twin:
        attributes = set(vars(twin))
        calls = _forward_counter(twin)
        assert explanations.map_sizes(twin, names) == {"c1": 28, "c3": 10, "c5": 1}
        assert explanations.map_sizes(twin, names) == {"c1": 28, "c3": 10, "c5": 1}
        assert len(calls) == 1  # the second answer comes without a dry run
        assert set(vars(twin)) == attributes
        assert all(not hasattr(m, "_studio_map_sizes") for m in twin.modules())
    assert set(vars(shared)) == shared_attributes
    assert explanations.check_layer(shared, None) == "c3"  # c5 is 1x1: no map to show


def test_a_copy_that_goes_takes_its_sizes_with_it():
    twin = explanations.private_copy(build("simple_cnn"))
    assert explanations.map_sizes(twin, ["conv1", "conv2"]) == {"conv1": 24, "conv2": 8}
    before = len(explanations._known_map_sizes)
    del twin
    gc.collect()
    assert len(explanations._known_map_sizes) == before - 1
