"""The genuine dataset: counts, class balance, the stratified split and normalisation."""

import torch

from core.data.dataset import normalize, stratified_split


def test_counts_and_balance(fmnist):
    assert fmnist.train_images.shape == (60000, 28, 28)
    assert fmnist.test_images.shape == (10000, 28, 28)
    assert fmnist.train_images.dtype == torch.uint8
    assert torch.bincount(fmnist.train_labels).tolist() == [6000] * 10
    assert torch.bincount(fmnist.test_labels).tolist() == [1000] * 10
    assert fmnist.train_labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert fmnist.test_labels[0].item() == 9


def test_split_is_stratified_disjoint_and_reproducible(fmnist):
    train, val = stratified_split(fmnist.train_labels, 0.1, seed=3)
    assert len(train) == 54000 and len(val) == 6000
    assert torch.bincount(fmnist.train_labels[val]).tolist() == [600] * 10
    assert len(set(train.tolist()) & set(val.tolist())) == 0
    train2, val2 = stratified_split(fmnist.train_labels, 0.1, seed=3)
    assert torch.equal(val, val2) and torch.equal(train, train2)
    _, val_other = stratified_split(fmnist.train_labels, 0.1, seed=4)
    assert not torch.equal(val, val_other)


def test_split_fraction_is_settable(fmnist):
    train, val = stratified_split(fmnist.train_labels, 0.25, seed=0)
    assert (len(train), len(val)) == (45000, 15000)
    assert torch.bincount(fmnist.train_labels[val]).tolist() == [1500] * 10


def test_normalised_train_set_has_zero_mean_unit_std(fmnist):
    x = normalize(fmnist.train_images[:20000])
    assert x.shape == (20000, 1, 28, 28)
    assert abs(x.mean().item()) < 0.01
    assert abs(x.std().item() - 1) < 0.01
