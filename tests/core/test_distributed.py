"""torchrun with two CPU processes: same accuracy band as one process, one run folder, clean Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
SUBSET = ["--limit", "5000", "--epochs", "2", "--seed", "0", "--json"]


def _torchrun(*args):
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "core.train",
        *args,
    ]


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_two_processes_train_like_one(data_dir, tmp_path):
    one = subprocess.run(
        [sys.executable, "-m", "core.train", *SUBSET, "--data-dir", data_dir, "--out", str(tmp_path / "one")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    two = subprocess.run(
        _torchrun(*SUBSET, "--data-dir", data_dir, "--out", str(tmp_path / "two")),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    single, double = _events(one.stdout), _events(two.stdout)
    # Only rank 0 reports: one start, two epochs, one end.
    assert [e["event"] for e in double] == ["start", "epoch", "epoch", "end"]
    assert double[0]["processes"] == 2 and double[0]["train_size"] == 5000
    a, b = single[-1]["test_accuracy"], double[-1]["test_accuracy"]
    assert a >= 0.80 and b >= 0.80 and abs(a - b) <= 0.02, (a, b)
    # One run folder, written by rank 0.
    runs = list((tmp_path / "two").iterdir())
    assert len(runs) == 1 and (runs[0] / "best.safetensors").is_file()
    assert len((runs[0] / "metrics.jsonl").read_text().splitlines()) == 2


def test_ctrl_c_stops_every_process_and_keeps_the_checkpoint(data_dir, tmp_path):
    child = subprocess.Popen(
        _torchrun("--limit", "20000", "--epochs", "6", "--json", "--data-dir", data_dir, "--out", str(tmp_path)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        start_new_session=True,
    )
    try:
        for line in child.stdout:
            if '"event": "epoch"' in line:
                os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
                break
        out, _ = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    end = _events(out)[-1]
    assert end["event"] == "end" and end["status"] == "stopped" and end["test_accuracy"] > 0.5
    assert Path(end["run_dir"], "best.safetensors").is_file()
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert leftovers == []


def test_a_bad_flag_ends_every_process_with_one_line(tmp_path):
    out = subprocess.run(
        _torchrun("--lr", "-1", "--out", str(tmp_path)), cwd=ROOT, capture_output=True, text=True, timeout=120, env=ENV
    )
    assert out.returncode != 0
    # The first process to fail reports it; torchrun then ends the other one.
    assert "error: learning rate must be > 0, got -1.0." in out.stderr
    assert list(tmp_path.iterdir()) == []
    assert subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split() == []
