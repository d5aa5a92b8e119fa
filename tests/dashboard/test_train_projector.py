"""Train in projector view (the running training's line and curves, a screen high, nothing to click), and the
outcome's count of test images for a run trained on a few classes.

AppTest does not rerun fragments on a timer, so each `at.run()` here stands for a poll of the live view.
"""

import json

import pytest
from streamlit.testing.v1 import AppTest

from core.training.config import TrainConfig
from dashboard import projector
from dashboard.train import training
from tests.dashboard.studio_app import HOME, open_page, poll, training_environment

SUBSET = ["Shirt", "T-shirt/top", "Pullover"]


@pytest.fixture(autouse=True)
def environment(monkeypatch, data_dir, tmp_path):
    yield from training_environment(monkeypatch, data_dir, tmp_path)


def projected_train_page() -> AppTest:
    """The Train page opened by a link with ?projector=1."""
    at = AppTest.from_file(HOME, default_timeout=90)
    at.query_params["projector"] = "1"
    at.run()
    at.switch_page("views/train.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def chart_titles(at) -> list[str]:
    return [json.loads(c.proto.spec).get("title") for c in at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")]


def chart_heights(at) -> list[int]:
    return [
        json.loads(c.proto.spec).get("height") for c in at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    ]


def test_projector_view_shows_the_running_training_alone_and_leaving_brings_the_form_back(fmnist):
    jobs = training.manager()
    running = jobs.submit(
        TrainConfig(arch="mlp", limit=30000, batch_size=32, epochs=3), fmnist, owner="another browser", name="wall"
    )
    at = projected_train_page()
    poll(at, lambda at: "Training loss per batch" in chart_titles(at))
    assert jobs.snapshot(running).state == "running"
    assert [t.value for t in at.title] == ["Train a model"]
    assert [s.value for s in at.subheader] == ["wall — running"]
    assert at.get("progress")[0].proto.text.startswith("Epoch 1/3 · batch ")
    assert chart_heights(at) == [projector.SCREEN_HEIGHT] * len(chart_titles(at))  # every chart a screen high
    # nothing to click but the way out: no form, no picker, no Stop, no table
    assert [b.label for b in at.button] == ["Leave projector view"]
    assert [s.key for s in at.selectbox] == [] and [n.key for n in at.number_input] == []
    assert not at.dataframe and not at.expander

    at.button(key="projector_leave").click().run()
    assert at.session_state["projector"] is False and "projector" not in at.query_params
    assert at.button(key="train_start").label == "Start training"
    assert at.selectbox(key="train_arch").value == "fast_cnn"
    assert at.subheader[0].value == "1 · Architecture"


def test_projector_view_when_nothing_trains_says_so_and_what_the_latest_run_reached(fmnist):
    at = projected_train_page()
    assert [i.value for i in at.info] == ["Nothing is training now, and no training has run on this server yet."]
    assert not chart_titles(at) and [b.label for b in at.button] == ["Leave projector view"]

    jobs = training.manager()
    done = jobs.wait(jobs.submit(TrainConfig(arch="mlp", limit=2000, epochs=1), fmnist, owner="x", name="last"), 120)
    at.run()
    result = done.result
    seconds = round(result["seconds"])
    assert [i.value for i in at.info] == [
        f"Nothing is training now. The latest run, **last**, reached **{result['test_accuracy']:.2%}** test accuracy "
        f"on the 10,000 test images after {seconds} s."
    ]
    assert chart_titles(at) == ["Loss per epoch", "Accuracy per epoch", "Training loss per batch"]
    assert not at.subheader and not at.get("progress")


def test_a_run_on_a_few_classes_counts_the_test_images_of_those_classes(fmnist):
    jobs = training.manager()
    config = TrainConfig(arch="mlp", limit=6000, epochs=1, classes=SUBSET)
    done = jobs.wait(jobs.submit(config, fmnist, owner="someone", name="tops"), timeout=120)
    assert done.state == "completed", done.error
    at = open_page("views/train.py")
    tested = "the 3,000 test images of its 3 classes (Shirt, T-shirt/top, Pullover)"
    [success] = at.success
    assert f"Test accuracy **{done.result['test_accuracy']:.2%}** on {tested} (best epoch 1)." in success.value
    assert "10,000" not in success.value

    room = projected_train_page()
    assert f"test accuracy on {tested} after" in room.info[0].value
