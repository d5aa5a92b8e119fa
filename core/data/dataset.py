"""Find Fashion-MNIST on disk (or download it), load it as uint8 tensors, split it."""

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from core.base.errors import DatasetMissing, StudioError
from core.data.idx import read_images, read_labels

PROJECT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEBIAN_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")
DATA_DIRS = (PROJECT_DATA_DIR, DEBIAN_DATA_DIR)  # where to look, in order, unless a folder is named
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
HOW_TO_GET = (
    "Fashion-MNIST not found{where}. Get it one of three ways: "
    "`apt-get install dataset-fashion-mnist` (Debian), "
    "put the four idx files in data/ (or pass --data-dir / set FMNIST_DATA_DIR), "
    "or let torchvision download it (needs internet)."
)


@dataclass
class FashionMNIST:
    """The 70,000 images as uint8 tensors (N, 28, 28) and their int64 labels."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def find_files(folder) -> dict[str, Path] | None:
    """The four idx files in `folder`, flat or in torchvision's FashionMNIST/raw/ layout, or None."""
    folder = Path(folder)
    for candidate in (folder, folder / "FashionMNIST" / "raw", folder / "raw"):
        found = {key: _find_file(candidate, stem) for key, stem in FILES.items()}
        if all(found.values()):
            return found
    return None


def candidate_dirs(data_dir=None) -> list[Path]:
    """Where to look: the named folder (argument, then FMNIST_DATA_DIR) alone, else DATA_DIRS in order."""
    explicit = data_dir or os.environ.get("FMNIST_DATA_DIR")
    if explicit:
        return [Path(explicit)]
    return list(DATA_DIRS)


def locate(data_dir=None) -> dict[str, Path] | None:
    """The files of the first place that holds all four, or None."""
    for folder in candidate_dirs(data_dir):
        found = find_files(folder)
        if found:
            return found
    return None


def download(root) -> dict[str, Path]:
    """Download with torchvision (it shows a progress bar) into root/FashionMNIST/raw/."""
    from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        TorchvisionFashionMNIST(str(root), train=True, download=True)
        TorchvisionFashionMNIST(str(root), train=False, download=True)
    except Exception as e:  # network errors come in many types
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DatasetMissing(HOW_TO_GET.format(where=f" (download into {root} failed: {reason})")) from None
    found = find_files(root)
    if not found:
        raise DatasetMissing(HOW_TO_GET.format(where=f" (download into {root} left no idx files)"))
    return found


def load(data_dir=None, allow_download=True) -> FashionMNIST:
    """Load the dataset from the first place that has it, downloading as a last resort
    (not when FMNIST_NO_DOWNLOAD=1, for offline machines)."""
    files = locate(data_dir)
    if files is None:
        if not allow_download or os.environ.get("FMNIST_NO_DOWNLOAD") == "1":
            looked = ", ".join(str(d) for d in candidate_dirs(data_dir))
            raise DatasetMissing(HOW_TO_GET.format(where=f" in {looked}"))
        files = download(candidate_dirs(data_dir)[0])
    data = FashionMNIST(
        train_images=read_images(files["train_images"]),
        train_labels=read_labels(files["train_labels"]),
        test_images=read_images(files["test_images"]),
        test_labels=read_labels(files["test_labels"]),
        source=str(files["train_images"].parent),
    )
    for split in ("train", "test"):
        images, labels = getattr(data, f"{split}_images"), getattr(data, f"{split}_labels")
        if len(images) != len(labels):
            raise StudioError(
                f"{files[split + '_images']}: {len(images)} images but "
                f"{files[split + '_labels'].name} has {len(labels)} labels."
            )
    return data


def stratified_split(labels: torch.Tensor, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded split of indices into (train, validation) with each class in the same proportion."""
    if not 0 <= val_fraction < 1:
        raise StudioError(f"validation fraction must be in [0, 1), got {val_fraction}.")
    generator = torch.Generator().manual_seed(seed)
    train_parts, val_parts = [], []
    for c in labels.unique(sorted=True).tolist():
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        n_val = round(len(idx) * val_fraction)
        val_parts.append(idx[:n_val])
        train_parts.append(idx[n_val:])
    return torch.cat(train_parts).sort().values, torch.cat(val_parts).sort().values


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) or float [0,1] images -> normalised float (N, 1, 28, 28)."""
    from core.data.classes import MEAN, STD

    x = images.float()
    if images.dtype == torch.uint8:
        x = x / 255.0
    if x.dim() == 3:
        x = x.unsqueeze(1)
    return (x - MEAN) / STD
