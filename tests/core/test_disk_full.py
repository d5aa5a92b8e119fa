"""A full disk or an unwritable folder: one line that names the cause and the file, no temporary file left
behind, and a job record that tells the truth after a restart. The disk fills up by a write that raises
OSError(ENOSPC) halfway, as a real one does."""

import errno
import os
from pathlib import Path

import pytest

from core.base import files
from core.base.errors import StudioError
from core.io import checkpoint, runs
from core.models import build
from core.serving import job_store
from core.serving.jobs import JobManager
from core.training.config import TrainConfig

REAL_OPEN = open
ALICE = "alice-secret-0123456789"


class HalfWritten:
    """A file whose write stores half the bytes and then finds the disk full."""

    def __init__(self, f):
        self._f = f

    def write(self, data):
        self._f.write(data[: len(data) // 2])
        self._f.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def fill_disk(monkeypatch, full) -> None:
    """Every file core.base.files writes whose path satisfies `full(path)` hits a full disk."""

    def fake_open(file, mode="r", *args, **kw):
        f = REAL_OPEN(file, mode, *args, **kw)
        return HalfWritten(f) if "w" in mode and full(Path(file)) else f

    monkeypatch.setattr(files, "open", fake_open, raising=False)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


def test_an_atomic_write_names_the_cause_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "metrics.jsonl"
    target.write_text("the old content\n")
    fill_disk(monkeypatch, lambda p: True)
    with pytest.raises(files.WriteError) as e:
        files.write_atomic(target, "x" * 10_000)
    assert str(e.value) == f"no space left on device while writing {target}."
    assert isinstance(e.value, StudioError) and isinstance(e.value, OSError) and e.value.errno == errno.ENOSPC
    assert target.read_text() == "the old content\n" and leftovers(tmp_path) == []


def test_an_unwritable_folder_is_named_too(tmp_path):
    blocker = tmp_path / "runs"
    blocker.write_text("a file where the runs folder should be")
    with pytest.raises(files.WriteError) as e:
        files.write_atomic(blocker / "summary.json", "{}")
    assert str(e.value) == f"not a directory while writing {blocker / 'summary.json'}."


def test_a_checkpoint_on_a_full_disk(tmp_path, monkeypatch):
    path = checkpoint.save(tmp_path / "best.safetensors", build("mlp"), "mlp", {}, {"name": "old"})
    fill_disk(monkeypatch, lambda p: p.name.startswith("best.safetensors"))
    with pytest.raises(StudioError) as e:
        checkpoint.save(path, build("mlp"), "mlp", {}, {"name": "new"})
    assert str(e.value) == f"no space left on device while writing {path}."
    assert checkpoint.read_metadata(path)["name"] == "old" and leftovers(tmp_path) == []


def quick() -> TrainConfig:
    return TrainConfig(arch="mlp", epochs=2, limit=600, batch_size=64, val_fraction=0.2)


def test_a_training_that_fills_the_disk_fails_in_one_line_and_its_record_says_so(tmp_path, monkeypatch, fmnist):
    """last.pt of epoch 1 does not fit; then not even a second copy of the job record does (it is rewritten
    in place). The job fails with the cause, leaves no temporary file, and a restart still says failed."""
    running = {"yes": False}
    fill_disk(monkeypatch, lambda p: p.name.startswith(runs.STATE) or (running["yes"] and p.parent.name == ".jobs"))
    manager = JobManager(runs_root=tmp_path, persist=True)
    job_id = manager.submit(quick(), fmnist, owner=ALICE)
    running["yes"] = True
    job = manager.wait(job_id, timeout=120)
    run = Path(job.run_dir)
    assert job.state == "failed"
    assert job.error == f"no space left on device while writing {run / runs.STATE}."
    assert leftovers(tmp_path) == [] and not (run / runs.STATE).exists()
    assert [m["epoch"] for m in runs.read_metrics(run)] == [1]

    monkeypatch.undo()
    again = JobManager(runs_root=tmp_path, persist=True).snapshot(job_id)
    assert (again.state, again.error) == ("failed", job.error)


def test_when_no_record_can_be_written_a_restart_says_after_which_epoch(tmp_path, monkeypatch, fmnist):
    """The disk fills up during epoch 1: its metrics were logged, but neither last.pt nor any job record
    fits any more. After a restart the record (still "running") must not claim no epoch ended."""

    def full(path: Path) -> bool:
        epoch_logged = any(tmp_path.glob(f"*/{runs.METRICS}"))
        return path.name.startswith(runs.STATE) or (epoch_logged and path.parent.name == ".jobs")

    fill_disk(monkeypatch, full)
    monkeypatch.setattr(job_store, "_overwrite", lambda path, record: False)  # not even in place
    manager = JobManager(runs_root=tmp_path, persist=True)
    job_id = manager.submit(quick(), fmnist, owner=ALICE)
    assert manager.wait(job_id, timeout=120).state == "failed"

    monkeypatch.undo()
    again = JobManager(runs_root=tmp_path, persist=True).snapshot(job_id)  # the record still says running
    assert again.state == "interrupted"
    assert again.message == "interrupted after epoch 1: nothing was saved to resume from; start it again."
    assert leftovers(tmp_path) == []
