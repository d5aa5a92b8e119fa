"""The Class page: the teacher's leaderboard of every student's trainings, and a pinned run on everyone's Compare."""

import pytest

from core.library import catalog
from core.serving import job_store
from core.serving.nicknames import Nicknames
from core.training.config import TrainConfig
from tests.dashboard.studio_app import fake_run, forget_caches, open_page

KEY = "teacher-key-for-tests"
ADA, BOB = "a" * 64, "b" * 64
GOOD, WEAK = "20260105-100000-simple_cnn-aaaaaa", "20260104-100000-mlp-bbbbbb"


class Record:
    def __init__(self, **fields):
        self.__dict__.update({k: None for k in job_store.FIELDS} | fields)


@pytest.fixture
def runs_dir(monkeypatch, tmp_path, data_dir):
    root = tmp_path / "runs"
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(root))
    monkeypatch.setenv("FMNIST_TEACHER_KEY", KEY)
    empty = tmp_path / "no-shipped"
    empty.mkdir()
    monkeypatch.setattr(catalog, "SHIPPED_DIR", empty)
    for run_id, owner, arch, accuracy, created in (
        (GOOD, ADA, "simple_cnn", 0.8875, 200.0),
        (WEAK, BOB, "mlp", 0.83, 100.0),
    ):
        config = TrainConfig(arch=arch, epochs=2)
        run = fake_run(root, run_id, arch, losses=(0.9, 0.5), test_accuracy=accuracy, config=config)
        job_store.JobStore(root).save(
            Record(
                id=f"job-{owner[0]}", owner=owner, config=config, state="completed", created=created, run_dir=str(run)
            )
        )
    Nicknames(root).set(ADA, "Ada")
    forget_caches()
    yield root
    forget_caches()


def test_students_see_that_the_page_is_the_teachers(runs_dir):
    at = open_page("views/leaderboard.py")
    assert [i.value for i in at.info] == [
        "This page is for the teacher: type the teacher key in the sidebar to open it."
    ]
    assert not at.dataframe


def test_the_teacher_sees_every_training_best_first_and_pins_one_for_everyone(runs_dir):
    at = open_page("views/leaderboard.py")
    at.sidebar.text_input(key="teacher_key").input(KEY).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["who"]) == ["Ada", f"browser {BOB[:6]}"]
    assert list(table["architecture"]) == ["Simple CNN (2 conv + 2 pool + 3 FC)", "MLP (fully connected)"]
    assert list(table["test accuracy"]) == pytest.approx([88.75, 83.0])
    assert list(table["rank"]) == [1, 2]
    assert list(table["time (s)"]) == [12.5, 12.5]
    assert table["settings"][0].startswith("2 epochs · batch 128 · lr 0.001 · adam")
    assert [m.value for m in at.metric] == ["2", "2", "88.75%"]

    at.selectbox(key="class_pin_run").set_value(WEAK).run()
    at.button(key="class_pin").click().run()
    assert not at.exception and list(at.dataframe[0].value["pinned"]) == ["", "yes"]
    assert f"Pinned on every Compare runs page: {WEAK}" in [c.value for c in at.caption]

    student = open_page("views/compare.py")  # another browser
    assert student.multiselect(key="compare_runs_all").value == [WEAK, GOOD]  # the pinned run first
    assert f":material/push_pin: Pinned by the teacher for the whole class: {WEAK}" in [
        c.value for c in student.caption
    ]
