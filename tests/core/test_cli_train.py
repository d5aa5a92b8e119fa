"""The training command line: text and JSON output, one-line errors, no tracebacks."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "core.train", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_json_lines_and_a_checkpoint(data_dir, tmp_path):
    out = _run(
        "--arch",
        "mlp",
        "--epochs",
        "2",
        "--limit",
        "1000",
        "--batch-size",
        "50",
        "--lr",
        "3e-3",
        "--data-dir",
        data_dir,
        "--out",
        str(tmp_path),
        "--json",
    )
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["event"] for e in events] == ["start", "epoch", "epoch", "end"]
    assert events[0]["train_size"] + events[0]["val_size"] == 1000 and 98 <= events[0]["val_size"] <= 102
    end = events[-1]
    assert end["status"] == "completed" and end["test_accuracy"] > 0.6
    assert (Path(end["run_dir"]) / "best.safetensors").is_file()
    assert Path(end["run_dir"]).parent == tmp_path


def test_text_output_has_one_line_per_epoch_and_a_summary(data_dir, tmp_path):
    out = _run("--arch", "lenet5", "--epochs", "1", "--limit", "600", "--data-dir", data_dir, "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("training lenet5 (61,706 parameters) on cpu")
    assert lines[1].startswith("epoch   1/1  train loss ")
    assert lines[2] == "completed: completed 1 epochs"
    assert lines[3].startswith("best epoch 1: val loss ")


def test_bad_learning_rate_is_one_line(tmp_path):
    out = _run("--lr", "-1", "--out", str(tmp_path))
    assert out.returncode == 2
    assert out.stderr == "error: learning rate must be > 0, got -1.0.\n"


def test_missing_dataset_is_one_line(tmp_path):
    out = _run("--data-dir", str(tmp_path / "empty"), "--out", str(tmp_path), env={"FMNIST_NO_DOWNLOAD": "1"})
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"error: Fashion-MNIST not found in {tmp_path / 'empty'}. Get it one of three ways:")


def test_unwritable_runs_directory_is_one_line(data_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = _run("--limit", "100", "--epochs", "1", "--data-dir", data_dir, "--out", str(blocker / "runs"))
    assert out.returncode == 2
    assert out.stderr.startswith(f"error: cannot create run folder in {blocker / 'runs'}: ")
    assert out.stderr.count("\n") == 1


def test_diverging_run_exits_non_zero_with_the_hint(data_dir, tmp_path):
    out = _run(
        "--arch",
        "mlp",
        "--lr",
        "10",
        "--optimizer",
        "sgd",
        "--limit",
        "2000",
        "--epochs",
        "2",
        "--data-dir",
        data_dir,
        "--out",
        str(tmp_path),
    )
    assert out.returncode == 1
    assert "Try a lower learning rate (now 10)." in out.stderr
    assert "Traceback" not in out.stderr
