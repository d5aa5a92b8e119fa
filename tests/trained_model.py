"""One small simple_cnn trained once per test process (about 20 s), shared by the evaluation,
CLI and dashboard tests. Its runs folder looks like any user's: the catalog finds it."""

import contextlib
import io
from pathlib import Path

_cache: dict[str, Path] = {}


def trained_run(root: Path, data_dir: str) -> Path:
    """The runs folder holding one finished simple_cnn run (trained on the first call only)."""
    if "root" not in _cache:
        from core.train import main

        args = [
            "--arch",
            "simple_cnn",
            "--epochs",
            "2",
            "--limit",
            "4000",
            "--batch-size",
            "32",
            "--lr",
            "3e-3",
            "--val-fraction",
            "0.05",
            "--seed",
            "0",
            "--out",
            str(root),
            "--name",
            "test-cnn",
            "--data-dir",
            data_dir,
        ]
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(args) == 0
        _cache["root"] = root
    return _cache["root"]


def checkpoint_in(root: Path) -> Path:
    [path] = sorted(Path(root).glob("*/best.safetensors"))
    return path
