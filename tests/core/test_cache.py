"""On-disk and in-memory caches of results computed from a checkpoint."""

import numpy as np

from core.io import cache


def test_npz_is_read_back_only_for_the_version_it_was_computed_from(tmp_path):
    file = tmp_path / "sub" / "x.npz"
    cache.write_npz(file, (123, 456), xy=np.arange(6.0).reshape(3, 2))
    assert cache.read_npz(file, (123, 456))["xy"].tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert cache.read_npz(file, (123, 457)) is None  # the checkpoint changed
    assert cache.read_npz(tmp_path / "missing.npz", (123, 456)) is None
    assert [p.name for p in file.parent.iterdir()] == ["x.npz"]  # no temp file left behind


def test_compressed_npz_holds_the_same_bits_in_less_space(tmp_path):
    mostly_zeros = np.zeros((200, 300), np.float16)
    mostly_zeros[::5] = np.random.default_rng(0).random((40, 300))
    cache.write_npz(tmp_path / "plain.npz", (1, 2), x=mostly_zeros)
    cache.write_npz(tmp_path / "small.npz", (1, 2), compress=True, x=mostly_zeros)
    back = cache.read_npz(tmp_path / "small.npz", (1, 2))["x"]
    assert back.dtype == np.float16 and np.array_equal(back, mostly_zeros)
    assert (tmp_path / "small.npz").stat().st_size < 0.35 * (tmp_path / "plain.npz").stat().st_size
    assert cache.read_npz(tmp_path / "small.npz", (1, 3)) is None


def test_an_unwritable_folder_means_no_disk_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache.write_bytes(blocker / "x.bin", b"data")  # no error
    assert not (blocker / "x.bin").exists()


def test_memo_keeps_the_newest_entries():
    memo = cache.Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("a", 3)  # refreshed: now the newest
    memo.put("c", 4)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (3, None, 4)
    memo.clear()
    assert memo.get("a") is None
