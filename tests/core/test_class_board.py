"""The class at a glance (every training and taught class, best first) and the runs the teacher pins for all."""

import numpy as np
import pytest

from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES
from core.io import checkpoint, class_sources, runs
from core.library import compare, pins, taught
from core.models import build, with_outputs
from core.serving import class_board, job_store
from core.serving.nicknames import Nicknames
from core.training.config import TrainConfig

ADA, BOB = "a" * 64, "b" * 64


class Record:
    """What JobStore.save reads from a job."""

    def __init__(self, **fields):
        self.__dict__.update({k: None for k in job_store.FIELDS} | fields)


def training(root, job_id, owner, config, state="completed", summary=None, started=100.0, finished=None, **more):
    run = None
    if summary is not None or state == "running":
        run = root / f"2026-{job_id}"
        run.mkdir()
        runs.write_json(run / runs.CONFIG, config.to_dict())
        if summary is not None:
            runs.write_json(run / runs.SUMMARY, summary)
    job_store.JobStore(root).save(
        Record(
            id=job_id,
            owner=owner,
            config=config,
            state=state,
            created=(started or 100.0) - 1,
            started=started,
            finished=finished,
            run_dir=str(run) if run else None,
            **more,
        )
    )
    return run


def test_the_board_lists_every_training_best_first_with_nicknames(tmp_path):
    names = Nicknames(tmp_path)
    names.set(ADA, "Ada")
    mlp = TrainConfig(
        arch="mlp",
        arch_settings={"hidden": [512, 256]},
        epochs=3,
        batch_size=256,
        lr=3e-3,
        optimizer="adamw",
        limit=5000,
    )
    cnn = TrainConfig(arch="simple_cnn", epochs=5, augment=True, schedule="cosine")
    training(tmp_path, "job-1", ADA, mlp, summary={"test_accuracy": 0.84, "seconds": 12.5})
    training(tmp_path, "job-2", BOB, cnn, summary={"test_accuracy": 0.9, "seconds": 40.0})
    training(tmp_path, "job-3", ADA, cnn, state="running", started=1_000.0)
    training(tmp_path, "job-4", BOB, mlp, state="dropped", started=None, teacher=True)

    rows = class_board.board(names.all(), tmp_path, now=1_030.0)
    table = [(r["rank"], r["who"], r["architecture"], r["state"], r["test_accuracy"], r["seconds"]) for r in rows]
    assert table == [
        (1, f"browser {BOB[:6]}", "Simple CNN (2 conv + 2 pool + 3 FC)", "completed", 0.9, 40.0),
        (2, "Ada", "MLP (fully connected)", "completed", 0.84, 12.5),
        (None, "Ada", "Simple CNN (2 conv + 2 pool + 3 FC)", "running", None, 30.0),
        (None, "the teacher", "MLP (fully connected)", "dropped", None, None),
    ]
    assert rows[1]["settings"] == "3 epochs · batch 256 · lr 0.003 · adamw · 5,000 images · hidden=512-256"
    assert rows[0]["settings"].startswith("5 epochs · batch 128 · lr 0.001 · adam · cosine schedule · augmented")
    assert rows[0]["run"] == "2026-job-2" and rows[0]["kind"] == "training"


def taught_model(root, owner: str, accuracy: float) -> None:
    """A checkpoint as Teach stores it: an MLP with an eleventh class, "hat", from 5 drawings, its owner beside it."""
    network = with_outputs(build("mlp"), 11)
    sources = [{"from": class_sources.FASHION}] * 10 + [
        {
            "from": "examples",
            "examples": 5,
            "trained_on": 4,
            "held_out": 1,
            "owner": owner,
            "taught_at": "2026-11-30T01:00:00+00:00",
            "images": class_sources.encode_images(np.zeros((5, 28, 28), np.uint8)),
        }
    ]
    meta = {
        "name": "mlp + hat",
        "class_names": [*CLASS_NAMES, "hat"],
        "class_sources": sources,
        "taught_from": {"name": "mlp", "file": "mlp.safetensors", "classes": 10},
        "metrics": {"test_accuracy": accuracy},
    }
    path = taught.taught_dir(root) / "mlp-hat-abc123.safetensors"
    checkpoint.save(path, network, "mlp", {}, meta)
    (path.parent / (path.name + ".owner")).write_text(owner)


def test_taught_classes_are_on_the_board_with_who_taught_them(tmp_path):
    names = Nicknames(tmp_path)
    names.set(BOB, "Bob")
    training(tmp_path, "job-1", ADA, TrainConfig(arch="mlp"), summary={"test_accuracy": 0.86, "seconds": 9.0})
    taught_model(tmp_path, BOB, 0.8712)
    rows = class_board.board(names.all(), tmp_path)
    assert [(r["who"], r["kind"], r["model"], r["test_accuracy"], r["rank"]) for r in rows] == [
        ("Bob", "taught class", "mlp + hat", 0.8712, 1),
        (f"browser {ADA[:6]}", "training", "2026-job-1", 0.86, 2),
    ]
    assert rows[0]["settings"] == "taught 'hat' to mlp from 5 examples (1 held out)"
    assert rows[0]["state"] == "not shared" and rows[0]["architecture"] == "MLP (fully connected)"


def test_only_the_teacher_pins_and_compare_marks_the_pinned_runs(tmp_path):
    run = training(tmp_path, "job-1", ADA, TrainConfig(arch="mlp"), summary={"test_accuracy": 0.8})
    with pytest.raises(StudioError, match=r"^only the teacher can pin a run\.$"):
        pins.set_pinned(run.name, True, teacher=False, root=tmp_path)
    with pytest.raises(StudioError, match=r"^'\.\./x' is not a run in "):
        pins.set_pinned("../x", True, teacher=True, root=tmp_path)
    assert pins.set_pinned(run.name, True, teacher=True, root=tmp_path) == [run.name]
    assert pins.pinned(tmp_path) == [run.name]
    found = compare.sources(tmp_path, shipped_folder=tmp_path / "none")
    assert found[run.name]["pinned"] is True
    assert class_board.board({}, tmp_path)[0]["pinned"] is True
    assert pins.set_pinned(run.name, False, teacher=True, root=tmp_path) == []
    assert compare.sources(tmp_path, shipped_folder=tmp_path / "none")[run.name]["pinned"] is False
    pins.set_pinned(run.name, True, teacher=True, root=tmp_path)
    runs.delete_run(run, tmp_path)
    assert pins.pinned(tmp_path) == []  # a deleted run is no longer pinned
