"""Train page: a recipe fills the form, a sweep request queues its runs as one experiment, a stopped run resumes.

AppTest does not rerun fragments on a timer, so each `at.run()` here stands for a poll of the live panel.
"""

import time

import pytest

from core.io import runs
from core.library import experiments
from core.training.config import TrainConfig
from dashboard.train import training
from tests.dashboard.studio_app import open_page, poll, training_environment


@pytest.fixture(autouse=True)
def environment(monkeypatch, data_dir, tmp_path):
    yield from training_environment(monkeypatch, data_dir, tmp_path)


def test_choosing_a_recipe_fills_every_setting_and_they_stay_editable():
    at = open_page("views/train.py")
    assert at.selectbox(key="train_recipe").value == "quick_demo"
    assert at.caption[0].value.startswith("The fastest recipe to 91% test accuracy on a CPU")
    assert (
        at.select_slider(key="train_fast_cnn_width").value,
        at.select_slider(key="train_lr").value,
        at.selectbox(key="train_batch").value,
        at.number_input(key="train_epochs").value,
        at.slider(key="train_val").value,
    ) == (1, 1e-2, 256, 3, 0.0)

    at.selectbox(key="train_recipe").set_value("mlp_early_stop").run()
    assert not at.exception
    assert at.selectbox(key="train_arch").value == "mlp"
    assert at.text_input(key="train_mlp_hidden").value == "256,128"
    assert at.slider(key="train_mlp_dropout").value == 0.2
    assert at.selectbox(key="train_optimizer").value == "adam"
    assert at.select_slider(key="train_lr").value == 1e-3
    assert at.selectbox(key="train_batch").value == 64
    assert at.number_input(key="train_epochs").value == 50
    assert at.number_input(key="train_patience").value == 5
    assert at.slider(key="train_val").value == 0.2
    assert at.selectbox(key="train_schedule").value == "none"
    assert at.number_input(key="train_limit").value == 0
    assert "stops when the validation loss has not improved for 5 epochs" in at.caption[0].value

    assert not at.caption[0].value.endswith("*Some settings below differ from this recipe.*")
    at.number_input(key="train_epochs").set_value(7).run()  # still editable after the recipe
    assert at.number_input(key="train_epochs").value == 7
    assert at.caption[0].value.endswith("*Some settings below differ from this recipe.*")
    at.selectbox(key="train_recipe").set_value("two_conv").run()  # every setting, not only the usual ones
    assert (
        at.number_input(key="train_shift").value,
        at.select_slider(key="train_ema").value,
        at.checkbox(key="train_augment").value,
        at.checkbox(key="train_flip").value,
    ) == (1, 0.999, True, False)
    at.selectbox(key="train_recipe").set_value("simple_cnn").run()
    assert not at.exception and not at.error
    assert (at.select_slider(key="train_simple_cnn_width").value, at.checkbox(key="train_flip").value) == (8, True)
    at.selectbox(key="train_recipe").set_value("linear").run()
    assert at.selectbox(key="train_arch").value == "linear"
    assert any(c.value == "**7,850** trainable parameters with these settings." for c in at.caption)
    assert at.number_input(key="train_epochs").value == 10


def test_a_sweep_request_queues_its_runs_as_one_experiment():
    at = open_page("views/train.py")
    at.selectbox(key="train_recipe").set_value("linear").run()
    at.number_input(key="train_limit").set_value(2000)
    at.number_input(key="train_epochs").set_value(1)
    at.multiselect(key="train_sweep_params").set_value(["batch_size"]).run()
    at.text_input(key="train_sweep_batch_size").set_value("64, 256").run()
    assert at.button(key="train_start").label == "Start sweep (2 runs)"
    at.button(key="train_start").click().run()
    assert not at.exception
    jobs = sorted(training.manager().jobs(), key=lambda j: j.created)
    assert [j.config.batch_size for j in jobs] == [64, 256]
    assert all(j.config.arch == "linear" and j.config.limit == 2000 and j.config.epochs == 1 for j in jobs)
    [experiment] = experiments.list_experiments()
    assert {j.config.experiment for j in jobs} == {experiment.id}
    assert experiment.swept == {"batch_size": [64, 256]} and experiment.name == "linear: batch_size 64, 256"

    poll(at, lambda at: at.info and "reached the best test accuracy" in at.info[0].value)
    assert any(m.value == "**linear: batch_size 64, 256** — 2 of 2 runs finished" for m in at.markdown)
    results = at.dataframe[0].value  # the results, above the runs table
    assert list(results["batch_size"]) == ["64", "256"]
    rows = experiments.table(experiment)
    assert list(results["test acc"]) == pytest.approx([100 * r["test_accuracy"] for r in rows])
    assert list(results["best"]).count("★") == 1
    assert at.info[0].value == experiments.summary(experiment, rows)


@pytest.mark.parametrize(
    "values,message",
    [
        ("64,,128", "batch_size: '64,,128' has an empty value between commas."),
        ("", "batch_size: the list of values is empty."),
    ],
)
def test_a_bad_sweep_list_is_one_line_and_nothing_starts(values, message):
    at = open_page("views/train.py")
    at.multiselect(key="train_sweep_params").set_value(["batch_size"]).run()
    at.text_input(key="train_sweep_batch_size").set_value(values).run()
    assert at.error[0].value == message
    assert at.button(key="train_start").disabled


def test_a_grid_over_24_runs_is_refused():
    at = open_page("views/train.py")
    at.multiselect(key="train_sweep_params").set_value(["batch_size", "seed"]).run()
    at.text_input(key="train_sweep_batch_size").set_value("32,64,128,256,512").run()
    at.text_input(key="train_sweep_seed").set_value("0,1,2,3,4").run()
    assert at.error[0].value.startswith("a grid of 5 batch_size × 5 seed is 25 runs, more than the 24")
    assert at.button(key="train_start").disabled


def test_a_stopped_run_is_resumed_from_the_page(fmnist):
    at = open_page("views/train.py")
    me = at.session_state["owner_secret"]  # this browser's runs are the ones it may resume
    manager = training.manager()
    job_id = manager.submit(TrainConfig(arch="mlp", epochs=3, limit=3000, batch_size=50), fmnist, owner=me)
    deadline = time.monotonic() + 60
    while not manager.snapshot(job_id).epochs and time.monotonic() < deadline:
        time.sleep(0.05)
    manager.stop(job_id, owner=me)
    stopped = manager.wait(job_id, timeout=60)
    assert stopped.state == "stopped"
    at.run()
    name = at.selectbox(key="train_resume_run").value
    assert name == runs.list_runs()[0].name
    assert at.number_input(key=f"train_resume_epochs_{name}").value == 3
    at.button(key="train_resume").click().run()
    assert not at.exception
    resumed = manager.snapshot(job_id)  # the same training goes on
    assert resumed.run_dir.endswith(name) and resumed.config.epochs == 3
    poll(at, lambda at: at.success)
    assert [e["epoch"] for e in manager.snapshot(resumed.id).epochs] == [1, 2, 3]
    assert list(at.dataframe[0].value["epoch"]) == [1, 2, 3]
