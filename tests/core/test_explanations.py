"""Explanations: where the evidence is, class-discriminative maps, the weight-randomisation sanity check, and a
shared model left exactly as it was."""

import threading

import numpy as np
import pytest
import torch
from torch import nn

from core.analysis import explanations
from core.base.errors import StudioError
from core.data.classes import MEAN, STD
from core.io import checkpoint
from core.models import build

ROWS, COLS = slice(4, 16), slice(12, 24)  # the 12x12 patch the patch models look at


class PatchNet(nn.Module):
    """A CNN whose logits depend only on the patch ROWS x COLS of the input."""

    def __init__(self, pooled: bool):
        super().__init__()
        mask = torch.zeros(1, 1, 28, 28)
        mask[..., ROWS, COLS] = 1
        self.register_buffer("mask", mask)
        if pooled:  # 3x3 conv, 2x2 pool, 3x3 conv: Grad-CAM reads an 11x11 grid that must be placed right
            self.conv1 = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.ReLU())
            self.pool = nn.MaxPool2d(2)
            self.conv2 = nn.Sequential(nn.Conv2d(4, 6, 3, bias=False), nn.ReLU())
        else:
            self.conv1 = nn.Sequential(nn.Conv2d(1, 6, 1, bias=False), nn.ReLU())
            self.pool = self.conv2 = nn.Identity()
        self.head = nn.Linear(6, 10)
        torch.manual_seed(0)
        for conv in self.modules():
            if isinstance(conv, nn.Conv2d):
                nn.init.uniform_(conv.weight, 0.05, 0.5)  # positive: a bright patch raises every feature

    def forward(self, x):
        x = (x * STD + MEAN) * self.mask  # back to [0, 1]; nothing outside the patch counts
        return self.head(self.conv2(self.pool(self.conv1(x))).sum((2, 3)))


def mass_in_patch(heat: np.ndarray) -> float:
    h = np.abs(heat)
    return float(h[ROWS, COLS].sum() / h.sum())


@pytest.fixture(scope="module")
def shipped():
    return checkpoint.load(checkpoint.Path("checkpoints/simple_cnn.safetensors")).model


@pytest.mark.parametrize("pooled", [False, True])
def test_patch_model_maps_sit_in_the_patch(fmnist, pooled):
    model = PatchNet(pooled).eval()
    for index in range(5):
        image = fmnist.test_images[index]
        for method in ("gradcam", "saliency"):
            e = explanations.explain(model, image, method)
            assert e.heatmap.shape == (28, 28)
            share = mass_in_patch(e.heatmap)
            if method == "saliency" or not pooled:
                assert share > 0.999, (method, index, share)  # gradients outside the patch are exactly zero
            else:
                assert share > 0.5, (method, index, share)  # the 11x11 grid, placed on its pixels
                peak = np.unravel_index(np.argmax(e.heatmap), e.heatmap.shape)
                assert ROWS.start - 2 <= peak[0] < ROWS.stop + 2 and COLS.start - 2 <= peak[1] < COLS.stop + 2


def test_grid_alignment_of_the_shipped_architectures(shipped):
    assert explanations.gradcam_layers(shipped) == ["conv1", "conv2"]
    assert explanations.layer_grid(shipped, "conv2") == (6.5, 2.0)  # 5x5 valid conv, pool 2, 5x5 valid conv
    assert explanations.layer_grid(build("two_conv"), "conv2") == (0.5, 2.0)
    resnet = build("resnet18")
    assert explanations.layer_grid(resnet, "layer4.1") == (0.0, 8.0)
    assert explanations.check_layer(build("lenet5"), None) == "c3"  # c5 is 1x1: no map to show
    cells = np.zeros((8, 8), np.float32)
    cells[0, 0] = 1
    up = explanations.upsample(cells, 6.5, 2.0)  # cell 0 is centred on pixel 6.5, the next on 8.5
    assert up[6, 6] == up[7, 7] == 0.75**2 and up[6, 8] == 0.75 * 0.25 and up[6, 9] == 0
    assert up[5, 6] == 0.25 * 0.75 and up[:5].max() == 0 and up[:, :5].max() == 0  # fades out one step past it
    flat = explanations.upsample(np.ones((8, 8), np.float32), 6.5, 2.0)
    assert np.allclose(flat[7:21, 7:21], 1) and flat[6, 10] == flat[21, 10] == 0.75
    assert flat[4, 10] == flat[23, 10] == 0


def test_grad_cam_leaves_the_black_border_dark(shipped, fmnist):
    """The outermost cells are not smeared to the image's edge: where the picture is black along its border,
    the map is (near) zero, on every image tried."""
    ring = np.zeros((28, 28), bool)
    ring[:3], ring[-3:], ring[:, :3], ring[:, -3:] = True, True, True, True
    worst = []
    for index in range(20):
        image = fmnist.test_images[index].numpy()
        e = explanations.explain(shipped, image, "gradcam")
        black = ring & (image == 0)
        assert black.sum() > 100, index
        worst.append(float(e.heatmap[black].max() / max(e.heatmap.max(), 1e-12)))
    assert max(worst) <= 0.05, worst


def test_signed_where_the_method_is(shipped, fmnist):
    found = explanations.explain_all(shipped, fmnist.test_images[0])
    assert list(found) == list(explanations.METHODS)
    assert found["gradcam"].heatmap.min() >= 0 and found["gradcam"].layer == "conv2"
    for method in ("saliency", "integrated_gradients", "occlusion"):
        assert found[method].heatmap.min() < 0 < found[method].heatmap.max(), method
    e = found["integrated_gradients"]
    assert e.input.dtype == np.float32 and e.input.max() <= 1 and e.input.min() >= 0
    assert np.allclose(e.input, fmnist.test_images[0].numpy() / 255.0, atol=1e-6)


def test_integrated_gradients_add_up_to_the_score_difference(shipped, fmnist):
    image = fmnist.test_images[7]
    e = explanations.explain(shipped, image, "integrated_gradients")
    with torch.no_grad():
        forward = explanations._FromPixels(shipped)
        x = image.float().div(255).reshape(1, 1, 28, 28)
        gap = (forward(x) - forward(torch.zeros_like(x)))[0, e.target].item()
    assert e.heatmap.sum() == pytest.approx(gap, rel=0.1, abs=0.05)  # completeness, up to the step count


def test_grad_cam_is_class_discriminative(shipped, fmnist):
    shirts = (fmnist.test_labels == 6).nonzero().flatten()[:10].tolist()
    correlations = []
    for index in shirts:
        first = explanations.explain(shipped, fmnist.test_images[index], "gradcam", "Shirt").heatmap
        other = explanations.explain(shipped, fmnist.test_images[index], "gradcam", "Trouser").heatmap
        assert not np.allclose(first, other)
        if first.std() > 0 and other.std() > 0:
            correlations.append(np.corrcoef(first.ravel(), other.ravel())[0, 1])
    assert np.mean(correlations) < 0.6, correlations


def test_randomised_weights_change_saliency(shipped, fmnist):
    """Adebayo et al. (2018): a map that survives re-initialising the weights explains nothing about them."""
    from scipy.stats import spearmanr

    meta = checkpoint.read_metadata("checkpoints/simple_cnn.safetensors")
    torch.manual_seed(0)
    random = build("simple_cnn", meta["arch_settings"]).eval()
    rhos = []
    for index in range(10):
        image = fmnist.test_images[index]
        trained = explanations.explain(shipped, image, "saliency").heatmap
        again = explanations.explain(shipped, image, "saliency").heatmap
        assert np.array_equal(trained, again)  # deterministic
        target = explanations.explain(shipped, image, "saliency").target
        fresh = explanations.explain(random, image, "saliency", target).heatmap
        rhos.append(spearmanr(np.abs(trained).ravel(), np.abs(fresh).ravel()).statistic)
    assert np.mean(rhos) < 0.5, rhos


def test_shared_model_is_left_as_it_was(fmnist):
    model = build("simple_cnn").eval()
    model.conv1[0].weight.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for method in explanations.METHODS:
        explanations.explain(model, fmnist.test_images[0], method)
    assert not model.training
    assert [p.requires_grad for p in model.parameters()][:2] == [False, True]
    assert all(p.grad is None for p in model.parameters())
    assert all(not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_two_explanations_at_once_do_not_mix(shipped, fmnist):
    images = [fmnist.test_images[i] for i in (0, 1)]
    alone = [explanations.explain(shipped, im, "gradcam").heatmap for im in images]
    together = [[], []]

    def work(slot):
        for _ in range(5):
            together[slot].append(explanations.explain(shipped, images[slot], "gradcam").heatmap)

    threads = [threading.Thread(target=work, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for slot in (0, 1):
        assert all(np.allclose(h, alone[slot], atol=1e-6) for h in together[slot])


def test_bad_requests_are_one_line(fmnist):
    image = fmnist.test_images[0]
    with pytest.raises(
        StudioError,
        match=r"^Grad-CAM needs a convolution layer and MLP has none; use saliency, "
        r"integrated_gradients or occlusion\.$",
    ):
        explanations.explain(build("mlp"), image, "gradcam")
    with pytest.raises(StudioError, match=r"^unknown layer 'conv9'; Grad-CAM layers of this model: conv1, conv2\.$"):
        explanations.explain(build("simple_cnn"), image, "gradcam", layer="conv9")
    with pytest.raises(StudioError, match=r"^unknown class 'Shrt'; use a number 0-9 or one of: T-shirt/top, "):
        explanations.explain(build("simple_cnn"), image, "saliency", target="Shrt")
    with pytest.raises(StudioError, match=r"^unknown method 'lime'"):
        explanations.explain(build("simple_cnn"), image, "lime")
    assert explanations.class_index("shirt") == explanations.class_index("6") == explanations.class_index(6) == 6
    assert explanations.explain(build("mlp"), image, "saliency").heatmap.shape == (28, 28)


def test_a_model_changed_in_place_is_explained_with_its_new_weights(fmnist):
    model = build("simple_cnn").eval()
    image = fmnist.test_images[0]
    before = explanations.explain(model, image, "saliency", "Shirt").heatmap  # leaves a reusable private copy
    with torch.no_grad():
        model.conv1[0].weight.mul_(-2)
    after = explanations.explain(model, image, "saliency", "Shirt").heatmap
    fresh = explanations.explain(build("simple_cnn").eval().requires_grad_(False), image, "saliency", "Shirt")
    assert not np.allclose(before, after)
    clone = build("simple_cnn").eval()
    clone.load_state_dict(model.state_dict())
    assert np.allclose(after, explanations.explain(clone, image, "saliency", "Shirt").heatmap, atol=1e-6)
    assert fresh.heatmap.shape == (28, 28)
