"""Peak RSS of an app-like process: streamlit and the dashboard's loading path imported, the dataset and every
shipped model loaded, plus a fresh preset-sized checkpoint for each architecture not shipped.
Run as a child: python -m bench.memory [--shipped DIR] prints one JSON line."""

import core  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch loads)

# isort: split
import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path


def vm_hwm_mb() -> float | None:
    """Peak resident set from /proc (Linux), in MB; None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb() -> float:
    peak = vm_hwm_mb()
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fresh_checkpoints(folder: Path, archs) -> None:
    import torch

    from bench.models import preset_settings
    from core.io import checkpoint
    from core.models import build

    torch.manual_seed(0)
    for arch in archs:
        settings = preset_settings(arch)
        checkpoint.save(folder / f"{arch}.safetensors", build(arch, settings), arch, settings, {"name": arch})


def child(shipped: str | None) -> dict:
    try:
        import streamlit  # noqa: F401  (the app imports it; it is a large part of the footprint)

        import dashboard.common  # noqa: F401

        app = True
    except ImportError:
        app = False
    from bench.models import missing_archs
    from core.data import dataset
    from core.io import checkpoint
    from core.library import catalog

    data = dataset.load(allow_download=False)
    imported = rss_mb()
    with tempfile.TemporaryDirectory(prefix="bench-ckpt-") as tmp:
        entries = catalog.shipped_models(shipped)
        fresh = missing_archs(entries)
        _fresh_checkpoints(Path(tmp), fresh)
        entries += catalog.shipped_models(tmp)
        models = [checkpoint.load(e.path) for e in entries]
    return {
        "peak_mb": rss_mb(),
        "before_models_mb": imported,
        "models": [m.arch for m in models],
        "fresh": fresh,
        "app_imports": app,
        "dataset_images": len(data.train_images) + len(data.test_images),
    }


def measure(shipped: str | None = None) -> dict:
    """Run the child in a fresh interpreter and return its JSON."""
    cmd = [sys.executable, "-m", "bench.memory"] + (["--shipped", shipped] if shipped else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--shipped", help="folder of shipped checkpoints (default checkpoints/)")
    print(json.dumps(child(p.parse_args().shipped)))
