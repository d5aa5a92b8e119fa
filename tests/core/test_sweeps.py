"""Sweeps and experiments: value lists, the grid limit, the runs of one sweep grouped with their table and summary."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.base.errors import StudioError
from core.cli import sweep
from core.io import runs
from core.library import experiments
from core.training import sweeps
from core.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]


def test_values_are_parsed_to_the_setting_type():
    assert sweeps.parse_values("batch_size", "64, 256,512") == [64, 256, 512]
    assert sweeps.parse_values("lr", "1e-3,3e-3") == [0.001, 0.003]
    assert sweeps.parse_values("hidden", "512-256,128") == [(512, 256), (128,)]
    assert sweeps.parse_values("augment", "true,false") == [True, False]
    assert sweeps.parse_values("optimizer", "sgd,adam") == ["sgd", "adam"]


@pytest.mark.parametrize(
    "name,text,message",
    [
        ("batch_size", "", "batch_size: the list of values is empty."),
        ("batch_size", " , ", "batch_size: the list of values is empty."),
        ("batch_size", "64,,128", "batch_size: '64,,128' has an empty value between commas."),
        ("lr", "1e-3,fast", "lr: 'fast' is not a valid value."),
        ("lr", "1e-3,nan", "lr: 'nan' is not a valid value."),
        ("hidden", "512-x", "hidden: '512-x' is not a valid value (hidden sizes are written 512-256)."),
        ("epochs", "2,2", "epochs: '2,2' lists a value twice."),
        (
            "colour",
            "red",
            "'colour' cannot be swept; choose one of: arch, epochs, batch_size, lr, optimizer, momentum, "
            "weight_decay, schedule, label_smoothing, augment, augment_shift, augment_erase, val_fraction, patience, "
            "ema, whiten, seed, limit, label_noise, label_noise_kind, per_class, drop_suspects, hidden, dropout, "
            "batch_norm, width, activation, depth.",
        ),
    ],
)
def test_bad_lists_are_one_clear_line(name, text, message):
    with pytest.raises(StudioError) as e:
        sweeps.parse_values(name, text)
    assert str(e.value) == message


def test_a_grid_over_24_runs_is_refused_with_the_reason():
    assert len(sweeps.grid({"batch_size": [32, 64, 128, 256], "lr": [1e-3, 3e-3, 1e-2], "seed": [0, 1]})) == 24
    with pytest.raises(StudioError) as e:
        sweeps.grid({"batch_size": [32, 64, 128, 256, 512], "lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]})
    assert str(e.value) == (
        "a grid of 5 batch_size × 5 lr is 25 runs, more than the 24 one sweep may start "
        "(each run is a full training on a shared machine); sweep fewer values."
    )


def test_a_plan_changes_only_the_swept_settings_and_names_the_experiment():
    base = TrainConfig(arch="mlp", epochs=2, lr=3e-3)
    experiment, configs = experiments.plan(base, {"hidden": [(64,), (128, 64)], "lr": [1e-3, 1e-2]})
    assert [(c.arch_settings["hidden"], c.lr) for c in configs] == [
        ((64,), 1e-3),
        ((64,), 1e-2),
        ((128, 64), 1e-3),
        ((128, 64), 1e-2),
    ]
    assert all(c.epochs == 2 and c.experiment == experiment.id and c.arch_settings["dropout"] == 0.2 for c in configs)
    assert experiment.labels == [
        "hidden=64, lr=0.001",
        "hidden=64, lr=0.01",
        "hidden=128-64, lr=0.001",
        "hidden=128-64, lr=0.01",
    ]
    assert experiment.name == "mlp: hidden 64, 128-64 × lr 0.001, 0.01"


def test_the_summary_states_the_measured_differences():
    experiment = experiments.Experiment("e", "e", {"batch_size": [64, 512]}, TrainConfig(epochs=5).to_dict())
    rows = [
        {"label": "batch_size=64", "test_accuracy": 0.921, "seconds": 230.0, "best": True},
        {"label": "batch_size=512", "test_accuracy": 0.913, "seconds": 100.0, "best": False},
        {"label": "batch_size=128", "test_accuracy": None, "seconds": None, "best": False},
        {
            "label": "batch_size=32",
            "test_accuracy": 0.5,
            "seconds": 9.0,
            "best": False,
            "status": "stopped",
            "epochs_run": 1,
        },
    ]
    assert experiments.summary(experiment, rows) == (
        "This experiment sweeps batch_size (64, 512) with simple_cnn for 5 epochs. batch_size=64 reached the best "
        "test accuracy, 92.10%, in 3 min 50 s. batch_size=64 was 0.80 points above batch_size=512 (91.30%) and took "
        "2.3× as long (3 min 50 s against 1 min 40 s). batch_size=32 stopped after 1 epoch (50.00%) and is not "
        "compared. 1 run of 4 has no test result yet."
    )


def test_a_sweep_of_three_batch_sizes_runs_three_grouped_runs_and_tabulates_them(data_dir, tmp_path, capsys):
    code = sweep.main(
        [
            "--arch",
            "mlp",
            "--batch-size",
            "32,64,128",
            "--epochs",
            "1",
            "--limit",
            "2000",
            "--data-dir",
            data_dir,
            "--out",
            str(tmp_path),
            "--json",
        ]
    )
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["event"] for e in events] == ["experiment", "run", "run", "run", "end"]
    exp_id = events[0]["id"]
    folders = experiments.run_folders(exp_id, tmp_path)
    assert len(folders) == 3
    configs = [runs.read_json(f / runs.CONFIG) for f in folders]
    assert [c["batch_size"] for c in configs] == [32, 64, 128]
    assert all(
        c["experiment"] == exp_id and c["arch"] == "mlp" and c["epochs"] == 1 and c["limit"] == 2000 for c in configs
    )
    table = events[-1]["table"]
    assert [row["batch_size"] for row in table] == ["32", "64", "128"]
    for row, folder in zip(table, folders):
        assert row["test_accuracy"] == runs.read_json(folder / runs.SUMMARY)["test_accuracy"] > 0.5
    best = max(table, key=lambda r: r["test_accuracy"])
    assert [r["best"] for r in table] == [r is best for r in table]
    assert events[-1]["summary"].startswith(
        f"This experiment sweeps batch_size (32, 64, 128) with mlp for 1 epoch. "
        f"{best['label']} reached the best test accuracy, "
        f"{best['test_accuracy']:.2%}"
    )
    assert experiments.load(exp_id, tmp_path).swept == {"batch_size": [32, 64, 128]}


def _sweep_process(*args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "core.sweep", *args],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (["--batch-size", ""], "error: batch_size: the list of values is empty.\n"),
        (["--lr", "1e-3,x"], "error: lr: 'x' is not a valid value.\n"),
        (
            ["--batch-size", "32,64,128,256,512", "--seed", "0,1,2,3,4"],
            "error: a grid of 5 batch_size × 5 seed is 25 runs, more than the 24 one sweep may start (each run is a full "
            "training on a shared machine); sweep fewer values.\n",
        ),
        (
            ["--epochs", "2"],
            "error: nothing to sweep: give at least one setting a comma list of values, e.g. --batch-size 64,256.\n",
        ),
    ],
)
def test_bad_command_lines_are_one_line(args, message, tmp_path, capsys):
    assert sweep.main([*args, "--out", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert err == message and out == ""
    assert list(tmp_path.iterdir()) == []  # nothing was started


def test_ctrl_c_stops_the_current_run_and_keeps_the_finished_ones(data_dir, tmp_path):
    proc = _sweep_process(
        "--arch",
        "mlp",
        "--batch-size",
        "64,16,32",
        "--epochs",
        "2",
        "--limit",
        "10000",
        "--data-dir",
        data_dir,
        "--out",
        str(tmp_path),
    )
    lines = [proc.stdout.readline(), proc.stdout.readline()]
    assert lines[1].startswith("run 1/3  batch_size=64: completed, test "), lines
    deadline = time.monotonic() + 60
    while len(runs.list_runs(tmp_path)) < 2 and time.monotonic() < deadline:  # the second run has started
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert out.startswith("run 2/3  batch_size=16: stopped, ")
    assert "interrupted: 2 of 3 runs kept" in out
    [exp] = experiments.list_experiments(tmp_path)
    statuses = [runs.read_json(f / runs.SUMMARY)["status"] for f in experiments.run_folders(exp.id, tmp_path)]
    assert statuses == ["completed", "stopped"]
