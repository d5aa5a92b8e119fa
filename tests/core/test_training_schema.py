"""TrainConfig is the one schema of a training: its records give the command line's flags, the sweepable
settings, the recipe checks and validate(); the data settings are validated, flagged and saved."""

import argparse

import pytest

from core.base.errors import StudioError
from core.cli.train import config_from_args, parser
from core.data.classes import CLASS_NAMES
from core.training import sweeps
from core.training.config import SETTINGS, TrainConfig
from core.training.recipes import Recipe, preset_config

# The flags README.md lists for `python -m core.train --help`.
README_FLAGS = (
    "--arch --width --hidden --dropout --batch-norm --activation --epochs --batch-size --lr --optimizer --momentum "
    "--weight-decay --schedule --label-smoothing --augment --augment-shift --ema --test-time-flip --val-fraction "
    "--patience --seed --device --no-amp --half-checkpoint --data-dir --out --name --limit --resume --json --preset"
).split()


def _flags() -> dict[str, argparse.Action]:
    return {flag: action for action in parser()._actions for flag in action.option_strings}


def _config(*argv) -> TrainConfig:
    return config_from_args(parser().parse_args(list(argv)))


def test_every_field_has_a_record_with_help_text():
    assert list(SETTINGS) == [f for f in TrainConfig.__dataclass_fields__]
    for name, record in SETTINGS.items():
        assert record.name == name and record.help and not record.help.endswith("."), name
        assert record.default == getattr(TrainConfig(), name) or name == "arch_settings", name


def test_the_command_line_keeps_every_flag_of_the_readme():
    flags = _flags()
    assert [f for f in README_FLAGS if f not in flags] == []
    assert flags["--optimizer"].choices == ["sgd", "nesterov", "adam", "adamw"]
    assert flags["--schedule"].choices == ["none", "cosine", "onecycle"]
    assert flags["--device"].choices == ["auto", "cpu", "cuda", "mps"]
    assert flags["--activation"].choices == ["tanh", "relu"]
    assert flags["--label-noise-kind"].choices == ["uniform", "confusable"]


def test_the_flags_mean_what_they_meant():
    config = _config(
        "--arch", "mlp", "--hidden", "64,32", "--no-batch-norm", "--dropout", "0.1", "--epochs", "3",
        "--batch-size", "64", "--lr", "0.01", "--optimizer", "sgd", "--momentum", "0.8", "--weight-decay", "1e-4",
        "--schedule", "cosine", "--label-smoothing", "0.1", "--augment", "--augment-shift", "1", "--augment-erase", "0.25",
        "--ema", "0.99",
        "--test-time-flip", "--val-fraction", "0.2", "--patience", "4", "--seed", "7", "--device", "cpu",
        "--no-amp", "--half-checkpoint", "--limit", "500",
    )  # fmt: skip
    assert config.to_dict() == {
        **TrainConfig().to_dict(),
        "arch": "mlp",
        "arch_settings": {"hidden": [64, 32], "dropout": 0.1, "batch_norm": False},
        "epochs": 3,
        "batch_size": 64,
        "lr": 0.01,
        "optimizer": "sgd",
        "momentum": 0.8,
        "weight_decay": 1e-4,
        "schedule": "cosine",
        "label_smoothing": 0.1,
        "augment": True,
        "augment_shift": 1,
        "augment_erase": 0.25,
        "ema": 0.99,
        "test_time_flip": True,
        "val_fraction": 0.2,
        "patience": 4,
        "seed": 7,
        "device": "cpu",
        "amp": False,
        "half_checkpoint": True,
        "limit": 500,
    }
    assert _config().to_dict() == preset_config("quick_demo").validate().to_dict()  # no flag: the default recipe
    assert _config("--preset", "simple_cnn", "--width", "4").arch_settings["width"] == 4


def test_the_data_settings_are_flags_and_saved_with_the_run():
    config = _config(
        "--arch", "linear", "--label-noise", "0.2", "--label-noise-kind", "confusable", "--per-class", "100",
        "--classes", "shirt, T-shirt/top,Pullover",
    )  # fmt: skip
    assert (config.label_noise, config.label_noise_kind, config.per_class) == (0.2, "confusable", 100)
    assert config.classes == ["Shirt", "T-shirt/top", "Pullover"]  # any case, spelled as the dataset does
    saved = config.to_dict()
    assert {k: saved[k] for k in ("label_noise", "label_noise_kind", "per_class", "classes")} == {
        "label_noise": 0.2,
        "label_noise_kind": "confusable",
        "per_class": 100,
        "classes": ["Shirt", "T-shirt/top", "Pullover"],
    }
    again = TrainConfig.from_dict(saved).validate()
    assert again == config
    old = {k: v for k, v in saved.items() if k not in ("label_noise", "label_noise_kind", "per_class", "classes")}
    assert TrainConfig.from_dict(old).validate().classes is None  # a run saved before these settings existed
    plain = TrainConfig().validate()
    assert (plain.label_noise, plain.label_noise_kind, plain.per_class, plain.classes) == (0.0, "uniform", None, None)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"label_noise": 0.95}, "label noise must be in [0, 0.9], got 0.95."),
        ({"label_noise": -0.1}, "label noise must be in [0, 0.9], got -0.1."),
        ({"label_noise": float("nan")}, "label noise must be in [0, 0.9], got nan."),
        ({"label_noise_kind": "random"}, "unknown label noise kind 'random'; choose one of: uniform, confusable."),
        ({"per_class": 0}, "images per class must be a whole number >= 1, got 0."),
        ({"per_class": 2.5}, "images per class must be a whole number >= 1, got 2.5."),
        ({"classes": ["Shirt"]}, "classes must list at least 2 class names, got ['Shirt']."),
        ({"classes": []}, "classes must list at least 2 class names, got []."),
        ({"classes": "Shirt,Coat"}, "classes must list at least 2 class names, got 'Shirt,Coat'."),
        ({"classes": ["Shirt", "Dog"]}, f"unknown class 'Dog'; choose from: {', '.join(CLASS_NAMES)}."),
        ({"classes": ["Shirt", "shirt"]}, "classes names 'Shirt' twice."),
        ({"augment": "yes"}, "augment must be true or false, got 'yes'."),
        ({"seed": -1}, "seed must be a whole number >= 0, got -1."),
        ({"experiment": "x" * 81}, f"experiment must be a short name, got {'x' * 81!r}."),
    ],
)
def test_bad_data_settings_have_clear_messages(changes, message):
    with pytest.raises(StudioError) as e:
        TrainConfig(**changes).validate()
    assert str(e.value) == message


def test_a_bad_list_on_the_command_line_is_one_line():
    with pytest.raises(StudioError) as e:
        _config("--arch", "mlp", "--hidden", "64,x")
    assert str(e.value) == "--hidden takes whole numbers separated by commas, got '64,x'."
    with pytest.raises(StudioError) as e:
        _config("--arch", "linear", "--classes", "Shirt")
    assert str(e.value) == "classes must list at least 2 class names, got ['Shirt']."


def test_the_sweepable_settings_come_from_the_records():
    swept = sweeps.settings()
    assert [n for n in swept if n in SETTINGS] == [n for n, s in SETTINGS.items() if s.sweepable]
    assert {"label_noise", "label_noise_kind", "per_class"} <= set(swept)
    assert not {"device", "amp", "test_time_flip", "classes", "experiment", "arch_settings"} & set(swept)
    assert {"width", "hidden", "dropout", "batch_norm", "activation"} <= set(swept)
    assert sweeps.parse_values("label_noise", "0, 0.2,0.4") == [0.0, 0.2, 0.4]
    assert sweeps.parse_values("label_noise_kind", "uniform,confusable") == ["uniform", "confusable"]
    assert sweeps.parse_values("per_class", "100,1000") == [100, 1000]
    runs = [sweeps.apply(TrainConfig(arch="linear"), change) for change in sweeps.grid({"per_class": [100, 1000]})]
    assert [c.per_class for c in runs] == [100, 1000]
    with pytest.raises(StudioError, match=r"^label_noise: 'lots' is not a valid value\.$"):
        sweeps.parse_values("label_noise", "0.1,lots")


def test_a_recipe_with_a_setting_the_schema_lacks_is_refused():
    recipe = Recipe("typo", "Typo", "A recipe with a misspelt setting.", "≈ 1 s", {"arch": "linear", "epoch": 3})
    with pytest.raises(StudioError) as e:
        recipe.config()
    assert str(e.value).startswith("recipe 'typo' has no setting 'epoch'; the settings: arch, arch_settings, epochs,")
