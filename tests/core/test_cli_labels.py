"""python -m core.labels: the suspect labels and the near-duplicate pairs as CSV files, from the shipped results."""

import csv
import json
import subprocess
import sys
from pathlib import Path

from core.analysis import duplicates, label_issues
from core.cli.labels import main

ROOT = Path(__file__).resolve().parents[2]


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_suspects_csv_lists_every_training_image_worst_first(data_dir, fmnist, tmp_path, capsys):
    out = tmp_path / "suspects.csv"
    assert main(["--csv", str(out), "--data-dir", data_dir]) == 0
    shipped = label_issues.load(fmnist)
    header, rows = read_rows(out)
    assert header == ["index", "given", "suggested", "quality"]
    assert len(rows) == 60000
    indices = [int(r[0]) for r in rows]
    assert sorted(indices) == list(range(60000))  # 0-based, the official file order
    assert indices[:100] == shipped.worst(100).tolist()
    qualities = [float(r[3]) for r in rows]
    assert qualities == sorted(qualities)
    first = indices[0]
    assert rows[0][1] == label_issues.CLASS_NAMES[int(fmnist.train_labels[first])]
    assert rows[0][2] == label_issues.CLASS_NAMES[int(shipped.suggested[first])]
    printed = capsys.readouterr().out
    assert f"5-fold out-of-fold accuracy {shipped.accuracy:.2%} with quick_demo" in printed
    assert f"wrote 60,000 rows to {out}" in printed


def test_duplicates_csv_lists_every_pair_closest_first(data_dir, fmnist, tmp_path, capsys):
    out = tmp_path / "pairs.csv"
    assert main(["--duplicates", "--csv", str(out), "--json", "--data-dir", data_dir]) == 0
    shipped = duplicates.load(fmnist)
    header, rows = read_rows(out)
    assert header == ["a_split", "a_index", "b_split", "b_index", "distance"]
    assert len(rows) == len(shipped) > 0
    assert {(r[0], r[2]) for r in rows} == {("train", "train"), ("test", "test"), ("train", "test")}
    distances = [float(r[4]) for r in rows]
    assert distances == sorted(distances) and distances[-1] <= shipped.threshold  # rounded to 4 places
    summary = json.loads(capsys.readouterr().out)
    assert summary["pairs"] == len(rows) and summary["threshold"] == duplicates.THRESHOLD
    assert summary["test_images_with_a_training_copy"] == len(shipped.leaked_test_indices())
    assert summary["across_the_split"] == sum(r[0] == "train" and r[2] == "test" for r in rows)


def test_a_bad_fold_count_is_one_line_and_a_non_zero_exit(data_dir, capsys):
    assert main(["--k", "1", "--recipe", "linear", "--data-dir", data_dir]) == 2
    err = capsys.readouterr().err
    assert err == "error: k (the number of folds) must be a whole number in 2-10, got 1.\n"


def test_the_module_runs_as_a_command(data_dir):
    done = subprocess.run(
        [sys.executable, "-m", "core.labels", "--duplicates", "--data-dir", data_dir],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "near-duplicate pairs (RMS pixel difference below 0.05)" in done.stdout
    assert "test images have a near-copy in training" in done.stdout
