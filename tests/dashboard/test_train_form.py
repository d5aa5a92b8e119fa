"""The Train form is built from the settings' records: a throwaway architecture shows up with its own widgets,
and the data settings sit in a "Data" expander and reach the training's config."""

import pytest

from core.models import REGISTRY
from dashboard.train import training
from tests import throwaway_architecture as toy
from tests.dashboard.studio_app import open_page, training_environment


@pytest.fixture(autouse=True)
def environment(monkeypatch, data_dir, tmp_path):
    yield from training_environment(monkeypatch, data_dir, tmp_path)


def parameters_caption(at) -> str:
    return next(c.value for c in at.caption if "trainable parameters" in c.value)


def test_a_throwaway_architecture_shows_up_with_widgets_from_its_records():
    with toy.registered():
        at = open_page("views/train.py")
        assert at.selectbox(key="train_arch").options == [a.display_name for a in REGISTRY.values()]
        assert at.selectbox(key="train_arch").options[-1] == toy.DISPLAY_NAME
        at.selectbox(key="train_arch").set_value(toy.NAME).run()
        assert not at.exception and not at.error
        assert "declared by a test" in at.markdown[1].value
        floors, width = at.number_input(key="train_toy_floors"), at.select_slider(key="train_toy_width")
        assert (floors.label, floors.value, floors.min, floors.max) == ("Floors", 2, 1, 4)
        assert (width.label, width.options, width.value) == ("Width (channel multiplier)", ["1", "5"], 1)
        assert parameters_caption(at) == f"**{toy.parameters(2, 1):,}** trainable parameters with these settings."
        floors.set_value(3)
        width.set_value(5)
        at.run()
        assert parameters_caption(at) == f"**{toy.parameters(3, 5):,}** trainable parameters with these settings."
    at = open_page("views/train.py")
    assert toy.DISPLAY_NAME not in at.selectbox(key="train_arch").options


def test_the_data_settings_are_in_their_expander_and_reach_the_config():
    at = open_page("views/train.py")
    [data] = [e for e in at.expander if e.label == "Data"]
    inside = [w.key for kind in ("slider", "selectbox", "number_input", "multiselect") for w in data.get(kind)]
    assert {"train_label_noise", "train_label_noise_kind", "train_per_class", "train_classes"} <= set(inside)
    assert "train_limit" not in inside and "train_epochs" not in inside
    assert (
        at.slider(key="train_label_noise").value,
        at.selectbox(key="train_label_noise_kind").value,
        at.number_input(key="train_per_class").value,
        at.multiselect(key="train_classes").value,
    ) == (0.0, "uniform", 0, [])
    assert at.slider(key="train_label_noise").max == 0.9
    assert at.multiselect(key="train_classes").options[:2] == ["T-shirt/top", "Trouser"]

    at.selectbox(key="train_recipe").set_value("linear").run()
    at.number_input(key="train_limit").set_value(3000)
    at.number_input(key="train_epochs").set_value(1)
    at.slider(key="train_label_noise").set_value(0.2)
    at.selectbox(key="train_label_noise_kind").set_value("confusable")
    at.number_input(key="train_per_class").set_value(300)
    at.multiselect(key="train_classes").set_value(["Shirt"]).run()
    at.button(key="train_start").click().run()
    assert at.error[0].value == "classes must list at least 2 class names, got ['Shirt']."
    assert training.manager().jobs() == []  # nothing started

    at.multiselect(key="train_classes").set_value(["Shirt", "T-shirt/top", "Pullover"]).run()
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    [job] = training.manager().jobs()
    config = job.config
    assert (config.label_noise, config.label_noise_kind, config.per_class) == (0.2, "confusable", 300)
    assert config.classes == ["Shirt", "T-shirt/top", "Pullover"] and config.limit == 3000
