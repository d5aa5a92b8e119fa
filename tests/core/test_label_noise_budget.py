"""Label noise and data budgets on small generated data: exact counts, seeds, and what is never touched."""

import numpy as np
import pytest
import torch

from core.base.errors import StudioError
from core.data import budget, label_noise
from core.data.classes import CLASS_NAMES
from core.data.dataset import FashionMNIST, stratified_split
from core.training import training_set
from core.training.config import TrainConfig

TSHIRT, TROUSER, PULLOVER, DRESS, COAT, SANDAL, SHIRT, SNEAKER, BAG, BOOT = range(10)


def labels_of(per_class: int = 100) -> torch.Tensor:
    return torch.arange(10).repeat_interleave(per_class)[torch.randperm(10 * per_class, generator=torch.Generator())]


@pytest.mark.parametrize("fraction, expected", [(0.2, 200), (0.05, 50), (0.9, 900), (0.0, 0), (0.0004, 0)])
def test_exactly_that_fraction_of_labels_changes_each_to_another_class(fraction, expected):
    labels = labels_of()
    noisy, flipped = label_noise.flip_labels(labels, fraction, "uniform", seed=3)
    changed = (noisy != labels).nonzero().flatten()
    assert len(flipped) == expected
    assert torch.equal(changed, flipped)  # every recorded position changed, and nothing else did
    assert torch.equal(flipped, flipped.unique())  # sorted, no repeats
    assert noisy.dtype == torch.int64 and labels.equal(labels_of())  # the input itself is untouched


def test_the_same_seed_flips_the_same_labels_the_same_way_and_another_seed_does_not():
    labels = labels_of()
    first = label_noise.flip_labels(labels, 0.3, "uniform", seed=7)
    again = label_noise.flip_labels(labels, 0.3, "uniform", seed=7)
    other = label_noise.flip_labels(labels, 0.3, "uniform", seed=8)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[1], other[1])


def test_uniform_noise_reaches_every_other_class_about_equally():
    labels = torch.full((9000,), SHIRT)
    noisy, flipped = label_noise.flip_labels(labels, 1.0, "uniform", seed=0)
    counts = torch.bincount(noisy, minlength=10)
    assert counts[SHIRT] == 0
    others = counts[[c for c in range(10) if c != SHIRT]]
    assert others.sum() == 9000 and others.min() > 850 and others.max() < 1150  # 1000 each, give or take


def test_confusable_noise_stays_within_the_look_alike_groups():
    labels = labels_of(300)
    noisy, flipped = label_noise.flip_labels(labels, 0.9, "confusable", seed=1)
    tops, shoes = {TSHIRT, PULLOVER, COAT, SHIRT}, {SANDAL, SNEAKER, BOOT}
    pairs = set(zip(labels[flipped].tolist(), noisy[flipped].tolist()))
    for old, new in pairs:
        assert old != new
        if old in tops:
            assert new in tops
        elif old in shoes:
            assert new in shoes
    # Trouser, Dress and Bag belong to no group: they flip uniformly, to tops and shoes alike
    assert {new for old, new in pairs if old == TROUSER} == set(range(10)) - {TROUSER}
    assert {new for old, new in pairs if old == SHIRT} == tops - {SHIRT}


def test_noise_on_a_subset_of_classes_never_leaves_the_subset():
    labels = torch.tensor([SHIRT, TSHIRT, TROUSER] * 200)
    for kind in label_noise.KINDS:
        noisy, flipped = label_noise.flip_labels(labels, 0.5, kind, seed=2, classes=[SHIRT, TSHIRT, TROUSER])
        assert len(flipped) == 300
        assert set(noisy.tolist()) == {SHIRT, TSHIRT, TROUSER}
    # confusable with only Shirt and T-shirt/top of the tops: they swap with each other
    noisy, flipped = label_noise.flip_labels(labels, 0.5, "confusable", seed=2, classes=[SHIRT, TSHIRT, TROUSER])
    swapped = labels[flipped] != TROUSER
    assert torch.equal(noisy[flipped][swapped], SHIRT + TSHIRT - labels[flipped][swapped])


def test_bad_noise_requests_are_one_line_errors():
    with pytest.raises(StudioError, match=r"^unknown label noise kind 'random'; choose one of: uniform, confusable\.$"):
        label_noise.flip_labels(labels_of(), 0.1, "random")
    with pytest.raises(StudioError, match="at least two classes"):
        label_noise.flip_labels(torch.full((10,), BAG), 0.5, classes=[BAG])


def test_at_most_n_per_class_keeps_exactly_n_of_each_and_all_of_a_smaller_class():
    labels = torch.cat([labels_of(50), torch.full((7,), BAG)])  # 57 bags, 50 of everything else
    kept = budget.at_most_per_class(labels, 20, seed=0)
    assert torch.equal(torch.bincount(labels[kept], minlength=10), torch.full((10,), 20))
    assert torch.equal(kept, kept.unique())
    assert torch.equal(
        torch.bincount(labels[budget.at_most_per_class(labels, 55)], minlength=10)[BAG], torch.tensor(55)
    )
    assert len(budget.at_most_per_class(labels, 60)) == len(labels)
    assert torch.equal(kept, budget.at_most_per_class(labels, 20, seed=0))
    assert not torch.equal(kept, budget.at_most_per_class(labels, 20, seed=1))


def test_classes_are_named_as_the_dataset_names_them():
    assert budget.class_numbers(["Shirt", " T-shirt/top", "Shirt", 9]) == [TSHIRT, SHIRT, BOOT]
    with pytest.raises(StudioError, match=r"^unknown class 'Hat'; choose from: T-shirt/top, Trouser"):
        budget.class_numbers(["Hat"])
    labels = torch.tensor([0, 6, 1, 6, 9, 0])
    assert budget.of_classes(labels, [0, 6]).tolist() == [0, 1, 3, 5]


def small_dataset() -> FashionMNIST:
    generator = torch.Generator().manual_seed(0)
    train_labels, test_labels = labels_of(100), torch.arange(10).repeat_interleave(20)
    images = torch.randint(0, 256, (1000, 28, 28), dtype=torch.uint8, generator=generator)
    test_images = torch.randint(0, 256, (200, 28, 28), dtype=torch.uint8, generator=generator)
    return FashionMNIST(images, train_labels, test_images, test_labels, "generated")


def config(**changes) -> TrainConfig:
    return TrainConfig(arch="fast_cnn", **changes).validate()


def test_the_default_training_set_is_the_plain_stratified_split():
    data = small_dataset()
    chosen = training_set.choose(data, config(val_fraction=0.2, limit=500))
    train, val = stratified_split(data.train_labels[:500], 0.2, 0)
    assert torch.equal(chosen.train, train) and torch.equal(chosen.val, val)
    assert torch.equal(chosen.train_labels, data.train_labels[train])
    assert not chosen.changed and chosen.test_data(data) is data


def test_noise_and_budgets_touch_only_the_training_labels(tmp_path):
    data = small_dataset()
    before = (data.train_labels.clone(), data.test_labels.clone())
    cfg = config(val_fraction=0.2, per_class=30, label_noise=0.4, classes=["Shirt", "Coat", "Bag"], seed=5)
    chosen = training_set.choose(data, cfg)
    assert len(chosen.train) == 90 and len(chosen.flipped) == 36  # 3 classes x 30; 40% of them
    assert torch.equal(
        torch.bincount(data.train_labels[chosen.train], minlength=10)[[COAT, SHIRT, BAG]], torch.tensor([30] * 3)
    )
    # validation: the chosen classes' 20%, with their own labels, never budgeted
    assert len(chosen.val) == 60 and set(data.train_labels[chosen.val].tolist()) == {COAT, SHIRT, BAG}
    assert not set(chosen.val.tolist()) & set(chosen.train.tolist())
    assert set(chosen.train_labels.tolist()) <= {COAT, SHIRT, BAG}
    changed = chosen.train[chosen.train_labels != data.train_labels[chosen.train]]
    assert torch.equal(changed.sort().values, chosen.flipped.sort().values)
    test = chosen.test_data(data)
    assert len(test.test_labels) == 60 and set(test.test_labels.tolist()) == {COAT, SHIRT, BAG}
    assert training_set.test_count(data, cfg) == 60 and training_set.test_count(data, config()) == 200
    assert torch.equal(data.train_labels, before[0]) and torch.equal(data.test_labels, before[1])
    again = training_set.choose(data, cfg)
    assert torch.equal(again.train_labels, chosen.train_labels) and torch.equal(again.flipped, chosen.flipped)

    chosen.record(tmp_path, data.train_labels)
    summary = training_set.read_summary(tmp_path)
    assert summary["flipped_labels"] == 36 and summary["flipped_fraction"] == 0.4
    assert summary["classes"] == ["Coat", "Shirt", "Bag"] and summary["per_class"] == 30
    assert sum(summary["trained_labels_per_class"].values()) == 90
    with np.load(tmp_path / training_set.ARRAYS_FILE) as z:
        assert z["flipped"].tolist() == chosen.flipped.tolist()
        assert z["flipped_given"].tolist() == data.train_labels[chosen.flipped].tolist()
        assert z["train_labels"].tolist() == chosen.train_labels.tolist()


def test_a_clean_run_records_nothing(tmp_path):
    data = small_dataset()
    training_set.choose(data, config()).record(tmp_path, data.train_labels)
    assert list(tmp_path.iterdir()) == [] and training_set.read_summary(tmp_path) is None


def test_nothing_left_to_train_on_is_a_clear_error():
    data = small_dataset()
    data.train_labels = torch.arange(10).repeat_interleave(100)  # the first 20 images are all T-shirts
    with pytest.raises(StudioError, match="^no training images are left"):
        training_set.choose(data, config(limit=20, classes=[CLASS_NAMES[BAG], CLASS_NAMES[SANDAL]], val_fraction=0))


def test_label_noise_is_swept_as_one_experiment_and_compare_shows_it_as_the_difference():
    from core.cli import sweep
    from core.library import compare

    _, experiment, configs = sweep.plan(["--label-noise", "0,0.2,0.4", "--epochs", "1"])[:3]
    assert experiment.swept == {"label_noise": [0.0, 0.2, 0.4]}
    assert [c.label_noise for c in configs] == [0.0, 0.2, 0.4]
    assert compare.differing([c.to_dict() for c in configs]) == ["label_noise"]
    _, experiment, configs = sweep.plan(["--drop-suspects", "0,500"])[:3]
    assert [c.drop_suspects for c in configs] == [0, 500]
    assert compare.differing([c.to_dict() for c in configs]) == ["drop_suspects"]
