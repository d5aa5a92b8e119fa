"""An architecture declares itself in its own file: its record alone reaches the registry, the checks of its
settings, the command line's flags and sweeps."""

import pytest

from core.base.errors import StudioError
from core.cli import sweep
from core.cli.train import config_from_args, parser
from core.models import REGISTRY, Architecture, build, get, register
from core.training import sweeps
from tests import throwaway_architecture as toy


@pytest.fixture
def registered_toy():
    with toy.registered():
        yield


def _arch_choices() -> list[str]:
    return next(a for a in parser()._actions if "--arch" in a.option_strings).choices


def test_the_built_in_architectures_register_themselves_in_order():
    assert list(REGISTRY) == ["linear", "mlp", "simple_cnn", "two_conv", "lenet5", "resnet18", "fast_cnn"]
    assert {s.name: s.kind for s in get("mlp").schema} == {"hidden": "sizes", "dropout": "float", "batch_norm": "bool"}
    assert get("lenet5").setting("activation").options == ("tanh", "relu")
    assert get("resnet18").defaults == {"width": 0.25}


def test_a_throwaway_architecture_reaches_the_command_line(registered_toy):
    assert _arch_choices() == [*REGISTRY] and toy.NAME in _arch_choices()
    help_text = parser().format_help()
    assert "--floors FLOORS" in help_text and "number of hidden layers (toy)" in " ".join(help_text.split())
    config = config_from_args(parser().parse_args(["--arch", toy.NAME, "--floors", "3", "--width", "5"]))
    assert (config.arch, config.arch_settings) == (toy.NAME, {"floors": 3, "width": 5})
    assert type(config.arch_settings["width"]) is int  # 5.0 from the command line, built as 5
    assert build(toy.NAME, config.arch_settings).body[1].out_features == 40
    assert get(toy.NAME).parameter_count(floors=3, width=5) == toy.parameters(3, 5)


def test_a_throwaway_architecture_is_gone_once_unregistered():
    with toy.registered():
        assert toy.NAME in REGISTRY
    assert toy.NAME not in REGISTRY and toy.NAME not in _arch_choices()
    assert "--floors" not in parser().format_help()


def test_its_settings_are_checked_by_their_records(registered_toy):
    cases = [
        ({"floors": 9}, "toy: floors must be a whole number in 1-4, got 9."),
        ({"floors": 2.0}, "toy: floors must be a whole number in 1-4, got 2.0."),
        ({"width": 1.5}, "toy: width must be a whole number (1, 2, 4, ...), got 1.5."),
        ({"width": float("inf")}, "toy: width must be a whole number (1, 2, 4, ...), got inf."),
        ({"colour": 1}, "toy has no setting 'colour' (its settings: floors, width)."),
    ]
    for settings, message in cases:
        with pytest.raises(StudioError) as e:
            build(toy.NAME, settings)
        assert str(e.value) == message
    with pytest.raises(StudioError) as e:
        config_from_args(parser().parse_args(["--arch", toy.NAME, "--floors", "0"]))
    assert str(e.value) == "toy: floors must be a whole number in 1-4, got 0."


def test_its_settings_can_be_swept(registered_toy):
    assert sweeps.parse_values("floors", "1,3") == [1, 3]
    _, _, configs = sweep.plan(["--arch", toy.NAME, "--floors", "1,3", "--epochs", "1"])
    assert [c.arch_settings for c in configs] == [{"floors": 1, "width": 1}, {"floors": 3, "width": 1}]


def test_a_name_is_registered_once():
    with pytest.raises(StudioError, match=r"^architecture 'mlp' is registered twice\.$"):
        register(Architecture("mlp", "again", "a second mlp", lambda: None))
    assert get("mlp").display_name == "MLP (fully connected)"


@pytest.mark.parametrize(
    "arch,settings,message",
    [
        ("mlp", {"hidden": (64, 0)}, "mlp: hidden sizes must be positive whole numbers, got [64, 0]."),
        ("mlp", {"hidden": ()}, "mlp: hidden sizes must be positive whole numbers, got []."),
        ("mlp", {"batch_norm": "yes"}, "mlp: batch norm must be true or false, got 'yes'."),
        ("two_conv", {"dropout": float("nan")}, "two_conv: dropout must be in [0, 1), got nan."),
        ("resnet18", {"width": 0}, "resnet18: width must be a positive number, got 0."),
        ("fast_cnn", {"width": -2}, "fast_cnn: width must be a whole number (1, 2, 4, ...), got -2."),
    ],
)
def test_built_in_settings_are_checked_by_their_records(arch, settings, message):
    with pytest.raises(StudioError) as e:
        build(arch, settings)
    assert str(e.value) == message


def test_settings_are_normalised():
    assert get("simple_cnn").settings({"width": 4.0}) == {"width": 4, "batch_norm": False, "dropout": 0.0}
    assert get("mlp").settings({"hidden": [64, 32]})["hidden"] == (64, 32)
    assert get("resnet18").settings({"width": 0.5}) == {"width": 0.5}


def test_every_file_in_core_models_is_imported_so_a_new_architecture_is_one_file():
    import pkgutil

    import core.models

    files = {m.name for m in pkgutil.iter_modules(core.models.__path__) if not m.name.startswith("_")}
    architecture_files = {a.builder.__module__.rsplit(".", 1)[-1] for a in core.models.REGISTRY.values()}
    assert architecture_files <= files
    assert files - architecture_files == {"registry", "flip", "head"}  # the machinery, not architectures
    assert list(core.models.REGISTRY)[: len(core.models.LISTED_FIRST)] == list(core.models.LISTED_FIRST)
