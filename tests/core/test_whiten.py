"""The whitened first layer: principal directions of real patches, in +/- pairs, that decorrelate the patches."""

import torch
import torch.nn.functional as F

from core.data.classes import MEAN, STD
from core.models import build
from core.training import whiten
from core.training.config import TrainConfig
from core.training.trainer import Trainer


def test_filters_whiten_the_patches_of_real_images(fmnist):
    images = fmnist.train_images[:2000]
    filters = whiten.whitening_filters(images, kernel=3, pairs=9, padding=1)
    assert filters.shape == (18, 1, 3, 3)
    assert torch.equal(filters[9:], -filters[:9])
    x = (images.float().div(255).unsqueeze(1) - MEAN) / STD
    out = F.conv2d(x, filters[:9], padding=1).transpose(0, 1).reshape(9, -1)
    cov = torch.cov(out.double()).float()
    patches = F.unfold(x, 3, padding=1).transpose(1, 2).reshape(-1, 9)
    variance = torch.linalg.eigvalsh(torch.cov(patches.T.double())).flip(0).float()
    # each direction's variance brought to 1 (less the eps share), no correlation left between them
    assert torch.allclose(cov.diagonal(), variance / (variance + whiten.EPS), atol=2e-3)
    assert cov.diagonal()[0] > 0.99
    assert (cov - torch.diag(cov.diagonal())).abs().max() < 2e-3


def test_the_first_convolution_gets_the_pairs_and_keeps_the_rest():
    images = torch.randint(0, 256, (300, 28, 28), dtype=torch.uint8)
    for width, expected in ((1, 16), (2, 18)):
        torch.manual_seed(0)
        model = build("fast_cnn", {"width": width})
        before = model.conv1[0].weight.detach().clone()
        assert whiten.init_first_conv(model, images) == expected
        after = model.conv1[0].weight
        assert not torch.equal(after[:expected], before[:expected])
        assert torch.equal(after[expected:], before[expected:])  # 32 channels: 14 keep their random start
    assert whiten.init_first_conv(build("mlp"), images) == 0  # no convolution: nothing to do
    assert whiten.first_conv(build("simple_cnn")).kernel_size == (5, 5)


def test_a_whitened_run_beats_the_same_run_from_random_filters(fmnist):
    """One short epoch on 3,000 images: the whitened start is ahead (the lever measured in bench/RESULTS.md)."""
    settings = dict(
        arch="fast_cnn", limit=3000, epochs=1, batch_size=128, lr=1e-2, optimizer="adamw", schedule="onecycle",
        val_fraction=0.0, device="cpu", seed=0,
    )  # fmt: skip
    plain = Trainer(TrainConfig(**settings), fmnist, tensorboard=False).run()
    whitened = Trainer(TrainConfig(whiten=True, **settings), fmnist, tensorboard=False).run()
    assert whitened.test_accuracy > 0.70
    assert whitened.test_accuracy > plain.test_accuracy
