"""The explain and embed command lines, run as a user would: JSON lines, CSV columns, one-line errors."""

import csv
import json
import subprocess
import sys

import numpy as np

from core.analysis import explanation_methods, explanations
from core.cli.predict import read_image
from core.embed import main as embed_main
from core.explain import main as explain_main
from core.io import checkpoint, preprocess
from tests.core.test_layout import ROOT

CNN = str(ROOT / "checkpoints" / "simple_cnn.safetensors")
MLP = str(ROOT / "checkpoints" / "mlp.safetensors")


def picture(tmp_path, fmnist, index=0, invert=False):
    path = tmp_path / f"test{index}.png"
    image = fmnist.test_images[index].numpy()
    path.write_bytes(preprocess.encode_png(255 - image if invert else image))
    return str(path)


def test_explain_json_lines(tmp_path, fmnist, capsys):
    boot, drawn = picture(tmp_path, fmnist, 0), picture(tmp_path, fmnist, 1, invert=True)
    assert explain_main([CNN, boot, drawn, "--json", "--target", "shirt"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line, path in zip(lines, (boot, drawn)):
        record = json.loads(line)
        assert list(record) == ["image", "prediction", "target", "method", "layer", "input", "heatmap"]
        assert (record["image"], record["target"], record["method"], record["layer"]) == (
            path,
            "Shirt",
            "gradcam",
            "conv2",
        )
        seen = np.array(record["input"])
        assert seen.shape == np.array(record["heatmap"]).shape == (28, 28)
        assert np.allclose(seen, read_image(path).tensor.numpy() / 255.0, atol=1e-4)  # exactly what core.predict reads
        model = checkpoint.load(CNN).model
        expected = explanations.explain(model, read_image(path).tensor, "gradcam", "Shirt").heatmap
        assert np.allclose(record["heatmap"], expected, atol=1e-5)
    assert json.loads(lines[0])["prediction"] == "Ankle boot"


def test_explain_text_for_each_method(tmp_path, fmnist, capsys):
    boot = picture(tmp_path, fmnist, 0)
    for method in ("saliency", "integrated_gradients", "occlusion"):
        assert explain_main([MLP, boot, "--method", method]) == 0
        out = capsys.readouterr().out.splitlines()
        title = explanation_methods.METHODS[method].title
        assert out[0].startswith(f"{boot}: predicted ") and f"{title} for " in out[0]
        assert len(out) == 29 and all(len(row) == 56 for row in out[1:])


def test_explain_bad_input_is_one_line(tmp_path, fmnist, capsys):
    boot = picture(tmp_path, fmnist, 0)
    cases = [
        (
            [MLP, boot],
            "error: Grad-CAM needs a convolution layer and MLP has none; use saliency, "
            "integrated_gradients or occlusion.",
        ),
        ([CNN, boot, "--layer", "conv9"], "error: unknown layer 'conv9'; Grad-CAM layers of this model: conv1, conv2."),
        (
            [CNN, boot, "--target", "Shrt"],
            "error: unknown class 'Shrt'; use a number 0-9 or one of: T-shirt/top, "
            "Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.",
        ),
        (
            [CNN, boot, "--method", "saliency", "--layer", "conv1"],
            "error: --layer goes with --method gradcam, not saliency.",
        ),
    ]
    for argv, message in cases:
        assert explain_main(argv) == 2
        captured = capsys.readouterr()
        assert captured.err == message + "\n" and captured.out == ""
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a picture")
    assert explain_main([CNN, str(junk), boot, "--json"]) == 2  # the good image is still explained
    captured = capsys.readouterr()
    assert (
        captured.err
        == f"error: {junk}: not an image in a format the studio reads: upload a PNG, JPEG, WebP, BMP, GIF, TIFF, HEIC/HEIF, AVIF or JPEG 2000 file.\n"
    )
    assert json.loads(captured.out)["image"] == boot


def test_explain_runs_as_a_module(tmp_path, fmnist):
    done = subprocess.run(
        [sys.executable, "-m", "core.explain", MLP, picture(tmp_path, fmnist, 0)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stderr.startswith("error: Grad-CAM needs") and "Traceback" not in done.stderr


def test_embed_csv(tmp_path, data_dir, fmnist):
    out = tmp_path / "points.csv"
    assert embed_main([CNN, "--limit", "300", "--seed", "1", "--csv", str(out), "--data-dir", data_dir]) == 0
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["index", "label", "prediction", "x", "y"]
    assert len(rows) == 300 and len({r["index"] for r in rows}) == 300
    assert all(int(r["label"]) == int(fmnist.test_labels[int(r["index"])]) for r in rows)
    right = np.mean([r["label"] == r["prediction"] for r in rows])
    assert right > 0.85
    xy = np.array([[float(r["x"]), float(r["y"])] for r in rows])
    assert xy.std(0).min() > 0.1


def test_embed_bad_input(tmp_path, capsys):
    assert embed_main([CNN, "--limit", "5", "--csv", str(tmp_path / "x.csv")]) == 2
    assert capsys.readouterr().err == "error: the sample size must be between 10 and 10,000, got 5.\n"
    assert embed_main([str(tmp_path / "none.safetensors"), "--limit", "100", "--csv", str(tmp_path / "x.csv")]) == 2
    assert capsys.readouterr().err.startswith("error: checkpoint not found")
    assert embed_main([CNN, "--limit", "100", "--csv", str(tmp_path / "no" / "dir" / "x.csv")]) == 2
    assert capsys.readouterr().err.startswith(f"error: cannot write {tmp_path / 'no' / 'dir' / 'x.csv'}: ")
