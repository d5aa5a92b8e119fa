"""The usual way, as in the seeds' notebooks: torchvision dataset, per-sample PIL transforms, DataLoader,
Adam 1e-3, a plain loop with loss.item() per batch. Also runnable as a script for the whole-process timing:
python -m bench.usual_way --arch simple_cnn --epochs 1 --batch-size 64 [--limit N]
python -m bench.usual_way --throughput 60000 --batch-size 64     # images/s of a second epoch, JSON
python -m bench.usual_way --race 600 --targets 0.9 0.91          # seconds to each test accuracy, JSON

torch is imported before `core`, so the environment decides how idle OpenMP threads wait: run it with
OMP_WAIT_POLICY=PASSIVE for the project's policy, or without it for the loop exactly as tutorials write it.
"""

import torch  # noqa: I001  (first: OpenMP reads its settings as torch loads, before core could set them)

import argparse
import gzip
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

from core.data.dataset import FILES, locate
from core.models import build

TRANSFORM = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
_ROOT = None


def torchvision_root(data_dir=None) -> str:
    """A root with FashionMNIST/raw/ holding the four uncompressed idx files (symlinked or unzipped)."""
    global _ROOT
    files = locate(data_dir)
    if files is None:
        raise FileNotFoundError("Fashion-MNIST not found: set FMNIST_DATA_DIR")
    folder = files["train_images"].parent
    if (
        folder.name == "raw"
        and folder.parent.name == "FashionMNIST"
        and all((folder / stem).is_file() for stem in FILES.values())
    ):
        return str(folder.parent.parent)
    if _ROOT is None:
        _ROOT = Path(tempfile.mkdtemp(prefix="fmnist-usual-"))
        raw = _ROOT / "FashionMNIST" / "raw"
        raw.mkdir(parents=True)
        for key, stem in FILES.items():
            source = files[key]
            if source.suffix == ".gz":
                with gzip.open(source) as f, open(raw / stem, "wb") as out:
                    shutil.copyfileobj(f, out)
            else:
                (raw / stem).symlink_to(source)
    return str(_ROOT)


def datasets_(data_dir=None):
    root = torchvision_root(data_dir)
    return (
        datasets.FashionMNIST(root, train=True, transform=TRANSFORM),
        datasets.FashionMNIST(root, train=False, transform=TRANSFORM),
    )


def loader(dataset, batch_size: int, limit: int | None = None, shuffle: bool = True) -> DataLoader:
    if limit:
        dataset = Subset(dataset, range(min(limit, len(dataset))))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def train_epoch(model, train_loader, optimizer, device="cpu") -> float:
    """One epoch, the notebook way; returns the mean loss."""
    model.train()
    total, count = 0.0, 0
    for images, labels in train_loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / max(count, 1)


def evaluate(model, test_loader, device="cpu") -> float:
    """Test accuracy, the notebook way."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in test_loader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(1) == labels).sum().item()
            total += len(labels)
    return correct / max(total, 1)


def images_per_s(arch: str, batch_size: int, n: int, train_set, device="cpu") -> float:
    """Images/s of the second of two epochs over the first n images (the first one warms up)."""
    torch.manual_seed(0)
    model = build(arch).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_loader = loader(train_set, batch_size, n)
    train_epoch(model, train_loader, optimizer, device)
    _sync(device)
    start = time.perf_counter()
    train_epoch(model, train_loader, optimizer, device)
    _sync(device)
    return len(train_loader.dataset) / (time.perf_counter() - start)


def time_to_accuracy(
    targets,
    budget_s: float,
    train_set,
    test_set,
    arch="simple_cnn",
    batch_size=64,
    limit=None,
    seed=0,
    device="cpu",
    test_limit=None,
) -> dict:
    """Train the seed's way, test after each epoch; seconds of training (tests excluded) to each target."""
    torch.manual_seed(seed)
    model = build(arch).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_loader, test_loader = loader(train_set, batch_size, limit), loader(test_set, 1000, test_limit, shuffle=False)
    reached, history, trained = {}, [], 0.0
    while trained < budget_s and len(reached) < len(targets):
        start = time.perf_counter()
        train_epoch(model, train_loader, optimizer, device)
        _sync(device)
        trained += time.perf_counter() - start
        accuracy = evaluate(model, test_loader, device)
        history.append((trained, accuracy))
        for t in targets:
            if accuracy >= t and t not in reached:
                reached[t] = trained
    return {
        "reached": reached,
        "best": max(a for _, a in history),
        "epochs": len(history),
        "seconds": trained,
        "history": history,
    }


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.usual_way", description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="simple_cnn")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--limit", type=int)
    p.add_argument("--throughput", type=int, metavar="N", help="print images/s of a second epoch over N images")
    p.add_argument("--race", type=float, metavar="BUDGET_S", help="print seconds to each --targets accuracy")
    p.add_argument("--targets", type=float, nargs="+", default=[0.91])
    p.add_argument("--test-limit", type=int)
    args = p.parse_args(argv)
    torch.manual_seed(0)
    train_set, test_set = datasets_()
    if args.throughput:
        print(json.dumps(images_per_s(args.arch, args.batch_size, args.throughput, train_set)))
        return 0
    if args.race:
        result = time_to_accuracy(
            args.targets,
            args.race,
            train_set,
            test_set,
            arch=args.arch,
            batch_size=args.batch_size,
            limit=args.limit,
            test_limit=args.test_limit,
        )
        print(json.dumps({**result, "reached": list(result["reached"].items())}))
        return 0
    model = build(args.arch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_loader, test_loader = loader(train_set, args.batch_size, args.limit), loader(test_set, 1000, shuffle=False)
    for epoch in range(1, args.epochs + 1):
        loss = train_epoch(model, train_loader, optimizer)
        print(f"epoch {epoch}: loss {loss:.4f}, test accuracy {evaluate(model, test_loader):.2%}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
