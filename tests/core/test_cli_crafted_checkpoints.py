"""The command lines read checkpoints as strictly as the import: every crafted file is one line on stderr and a
non-zero exit from evaluate, predict, explain and export; nothing is written, nothing is printed on stdout."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from core.evaluate import main as evaluate_main
from core.explain import main as explain_main
from core.export import main as export_main
from core.predict import main as predict_main
from tests.core import crafted_checkpoints as crafted

CASES = crafted.cases()


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    path = tmp_path_factory.mktemp("pictures") / "shirt.png"
    Image.fromarray(np.full((28, 28), 200, dtype=np.uint8)).save(path)
    return path


def arguments(command: str, checkpoint, picture, out, data_dir) -> list[str]:
    return {
        "evaluate": [str(checkpoint), "--data-dir", data_dir],
        "predict": [str(checkpoint), str(picture)],
        "explain": [str(checkpoint), str(picture), "--method", "saliency"],
        "export": [str(checkpoint), "--format", "onnx", "--out", str(out)],
    }[command]


MAINS = {"evaluate": evaluate_main, "predict": predict_main, "explain": explain_main, "export": export_main}


@pytest.mark.parametrize("case", list(CASES))
def test_every_command_refuses_a_crafted_checkpoint_in_one_line(case, tmp_path, picture, data_dir, capsys):
    data, reason = CASES[case]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    for command, main in MAINS.items():
        out = tmp_path / "model.onnx"
        assert main(arguments(command, path, picture, out, data_dir)) == 2, command
        captured = capsys.readouterr()
        assert (command, captured.err) == (command, f"error: bad.safetensors: {reason}\n")
        assert captured.out == "" and not out.exists()


SUBPROCESS = {  # one real process per command, and the cases the issue saw tracebacks for
    "architecture as a list": "evaluate",
    "infinite width": "predict",
    "NaN weights": "explain",
    "int8 weights": "export",
    "dropout as a string": "export",
    "bare pickle": "predict",
}


@pytest.mark.parametrize("case, command", list(SUBPROCESS.items()))
def test_the_real_entry_points_print_one_line_and_fail(case, command, tmp_path, picture, data_dir):
    data, reason = CASES[case]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    out = tmp_path / "model.onnx"
    done = subprocess.run(
        [sys.executable, "-m", f"core.{command}", *arguments(command, path, picture, out, data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr == f"error: bad.safetensors: {reason}\n"
    assert done.stdout == "" and not out.exists()
