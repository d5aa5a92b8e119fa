"""How training changed the network, epoch by epoch: after every epoch the first convolution's filters and a
histogram of each layer's weights and of their gradients (those of the epoch's last batch), a few kB in the
run folder (`epochs/0001.npz`, ...) and the same in the TensorBoard event files.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.base.files import write_atomic
from core.models import conv_layers, network_of

FOLDER = "epochs"
BINS = 24


@dataclass
class Histogram:
    counts: np.ndarray  # (BINS,) int64
    low: float
    high: float
    total: float  # sum of the values (TensorBoard wants it)
    squares: float  # sum of their squares

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(self.low, self.high, len(self.counts) + 1)


@dataclass
class Snapshot:
    epoch: int
    filters: np.ndarray | None  # the first convolution's weights (out, in, k, k), None without one
    weights: dict[str, Histogram] = field(default_factory=dict)  # layer name -> histogram of its weights
    gradients: dict[str, Histogram] = field(default_factory=dict)  # layer name -> of their last gradients


def layers(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every convolution and linear layer's weight, by layer name, in forward order."""
    return {
        name: m.weight
        for name, m in network_of(model).named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight is not None
    }


def _histogram(values: torch.Tensor) -> Histogram:
    v = values.detach().float().flatten().cpu()
    low, high = float(v.min()), float(v.max())
    if high <= low:
        high = low + 1e-6
    counts = torch.histc(v, BINS, low, high).cpu().numpy().astype(np.int64)
    return Histogram(counts, low, high, float(v.sum()), float((v * v).sum()))


def take(model: nn.Module, epoch: int) -> Snapshot:
    """The network's state now: its first filters, and histograms of weights and (where present) gradients."""
    network = network_of(model)
    first = conv_layers(network)[:1]
    filters = None
    if first:
        filters = network.get_submodule(first[0]).weight.detach().float().cpu().numpy()
    snapshot = Snapshot(epoch, filters)
    for name, weight in layers(network).items():
        snapshot.weights[name] = _histogram(weight)
        if weight.grad is not None:
            snapshot.gradients[name] = _histogram(weight.grad)
    return snapshot


def path(run_dir, epoch: int) -> Path:
    return Path(run_dir) / FOLDER / f"{epoch:04d}.npz"


def save(run_dir, snapshot: Snapshot) -> Path:
    """Write one epoch's snapshot atomically (a resumed run rewrites the epochs it trains again)."""
    import io

    arrays = {"epoch": np.array(snapshot.epoch)}
    if snapshot.filters is not None:
        arrays["filters"] = snapshot.filters.astype(np.float16)
    for kind, found in (("weights", snapshot.weights), ("gradients", snapshot.gradients)):
        arrays[f"{kind}_names"] = np.array(list(found), dtype=str)
        arrays[f"{kind}_counts"] = np.array([h.counts for h in found.values()], np.int32).reshape(len(found), BINS)
        arrays[f"{kind}_stats"] = np.array(
            [[h.low, h.high, h.total, h.squares] for h in found.values()], np.float64
        ).reshape(len(found), 4)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    target = path(run_dir, snapshot.epoch)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, buffer.getvalue())
    return target


def record(run_dir, epoch: int, model: nn.Module, tensorboard=None) -> Snapshot:
    """Take, save and (given a core.training.tensorboard_log.TensorBoardLog) log one epoch's snapshot."""
    snapshot = take(model, epoch)
    save(run_dir, snapshot)
    if tensorboard is not None:
        tensorboard.snapshot(snapshot)
    return snapshot


def load(file) -> Snapshot | None:
    """One saved snapshot, or None for a file that is missing or unreadable (a run still writing it)."""
    try:
        with np.load(file) as z:
            snapshot = Snapshot(int(z["epoch"]), z["filters"].astype(np.float32) if "filters" in z else None)
            for kind in ("weights", "gradients"):
                found = getattr(snapshot, kind)
                for name, counts, stats in zip(z[f"{kind}_names"], z[f"{kind}_counts"], z[f"{kind}_stats"]):
                    found[str(name)] = Histogram(counts.astype(np.int64), *map(float, stats))
            return snapshot
    except (OSError, ValueError, KeyError):
        return None


def read(run_dir) -> list[Snapshot]:
    """Every recorded epoch of a run, in order (empty for a run trained before they were recorded)."""
    folder = Path(run_dir) / FOLDER
    found = [load(f) for f in sorted(folder.glob("[0-9]*.npz"))] if folder.is_dir() else []
    return [s for s in found if s is not None]
