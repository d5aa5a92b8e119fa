"""Hyperparameters are validated before anything starts, each with its own message."""

import pytest

from core.base.errors import StudioError
from core.training.config import TrainConfig


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"lr": 0}, "learning rate must be > 0, got 0."),
        ({"lr": float("nan")}, "learning rate must be > 0, got nan."),
        ({"lr": 50.0}, "learning rate 50.0 is too large (at most 10)."),
        ({"batch_size": 0}, "batch size must be a whole number >= 1, got 0."),
        ({"epochs": 0}, "epochs must be a whole number >= 1, got 0."),
        (
            {"arch": "vgg"},
            "unknown architecture 'vgg'; choose one of: linear, mlp, simple_cnn, two_conv, lenet5, resnet18, fast_cnn.",
        ),
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'; choose one of: sgd, nesterov, adam, adamw."),
        ({"schedule": "step"}, "unknown schedule 'step'; choose one of: none, cosine, onecycle."),
        ({"val_fraction": 0.9}, "validation fraction must be in [0, 0.5], got 0.9."),
        ({"label_smoothing": 1.0}, "label smoothing must be in [0, 1), got 1.0."),
        ({"weight_decay": -1.0}, "weight decay must be >= 0, got -1.0."),
        ({"patience": -2}, "patience must be a whole number >= 0, got -2."),
        ({"device": "tpu"}, "unknown device 'tpu'; choose one of: auto, cpu, cuda, mps."),
        ({"limit": 5}, "limit must be a whole number >= 20, got 5."),
        ({"augment_shift": 9}, "augment shift must be a whole number of pixels in 0-4, got 9."),
    ],
)
def test_each_bad_value_has_its_message(changes, message):
    with pytest.raises(StudioError) as e:
        TrainConfig(**changes).validate()
    assert str(e.value) == message


def test_round_trip_through_dict():
    cfg = TrainConfig(arch="mlp", arch_settings={"hidden": (64, 32)}, lr=0.01).validate()
    again = TrainConfig.from_dict(cfg.to_dict()).validate()
    assert again.arch_settings["hidden"] == [64, 32] or tuple(again.arch_settings["hidden"]) == (64, 32)
    assert again.lr == 0.01 and again.arch == "mlp"


def test_the_command_line_refuses_a_width_the_checkpoint_reader_would_refuse():
    # a training must not run for minutes and then write a checkpoint that no entry point can load
    with pytest.raises(StudioError, match=r"^simple_cnn: width 16 is too large \(at most 8\)\.$"):
        TrainConfig(arch="simple_cnn", arch_settings={"width": 16}).validate()
    with pytest.raises(StudioError, match=r"^mlp: hidden sizes \[8192\] is too large \(at most 4096 each\)\.$"):
        TrainConfig(arch="mlp", arch_settings={"hidden": [8192]}).validate()
