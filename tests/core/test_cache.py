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
