"""The evaluate and predict command lines, run as a user would (in-process for speed)."""

import csv
import json

import numpy as np
import pytest

from core.data.classes import CLASS_NAMES
from core.evaluate import main as evaluate_main
from core.io import preprocess
from core.predict import main as predict_main


def test_evaluate_json(ckpt, data_dir, capsys, result):
    assert evaluate_main([str(ckpt), "--data-dir", data_dir, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["count"] == 10_000
    assert sum(map(sum, out["confusion_matrix"])) == 10_000
    assert out["accuracy"] == pytest.approx(result.accuracy, abs=1e-6)
    assert list(out["per_class_accuracy"]) == list(CLASS_NAMES)


def test_evaluate_text(ckpt, data_dir, capsys, result):
    assert evaluate_main([str(ckpt), "--data-dir", data_dir]) == 0
    out = capsys.readouterr().out
    assert f"test accuracy {result.accuracy:.2%} on 10,000 images" in out
    assert "confusion matrix (rows = true class, columns = predicted):" in out
    matrix = out.split("columns = predicted):")[1]
    shirt_row = next(line for line in matrix.splitlines() if line.strip().startswith("Shirt"))
    assert [int(n) for n in shirt_row.split()[1:]] == result.confusion_matrix[6].tolist()


def test_evaluate_missing_checkpoint(tmp_path, capsys):
    assert evaluate_main([str(tmp_path / "none.safetensors")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: checkpoint not found") and err.count("\n") == 1


def test_predict_test_image_png(ckpt, fmnist, result, tmp_path, capsys):
    index = int(np.flatnonzero((result.predictions == result.labels) & (result.confidence > 0.9))[0])
    image = tmp_path / "test_image.png"
    image.write_bytes(preprocess.encode_png(fmnist.test_images[index].numpy()))
    assert predict_main([str(ckpt), str(image)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{image}: {CLASS_NAMES[result.labels[index]]} ")
    assert line.count("%") == 3


def test_predict_json(ckpt, fmnist, result, tmp_path, capsys):
    index = int(np.flatnonzero(result.predictions == result.labels)[0])
    image = tmp_path / "x.png"
    image.write_bytes(preprocess.encode_png(255 - fmnist.test_images[index].numpy()))
    assert predict_main([str(ckpt), str(image), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["top3"][0]["label"] == result.labels[index]
    assert len(record["top3"]) == 3


def test_predict_non_image_fails_with_one_line(ckpt, tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    assert predict_main([str(ckpt), str(text)]) != 0
    captured = capsys.readouterr()
    assert captured.err == (
        f"error: {text}: not an image in a format the studio reads: upload a PNG, JPEG, WebP, "
        "BMP, GIF, TIFF, HEIC/HEIF, AVIF or JPEG 2000 file.\n"
    )
    assert captured.out == ""


def test_predict_test_set_csv(ckpt, data_dir, tmp_path, result, capsys):
    out = tmp_path / "predictions.csv"
    assert predict_main([str(ckpt), "--test-set", "--csv", str(out), "--data-dir", data_dir]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 10_000
    assert sum(int(r["predicted_label"]) == int(r["true_label"]) for r in rows) == round(result.accuracy * 10_000)
    assert "wrote 10,000 predictions" in capsys.readouterr().err


def test_predict_needs_images_or_test_set(ckpt, capsys):
    with pytest.raises(SystemExit) as e:
        predict_main([str(ckpt)])
    assert e.value.code == 2


def test_predict_as_a_subprocess(ckpt, tmp_path):
    """The real entry point: one line on stderr and a non-zero exit, no traceback."""
    import subprocess
    import sys

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage")
    done = subprocess.run([sys.executable, "-m", "core.predict", str(ckpt), str(bad)], capture_output=True, text=True)
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {bad}: ")
