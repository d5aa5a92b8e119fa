"""torchvision's download path, served from a local HTTP server on loopback with the genuine files."""

import functools
import http.server
import threading
from pathlib import Path

import pytest
from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST
from torchvision.datasets.utils import check_md5

from core.base.errors import DatasetMissing
from core.data import dataset
from tests.conftest import CANDIDATES


def _original_gz_dir() -> Path | None:
    """A folder with the upstream .gz files (Debian's have other gzip headers, so other md5s)."""
    for candidate in CANDIDATES:
        found = candidate and dataset.find_files(candidate)
        if not found:
            continue
        raw = Path(found["train_images"]).parent
        if all(
            (raw / name).is_file() and check_md5(str(raw / name), md5)
            for name, md5 in TorchvisionFashionMNIST.resources
        ):
            return raw
    return None


@pytest.fixture
def mirror():
    raw = _original_gz_dir()
    if raw is None:
        pytest.skip("needs the upstream .gz files (torchvision checks their md5)")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(raw))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_download_fills_an_empty_data_dir(tmp_path, mirror, monkeypatch):
    monkeypatch.delenv("FMNIST_NO_DOWNLOAD", raising=False)
    monkeypatch.setattr(TorchvisionFashionMNIST, "mirrors", [mirror])
    loaded = dataset.load(tmp_path, allow_download=True)
    assert (tmp_path / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    assert loaded.train_images.shape == (60000, 28, 28)
    assert loaded.test_labels[:3].tolist() == [9, 2, 1]


def test_failed_download_says_how_to_get_the_data(tmp_path, monkeypatch):
    monkeypatch.delenv("FMNIST_NO_DOWNLOAD", raising=False)
    monkeypatch.setattr(TorchvisionFashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(DatasetMissing) as e:
        dataset.load(tmp_path, allow_download=True)
    assert str(e.value).startswith(f"Fashion-MNIST not found (download into {tmp_path} failed: ")
    assert "apt-get install dataset-fashion-mnist" in str(e.value)
