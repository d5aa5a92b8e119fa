"""The idx reader and the dataset locator on small synthetic files written to a temp dir."""

import gzip
import struct

import numpy as np
import pytest

from core.base.errors import DatasetMissing, StudioError
from core.data import dataset
from core.data.idx import read_images, read_labels, write_idx


def _write_set(folder, n_train=30, n_test=10, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.arange(n_test, dtype=np.uint8) % 10,
    }
    for name, array in arrays.items():
        write_idx(folder / (name + (".gz" if gz else "")), array)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("layout", ["flat", "torchvision"])
def test_loads_both_layouts_gzipped_or_not(tmp_path, gz, layout):
    folder = tmp_path if layout == "flat" else tmp_path / "FashionMNIST" / "raw"
    arrays = _write_set(folder, gz=gz)
    loaded = dataset.load(tmp_path, allow_download=False)
    assert loaded.train_images.shape == (30, 28, 28)
    assert loaded.test_images.shape == (10, 28, 28)
    assert np.array_equal(loaded.train_images.numpy(), arrays["train-images-idx3-ubyte"])
    assert loaded.train_labels.tolist() == [i % 10 for i in range(30)]
    assert loaded.source == str(folder)


def test_wrong_magic_names_file_and_problem(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(struct.pack(">IIII", 0x0801, 1, 28, 28) + bytes(784))
    with pytest.raises(StudioError) as e:
        read_images(path)
    assert str(e.value) == f"{path}: wrong magic number 0x00000801, expected 0x00000803 for images."


def test_truncated_images(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">IIII", 0x0803, 3, 28, 28) + bytes(784 * 2))
    with pytest.raises(StudioError) as e:
        read_images(path)
    assert (
        str(e.value)
        == f"{path}: truncated or padded: {16 + 784 * 2} bytes, header promises {16 + 784 * 3} for 3 images."
    )


def test_truncated_gzip_stream(tmp_path):
    good = tmp_path / "good.gz"
    write_idx(good, np.zeros((5, 28, 28), np.uint8))
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    bad.write_bytes(good.read_bytes()[:-12])
    with pytest.raises(StudioError, match=r"train-images-idx3-ubyte.gz: cannot read \("):
        read_images(bad)


def test_header_too_short(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(StudioError) as e:
        read_labels(path)
    assert str(e.value) == f"{path}: truncated: 2 bytes, shorter than the 8-byte idx header."


def test_wrong_image_size(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(struct.pack(">IIII", 0x0803, 1, 32, 32) + bytes(1024))
    with pytest.raises(StudioError, match=r"images are 32x32, expected 28x28\.$"):
        read_images(path)


def test_label_out_of_range(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.array([1, 2, 12], np.uint8))
    with pytest.raises(StudioError) as e:
        read_labels(path)
    assert str(e.value) == f"{path}: label 12 out of range 0-9."


def test_mismatched_counts(tmp_path):
    _write_set(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(29, np.uint8))
    with pytest.raises(StudioError) as e:
        dataset.load(tmp_path, allow_download=False)
    assert (
        str(e.value) == f"{tmp_path / 'train-images-idx3-ubyte'}: 30 images but train-labels-idx1-ubyte has 29 labels."
    )


def test_missing_dataset_names_the_three_ways(tmp_path):
    with pytest.raises(DatasetMissing) as e:
        dataset.load(tmp_path / "nowhere", allow_download=False)
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(f"Fashion-MNIST not found in {tmp_path / 'nowhere'}.")
    for way in ("apt-get install dataset-fashion-mnist", "FMNIST_DATA_DIR", "torchvision download"):
        assert way in message


def test_search_order_prefers_explicit_then_env(tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path / "env"))
    assert dataset.candidate_dirs(tmp_path / "arg") == [tmp_path / "arg"]
    assert dataset.candidate_dirs() == [tmp_path / "env"]
    monkeypatch.delenv("FMNIST_DATA_DIR")
    assert dataset.candidate_dirs() == [dataset.PROJECT_DATA_DIR, dataset.DEBIAN_DATA_DIR]
