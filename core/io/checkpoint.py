"""Save and load checkpoints: safetensors weights plus JSON metadata in the same file. No pickle."""

import functools
import importlib.metadata
import json
import platform
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from torch import nn

from core.base.errors import CheckpointError, StudioError
from core.data.classes import CLASS_NAMES, MEAN, STD
from core.models import build, fast_layout, get, set_flip_averaging

FORMAT = "fashion-mnist-studio/1"
MAX_BYTES = 200 * 1024 * 1024


@dataclass
class LoadedModel:
    """A model ready for inference (eval mode) with what its checkpoint says about it."""

    model: nn.Module
    arch: str
    settings: dict
    metadata: dict
    path: Path

    @property
    def name(self) -> str:
        return self.metadata.get("name") or self.path.stem

    @property
    def display_name(self) -> str:
        return get(self.arch).display_name


@functools.cache
def versions() -> dict:
    """Versions recorded in each checkpoint; torchvision's from its package metadata (importing it takes 0.4 s)."""
    try:
        vision = importlib.metadata.version("torchvision")
    except importlib.metadata.PackageNotFoundError:
        vision = None
    return {"python": platform.python_version(), "torch": torch.__version__, "torchvision": vision}


def save(path, model: nn.Module, arch: str, settings: dict, metadata: dict, half: bool = False) -> Path:
    """Write weights and metadata atomically (a partial file never replaces a good one)."""
    path = Path(path)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    meta = {
        "format": FORMAT,
        "arch": arch,
        "arch_settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
        "normalization": {"mean": MEAN, "std": STD},
        "class_names": list(CLASS_NAMES),
        "dtype": "float16" if half else "float32",
        "versions": dict(versions()),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **metadata,
    }
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(state, str(tmp), metadata={"studio": json.dumps(meta)})
        tmp.replace(path)
    except OSError as e:
        raise StudioError(f"cannot write checkpoint {path}: {e.strerror or e}.") from None
    return path


def read_metadata(path) -> dict:
    """The metadata dict of a checkpoint, without loading its weights."""
    path = Path(path)
    _check_file(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get("studio")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path.name}: not a readable safetensors checkpoint ({_first_line(e)}).") from None
    if raw is None:
        raise CheckpointError(
            f"{path.name}: a safetensors file but not a Fashion-MNIST Studio checkpoint (no metadata)."
        )
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise CheckpointError(f"{path.name}: checkpoint metadata is corrupt (not JSON).") from None
    if meta.get("format") != FORMAT or "arch" not in meta:
        raise CheckpointError(f"{path.name}: unknown checkpoint format {meta.get('format')!r}.")
    return meta


def load(path, device="cpu") -> LoadedModel:
    """Build the recorded architecture and load the weights; every failure is a CheckpointError."""
    path = Path(path)
    meta = read_metadata(path)
    try:
        arch = get(meta["arch"])
        settings = arch.settings(_tuples(meta.get("arch_settings", {})))
    except StudioError as e:
        raise CheckpointError(f"{path.name}: {e}") from None
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path.name}: weights are corrupt or truncated ({_first_line(e)}).") from None
    model = build(meta["arch"], settings)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        what = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise CheckpointError(f"{path.name}: weights do not match {meta['arch']} ({what}).")
    for key, value in expected.items():
        if state[key].shape != value.shape:
            raise CheckpointError(
                f"{path.name}: weights do not match {meta['arch']} ({key} is {tuple(state[key].shape)}, "
                f"expected {tuple(value.shape)})."
            )
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    model.to(device, memory_format=fast_layout(model, device)).eval()
    set_flip_averaging(model, predicts_with_flip(meta))
    return LoadedModel(model, meta["arch"], settings, meta, path)


def predicts_with_flip(metadata: dict) -> bool:
    """Whether the checkpoint's model predicts with test-time flip (recorded in its training config)."""
    config = metadata.get("config")
    return isinstance(config, dict) and config.get("test_time_flip") is True


def update_metadata(path, **changes) -> dict:
    """Rewrite a checkpoint with some metadata fields changed (weights untouched, atomic); returns the metadata."""
    path = Path(path)
    meta = {**read_metadata(path), **changes}
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path.name}: weights are corrupt or truncated ({_first_line(e)}).") from None
    tmp = path.with_name(path.name + ".tmp")
    try:
        save_file(state, str(tmp), metadata={"studio": json.dumps(meta)})
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StudioError(f"cannot write checkpoint {path}: {e.strerror or e}.") from None
    return meta


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}.")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise CheckpointError(f"{path.name}: {size / 1e6:.0f} MB is too large for a checkpoint.")
    if size < 8:
        raise CheckpointError(f"{path.name}: truncated ({size} bytes).")


def _tuples(settings: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}


def _first_line(e: Exception) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:120]


def command_line() -> str:
    return " ".join(["python -m core.train", *sys.argv[1:]])
