"""A shared server: owners and the teacher, the job list rebuilt after a restart, and the teacher's limits."""

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.base.errors import StudioError
from core.io import runs
from core.serving import ownership
from core.serving.jobs import JobManager
from core.serving.limits import Limits, check_request, folder_bytes
from core.training.config import TrainConfig
from tests.dashboard.studio_app import fake_run

ROOT = Path(__file__).resolve().parents[2]
ALICE, BOB = "alice-secret-0123456789", "bob-secret-0123456789ab"


def quick(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "mlp", "epochs": 1, "limit": 2000, "batch_size": 128, **kw})


# ---- ownership and the teacher's key -----------------------------------------------------------


def test_secrets_are_random_and_only_their_digest_is_kept(tmp_path, fmnist):
    a, b = ownership.new_secret(), ownership.new_secret()
    assert a != b and len(a) >= 32 and ownership.looks_like_secret(a)
    assert not ownership.looks_like_secret("short") and not ownership.looks_like_secret("x" * 20 + "<script>")
    manager = JobManager(max_concurrent=1, runs_root=tmp_path, persist=True)
    blocker = manager.submit(quick(limit=30000, batch_size=32, epochs=3), fmnist, owner=ALICE)
    queued = manager.submit(quick(), fmnist, owner=ALICE)
    assert manager.snapshot(queued).owner == ownership.digest(ALICE) != ALICE
    on_disk = "".join(p.read_text() for p in (tmp_path / ".jobs").glob("*.json"))
    assert ALICE not in on_disk and ownership.digest(ALICE) in on_disk
    assert manager.owns(manager.snapshot(queued), ALICE) and not manager.owns(manager.snapshot(queued), BOB)
    with pytest.raises(StudioError, match=f"training {queued} belongs to another session"):
        manager.stop(queued, owner=BOB)
    assert manager.clear_queue() == 1  # the teacher's action
    assert manager.snapshot(queued).state == "stopped"
    assert manager.stop(blocker)  # no owner given: the teacher
    assert manager.wait(blocker, timeout=60).state == "stopped"


def test_teacher_key_is_compared_exactly_and_absent_by_default(monkeypatch):
    monkeypatch.delenv("FMNIST_TEACHER_KEY", raising=False)
    assert not ownership.teacher_key_set() and not ownership.is_teacher_key("")
    assert not ownership.is_teacher_key("anything")
    monkeypatch.setenv("FMNIST_TEACHER_KEY", "correct horse")
    assert ownership.teacher_key_set()
    assert ownership.is_teacher_key("correct horse")
    assert not ownership.is_teacher_key("correct hors") and not ownership.is_teacher_key("correct horse ")
    assert not ownership.is_teacher_key(None)


def test_delete_removes_the_run_of_its_owner_only(tmp_path, fmnist):
    manager = JobManager(runs_root=tmp_path, persist=True)
    job_id = manager.submit(quick(), fmnist, owner=ALICE)
    run = Path(manager.wait(job_id, timeout=120).run_dir)
    assert run.is_dir()
    with pytest.raises(StudioError, match="belongs to another session"):
        manager.delete(job_id, owner=BOB)
    manager.delete(job_id, owner=ALICE)
    assert not run.exists() and manager.jobs() == [] and not list((tmp_path / ".jobs").glob("*.json"))


def test_deleting_a_run_from_the_models_page_forgets_its_job(tmp_path, fmnist):
    manager = JobManager(runs_root=tmp_path, persist=True)
    job_id = manager.submit(quick(), fmnist, owner=ALICE)
    run = Path(manager.wait(job_id, timeout=120).run_dir)
    manager.delete_run(run)
    assert not run.exists() and manager.jobs() == [] and not list((tmp_path / ".jobs").glob("*.json"))
    assert JobManager(runs_root=tmp_path, persist=True).jobs() == []  # nor after a restart
    with pytest.raises(StudioError, match=f"^{run.name} is not a run in "):
        manager.delete_run(run)


# ---- restarts ----------------------------------------------------------------------------------

CRASHING_SERVER = textwrap.dedent("""
    import os, sys
    from core.data.dataset import load
    from core.training.config import TrainConfig
    from core.serving.jobs import JobManager
    from core.training.trainer import Trainer

    def dies_in_epoch_2(config, data, **kw):
        report = kw.pop("on_event")
        def on_event(event):
            report(event)
            if event["event"] == "batch" and event["epoch"] == 2 and event["batch"] == 3:
                os._exit(9)          # the server is killed: no clean-up runs
        return Trainer(config, data, on_event=on_event, **kw)

    data = load(sys.argv[2], allow_download=False)
    manager = JobManager(max_concurrent=1, runs_root=sys.argv[1], trainer_factory=dies_in_epoch_2, persist=True)
    config = TrainConfig(arch="mlp", epochs=3, limit=3000, batch_size=128)
    manager.submit(config, data, owner=sys.argv[3], name="interrupted mlp")
    manager.submit(config, data, owner=sys.argv[3], name="still queued")
    manager.wait(manager.jobs()[-1].id)
""")


def test_a_restarted_server_lists_the_run_as_interrupted_and_its_owner_resumes_it(tmp_path, data_dir, fmnist):
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_SERVER, str(tmp_path), data_dir, ALICE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "FMNIST_MAX_QUEUED": "5"},
    )
    assert crashed.returncode == 9, crashed.stderr[-2000:]

    manager = JobManager(runs_root=tmp_path, persist=True, data_loader=lambda: fmnist)
    dropped, interrupted = manager.jobs()  # newest first
    assert (interrupted.name, interrupted.state) == ("interrupted mlp", "interrupted")
    assert interrupted.message == (
        "interrupted: the server stopped during this training. Its owner can resume it from epoch 2."
    )
    assert [e["epoch"] for e in interrupted.epochs] == [1]
    assert (dropped.name, dropped.state) == ("still queued", "dropped")
    assert dropped.message == "dropped: the server restarted before this training started; start it again."
    assert not interrupted.active and not dropped.active

    with pytest.raises(StudioError, match=f"training {interrupted.id} belongs to another session"):
        manager.resume(interrupted.run_dir, owner=BOB)
    job_id = manager.resume(interrupted.run_dir, owner=ALICE)
    assert job_id == interrupted.id
    done = manager.wait(job_id, timeout=180)
    assert done.state == "completed", done.message
    assert [e["epoch"] for e in done.epochs] == [1, 2, 3] and done.result["epochs_run"] == 3
    run = Path(done.run_dir)
    assert [m["epoch"] for m in runs.read_metrics(run)] == [1, 2, 3]
    assert done.result["test_accuracy"] > 0.5

    again = JobManager(runs_root=tmp_path, persist=True, data_loader=lambda: fmnist)  # finished runs as they were
    assert {j.id: j.state for j in again.jobs()} == {interrupted.id: "completed", dropped.id: "dropped"}
    assert again.snapshot(job_id).result["test_accuracy"] == done.result["test_accuracy"]
    for asker in (ALICE, None):  # a finished run is not continued, not even by the teacher
        with pytest.raises(
            StudioError, match=f"^cannot resume {run.name}: it completed after 3 epochs; start a new run instead.$"
        ):
            again.resume(run, owner=asker, epochs=4)


def test_metrics_log_is_replaced_whole_so_a_torn_write_never_shows(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for epoch in (1, 2):
        runs.append_metrics(run, {"epoch": epoch, "loss": 1.0 / epoch})
    (run / runs.METRICS).write_text((run / runs.METRICS).read_text() + '{"epoch": 3, "lo')  # a torn line
    runs.append_metrics(run, {"epoch": 3, "loss": 0.3})
    assert [m["epoch"] for m in runs.read_metrics(run)] == [1, 2, 3]
    assert (run / runs.METRICS).read_text().count("\n") == 3
    assert sorted(p.name for p in run.iterdir()) == ["metrics.jsonl"]  # no temp file left behind


# ---- limits ------------------------------------------------------------------------------------


def test_queued_requests_per_browser_are_limited(tmp_path, fmnist):
    manager = JobManager(max_concurrent=1, runs_root=tmp_path, limit=Limits(max_queued=2))
    running = manager.submit(quick(limit=30000, batch_size=32, epochs=3), fmnist, owner=ALICE)
    manager.submit(quick(), fmnist, owner=ALICE)
    manager.submit(quick(), fmnist, owner=ALICE)
    with pytest.raises(StudioError) as refused:
        manager.submit(quick(), fmnist, owner=ALICE)
    assert str(refused.value) == (
        "you already have 2 trainings waiting in the queue (at most 2 per person): "
        "wait for one to start, or cancel one."
    )
    manager.submit(quick(), fmnist, owner=BOB)  # someone else still may
    manager.submit(quick(), fmnist, owner=ALICE, teacher=True)  # and so may the teacher
    assert len(manager.jobs()) == 5
    manager.clear_queue()
    manager.stop(running)
    manager.wait(running, timeout=60)


def test_epochs_times_images_over_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_MAX_IMAGES", "100000")
    manager = JobManager(runs_root=tmp_path)
    assert manager.limits.max_images == 100_000
    with pytest.raises(StudioError) as refused:
        manager.submit(quick(epochs=11, limit=10000), None, owner=ALICE)
    assert str(refused.value) == (
        "11 epochs x 10,000 images = 110,000 images is over this server's limit of "
        "100,000 per training: use fewer epochs or images."
    )
    with pytest.raises(StudioError, match="2 epochs x 60,000 images = 120,000 images is over"):
        manager.submit(quick(epochs=2, limit=None), None, owner=ALICE)
    assert manager.jobs() == []
    check_request(manager.limits, quick(epochs=10, limit=10000), 0)  # exactly at the limit is fine


def test_default_work_limit_is_about_ten_minutes_of_the_default_cnn(monkeypatch):
    for name in ("FMNIST_MAX_IMAGES", "FMNIST_MAX_QUEUED", "FMNIST_RUNS_BUDGET_MB", "FMNIST_RUNS_FULL"):
        monkeypatch.delenv(name, raising=False)
    limits = Limits.from_env()
    monkeypatch.delenv("FMNIST_MAX_QUEUED_TOTAL", raising=False)
    limits = Limits.from_env()
    assert (limits.max_queued, limits.max_queued_total, limits.max_images, limits.runs_budget_mb) == (
        2,
        20,
        3_000_000,
        None,
    )
    assert limits.when_full == "prune"
    assert 8 * 60 <= limits.max_images / 5000 <= 12 * 60  # seconds at 5,000 images/s
    monkeypatch.setenv("FMNIST_MAX_QUEUED", "lots")
    with pytest.raises(StudioError, match="FMNIST_MAX_QUEUED must be a number, got 'lots'"):
        Limits.from_env()
    monkeypatch.setenv("FMNIST_MAX_QUEUED", "1")
    monkeypatch.setenv("FMNIST_RUNS_FULL", "shrug")
    with pytest.raises(StudioError, match="FMNIST_RUNS_FULL must be one of: prune, refuse"):
        Limits.from_env()


def _records(root: Path, *jobs):
    """Job records as a server leaves them: (id, run folder name, teacher?, state)."""
    (root / ".jobs").mkdir(exist_ok=True)
    for created, (job_id, run_id, teacher, state) in enumerate(jobs):
        (root / ".jobs" / f"{job_id}.json").write_text(
            json.dumps(
                {
                    "id": job_id,
                    "owner": ownership.digest(ALICE),
                    "teacher": teacher,
                    "name": None,
                    "state": state,
                    "created": created,
                    "started": created,
                    "finished": created + 0.5,
                    "run_dir": str(root / run_id) if run_id else None,
                    "message": "",
                    "error": None,
                    "config": quick().to_dict(),
                }
            )
        )


def test_disk_budget_prunes_the_oldest_student_runs_only(tmp_path):
    old, teachers, newer, cli = (
        fake_run(tmp_path, name)
        for name in ("20260101-old-student", "20260102-teacher", "20260103-newer-student", "20260104-cli")
    )
    _records(
        tmp_path,
        ("job-00000001", old.name, False, "completed"),
        ("job-00000002", teachers.name, True, "completed"),
        ("job-00000003", newer.name, False, "interrupted"),
    )
    per_run = folder_bytes(old)
    budget_mb = (folder_bytes(tmp_path) - per_run // 2) / 1e6  # one run has to go
    manager = JobManager(runs_root=tmp_path, persist=True, limit=Limits(runs_budget_mb=budget_mb))
    assert len(manager.jobs()) == 3
    manager._admit(quick(), ownership.digest(BOB), teacher=False)
    assert not old.exists() and teachers.exists() and newer.exists() and cli.exists()
    assert {j.id for j in manager.jobs()} == {"job-00000002", "job-00000003"}
    assert not (tmp_path / ".jobs" / "job-00000001.json").exists()

    tight = JobManager(runs_root=tmp_path, persist=True, limit=Limits(runs_budget_mb=per_run / 1e6))
    with pytest.raises(
        StudioError,
        match=r"the runs folder is full \(.* MB budget\) and no student run is left to "
        r"remove: ask the teacher to delete runs\.",
    ):
        tight.submit(quick(), None, owner=BOB)
    assert not newer.exists()  # the student run went first,
    assert teachers.exists() and cli.exists()  # the teacher's and the command line's never
    assert (ROOT / "checkpoints" / "simple_cnn.safetensors").is_file()


def test_disk_budget_can_refuse_instead(tmp_path):
    student = fake_run(tmp_path, "20260101-student")
    _records(tmp_path, ("job-00000001", student.name, False, "completed"))
    manager = JobManager(runs_root=tmp_path, persist=True, limit=Limits(runs_budget_mb=0.001, when_full="refuse"))
    with pytest.raises(
        StudioError,
        match=r"^the runs folder is full \(0\.9 MB of its 0\.0 MB budget\): "
        r"ask the teacher to delete old runs before starting a new one\.$",
    ):
        manager.submit(quick(), None, owner=BOB)
    assert student.exists() and manager.jobs()[0].id == "job-00000001"


class Waiting:
    """A trainer that trains nothing: it runs until stopped (to hold the one training slot cheaply)."""

    def __init__(self, *args, **kw):
        self.stopped = threading.Event()

    def stop(self):
        self.stopped.set()

    def run(self):
        self.stopped.wait(60)
        return SimpleNamespace(status="stopped", message="stopped by request")


def test_the_whole_queue_is_capped_whatever_the_identities(tmp_path, monkeypatch):
    """Identities cost nothing (a private window, a new cookie): the total of waiting requests is capped too."""
    monkeypatch.setenv("FMNIST_MAX_QUEUED_TOTAL", "3")
    manager = JobManager(max_concurrent=1, runs_root=tmp_path, trainer_factory=Waiting)
    assert (manager.limits.max_queued, manager.limits.max_queued_total) == (2, 3)
    running = manager.submit(quick(), None, owner=ALICE)
    for owner in (ALICE, ALICE, BOB):
        manager.submit(quick(), None, owner=owner)
    for newcomer in (ownership.new_secret() for _ in range(3)):
        with pytest.raises(StudioError) as refused:
            manager.submit(quick(), None, owner=newcomer)
        assert str(refused.value) == (
            "the server's queue is full (3 trainings are waiting, at most 3): try again when some have started."
        )
    manager.submit(quick(), None, owner=BOB, teacher=True)  # the teacher is not bound by it
    assert sum(j.state == "queued" for j in manager.jobs()) == 4
    manager.clear_queue()
    manager.submit(quick(), None, owner=ownership.new_secret())  # room again
    manager.clear_queue()
    manager.stop(running)
    assert manager.wait(running, timeout=30).state == "stopped"


# ---- a browser's identity and the teacher's key ------------------------------------------------


def test_the_cookie_decides_and_a_link_never_overrides_it():
    mine, copied = ownership.new_secret(), ownership.new_secret()
    assert ownership.browser_secret(mine, copied) == mine  # a copied address carries no rights
    assert ownership.browser_secret(mine, None) == mine
    assert ownership.browser_secret(None, copied) == copied  # an old link moves into a browser without a cookie
    assert ownership.browser_secret("", copied) == copied
    fresh = {ownership.browser_secret(None, bad) for bad in (None, "", "short", "x" * 20 + "<script>", "é" * 30)}
    assert len(fresh) == 5 and all(ownership.looks_like_secret(f) for f in fresh)  # new and random each time
    assert ownership.browser_secret("not valid!", None) not in ("not valid!", None)


def test_the_teacher_key_waits_longer_after_five_wrong_tries(monkeypatch):
    monkeypatch.setenv("FMNIST_TEACHER_KEY", "correct horse")
    now = [1000.0]
    tries = ownership.KeyTries(clock=lambda: now[0])
    for _ in range(5):
        assert tries.check(ALICE, "guess") is False
    assert tries.wait_left(ALICE) == 30
    for _ in range(2):  # refused unchecked, even the right key, while it must wait
        with pytest.raises(StudioError, match=r"^too many wrong keys from this browser: try again in 30 s\.$"):
            tries.check(ALICE, "correct horse")
    assert tries.wait_left(BOB) == 0 and tries.check(BOB, "correct horse") is True  # other browsers are not held up
    waits = []
    for _ in range(4):
        now[0] += tries.wait_left(ALICE)
        assert tries.check(ALICE, "guess") is False
        waits.append(tries.wait_left(ALICE))
    assert waits == [60, 120, 240, 480]  # growing
    now[0] += 479
    with pytest.raises(StudioError, match="try again in 1 s"):
        tries.check(ALICE, "correct horse")
    now[0] += 1
    assert tries.check(ALICE, "correct horse") is True and tries.wait_left(ALICE) == 0  # the right key clears it
    assert tries.check(ALICE, "guess") is False and tries.wait_left(ALICE) == 0  # five tries again
    for _ in range(60):
        now[0] += tries.wait_left(ALICE)
        tries.check(ALICE, "guess")
    assert tries.wait_left(ALICE) == ownership.LONGEST_WAIT_S  # at most an hour
