"""Train page: settings, start a real short training and see its outcome, queue and cancel, reattach a job.

AppTest does not rerun fragments on a timer, so each `at.run()` here stands for a poll of the live panel.
"""

import json
import time

import pytest
import torch

from core.library import catalog
from core.training.config import TrainConfig
from dashboard.train import training
from tests.dashboard.studio_app import chart_specs, forget_caches, open_page, poll


@pytest.fixture(autouse=True)
def environment(monkeypatch, data_dir):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    forget_caches()
    yield
    for job in training.manager().jobs():
        training.manager().stop(job.id)
        training.manager().wait(job.id, timeout=60)
    forget_caches()


def panel_heading(at) -> str:
    return next(m.value for m in at.markdown if " — " in m.value and m.value.startswith("**"))


def parameters_caption(at) -> str:
    return next(c.value for c in at.caption if "trainable parameters" in c.value)


def test_settings_follow_the_architecture():
    at = open_page("views/train.py")
    assert at.title[0].value == "Train a model"
    assert at.selectbox(key="train_recipe").value == "quick_demo"  # the default recipe fills the form
    assert at.selectbox(key="train_arch").value == "fast_cnn"
    assert "Built for speed on a CPU" in at.markdown[1].value
    assert parameters_caption(at) == "**29,178** trainable parameters with these settings."  # width 1
    assert at.info[0].value.startswith("Nothing is training on this server yet")

    at.selectbox(key="train_arch").set_value("mlp").run()
    assert parameters_caption(at) == "**235,146** trainable parameters with these settings."
    at.text_input(key="train_mlp_hidden").set_value("64").run()
    assert parameters_caption(at) == f"**{784 * 64 + 64 + 64 * 10 + 10:,}** trainable parameters with these settings."
    at.text_input(key="train_mlp_hidden").set_value("64,x").run()
    assert "whole numbers separated by commas" in at.error[0].value
    assert at.button(key="train_start").disabled

    at.selectbox(key="train_arch").set_value("lenet5").run()
    assert at.selectbox(key="train_lenet5_activation").value == "tanh"
    assert not at.button(key="train_start").disabled


def test_without_a_validation_split_the_curves_and_table_show_the_training_figures_once(tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path))
    at = open_page("views/train.py")
    at.selectbox(key="train_arch").set_value("mlp")
    at.number_input(key="train_limit").set_value(2000)
    at.number_input(key="train_epochs").set_value(1)
    at.slider(key="train_val").set_value(0.0)
    at.button(key="train_start").click().run()
    assert not at.exception
    poll(at, lambda at: at.success)
    epochs = at.dataframe[0].value
    assert list(epochs.columns)[:3] == ["epoch", "train loss", "train acc"]
    assert "val acc" not in epochs.columns and "val loss" not in epochs.columns
    per_epoch = [spec for spec in chart_specs(at) if "per epoch" in json.dumps(spec.get("title"))]
    assert len(per_epoch) == 2 and all("no validation split" in spec["description"] for spec in per_epoch)
    assert all(spec["encoding"]["color"]["scale"]["domain"] == ["train"] for spec in per_epoch)  # no "val" legend


def test_a_short_training_runs_to_the_end(tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path))
    at = open_page("views/train.py")
    at.selectbox(key="train_arch").set_value("mlp")
    at.number_input(key="train_limit").set_value(2000)
    at.number_input(key="train_epochs").set_value(1)
    at.slider(key="train_val").set_value(0.1)
    at.text_input(key="train_name").set_value("pytest mlp")
    at.button(key="train_start").click().run()
    assert not at.exception
    assert panel_heading(at).startswith("**pytest mlp** — ")
    [job] = training.manager().jobs()
    assert job.config.arch == "mlp" and job.config.limit == 2000 and job.config.epochs == 1

    poll(at, lambda at: at.success)
    assert panel_heading(at) == "**pytest mlp** — completed"
    done = training.manager().snapshot(job.id)
    assert f"Test accuracy **{done.result['test_accuracy']:.2%}**" in at.success[0].value
    assert done.result["test_accuracy"] > 0.3
    epochs = at.dataframe[0].value
    assert list(epochs["epoch"]) == [1] and epochs["val acc"][0] == pytest.approx(100 * done.epochs[0]["val_accuracy"])
    assert [link.proto.label for link in at.get("page_link")] == [
        "Evaluate",
        "Feature maps",
        "Classify",
        "Compare runs",
    ]
    assert [m.name for m in catalog.run_models(tmp_path)] == ["pytest mlp"]


def test_a_queued_start_shows_its_position_and_can_be_cancelled(fmnist):
    jobs = training.manager()
    assert jobs.max_concurrent == 1
    blocker = jobs.submit(TrainConfig(arch="mlp", limit=30000, batch_size=32, epochs=3), fmnist, owner="another tab")
    at = open_page("views/train.py")
    at.number_input(key="train_limit").set_value(2000)
    at.button(key="train_start").click().run()
    assert "Waiting in the queue: position **1**" in at.info[0].value
    assert panel_heading(at).endswith("— queued")
    cancel = next(b for b in at.button if b.label == "Cancel")
    cancel.click().run()
    assert panel_heading(at).endswith("— stopped")
    assert at.info[0].value == "cancelled before it started"
    assert jobs.snapshot(blocker).state == "running"  # another session's job is untouched


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_another_browsers_training_is_shown_read_only_with_why_it_failed(fmnist):
    jobs = training.manager()
    lost = jobs.submit(
        TrainConfig(arch="mlp", limit=2000, epochs=1, device="cuda"), fmnist, owner="another-browser-secret-0123"
    )
    assert jobs.wait(lost, timeout=30).state == "failed"
    at = open_page("views/train.py")
    assert at.selectbox(key="train_show").value == lost
    assert "Someone else's training: you can watch it, not change it." in [c.value for c in at.caption]
    assert at.error[0].value.startswith("Training failed: device 'cuda' requested but no CUDA GPU is available")
    assert "Traceback" not in at.error[0].value
    assert not [b for b in at.button if b.label in ("Stop", "Cancel", "Resume", "Delete")]
    table = at.dataframe[0].value
    assert list(table["job"]) == [lost] and list(table["state"]) == ["failed"] and list(table["yours"]) == [""]
    assert not hasattr(jobs, "claim")


def test_my_finished_training_can_be_deleted_and_the_teacher_deletes_anyones(fmnist, tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv("FMNIST_TEACHER_KEY", "let-me-in")
    forget_caches()
    jobs = training.manager()
    theirs = jobs.wait(
        jobs.submit(TrainConfig(arch="mlp", limit=2000, epochs=1), fmnist, owner="another-browser-secret-0123"),
        timeout=120,
    )
    at = open_page("views/train.py")
    assert not [b for b in at.button if b.label == "Delete"]
    at.sidebar.text_input(key="teacher_key").set_value("wrong").run()
    assert "That is not the teacher key." in [c.value for c in at.sidebar.caption]
    at.sidebar.text_input(key="teacher_key").set_value("let-me-in").run()
    assert at.sidebar.success[0].value.startswith("Teacher mode")
    assert at.session_state["teacher_key"] == ""  # the key is not kept
    delete = next(b for b in at.button if b.label == "Delete")
    delete.click().run()
    assert jobs.snapshot(theirs.id) is None and not tmp_path.joinpath(theirs.run_dir.split("/")[-1]).exists()
    assert at.info[0].value.startswith("Nothing is training on this server yet")


def test_the_owner_resumes_a_stopped_training_from_the_page(fmnist, tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path))
    forget_caches()
    at = open_page("views/train.py")
    me = at.session_state["owner_secret"]
    assert "owner" not in at.query_params  # the secret is never in the page's address
    jobs = training.manager()
    job_id = jobs.submit(TrainConfig(arch="mlp", limit=6000, batch_size=32, epochs=3), fmnist, owner=me)
    deadline = time.monotonic() + 120
    while not [e for e in jobs.snapshot(job_id).epochs if not e.get("partial")] and time.monotonic() < deadline:
        time.sleep(0.2)
    jobs.stop(job_id, owner=me)
    assert jobs.wait(job_id, timeout=60).state == "stopped"
    at.run()
    assert panel_heading(at).endswith("— stopped")
    next(b for b in at.button if b.label == "Resume").click().run()
    assert not at.error, [e.value for e in at.error]
    done = jobs.wait(job_id, timeout=180)
    assert done.state == "completed" and [e["epoch"] for e in done.epochs] == [1, 2, 3]
    poll(at, lambda at: at.success)
    assert "Finished after" in at.success[0].value


def test_a_wrong_limit_setting_is_one_line_on_the_page(monkeypatch):
    monkeypatch.setenv("FMNIST_MAX_IMAGES", "ten minutes")
    forget_caches()
    at = open_page("views/train.py")
    shown = at.error[0].value
    monkeypatch.delenv("FMNIST_MAX_IMAGES")
    forget_caches()
    assert shown == "The server's training settings are wrong: FMNIST_MAX_IMAGES must be a number, got 'ten minutes'."


def test_a_model_name_over_80_characters_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path))
    forget_caches()
    at = open_page("views/train.py")
    at.text_input(key="train_name").set_value("x" * 100_000)
    at.button(key="train_start").click().run()
    assert [e.value for e in at.error] == ["the model name is 100,000 characters; the limit is 80."]
    assert training.manager().jobs() == []
    at.text_input(key="train_name").set_value("  " + "y" * 80 + "  ").run()  # 80 is fine (spaces aside)
    at.number_input(key="train_limit").set_value(2000)
    at.number_input(key="train_epochs").set_value(1)
    at.button(key="train_start").click().run()
    assert not at.error and [j.name for j in training.manager().jobs()] == ["y" * 80]


def test_the_teacher_key_refuses_tries_for_a_while_after_five_wrong_ones(monkeypatch):
    monkeypatch.setenv("FMNIST_TEACHER_KEY", "let-me-in")
    forget_caches()
    at = open_page("views/train.py")
    for _ in range(5):
        at.sidebar.text_input(key="teacher_key").set_value("guess").run()
        assert [c.value for c in at.sidebar.caption] == ["That is not the teacher key."]
    at.sidebar.text_input(key="teacher_key").set_value("let-me-in").run()  # even the right key must wait
    assert [c.value for c in at.sidebar.caption] == ["Too many wrong keys from this browser: try again in 30 s."]
    assert not at.sidebar.success
