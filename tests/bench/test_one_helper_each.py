"""The benchmarks share one percentile (on the 0-100 scale) and one description of the CPU (core's)."""

from pathlib import Path

import pytest

from bench import classroom, timing
from core.base import device

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_percentile_is_on_the_0_to_100_scale_linear_between_ranks():
    assert timing.percentile(list(range(101)), 95) == 95.0
    assert timing.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert timing.percentile([1.0, 2.0], 95) == pytest.approx(1.95)
    with pytest.raises(ValueError, match=r"^percentile: q is on the 0-100 scale \(1-99\), got 0\.95\.$"):
        timing.percentile([1.0, 2.0], 0.95)


def test_the_classroom_report_uses_the_same_percentile():
    assert classroom.percentile is timing.percentile
    times = [float(t) for t in range(1, 21)]  # 1..20 s: p95 19.05 (nearest rank would say 19 or 20)
    result = {"users": 1, "seconds": 30.0, "times": {"Home": times}, "errors": [], "client_cpu": 1.0}
    text = classroom.report(result)
    assert "| Home | 20 | 10.50 | 19.05 | 20.00 | ≤ 10 | FAIL |" in text
    assert result["worst_p95"] == pytest.approx(19.05)


CPUINFO = """processor\t: 0
model name\t: Example CPU 9000
flags\t\t: fpu sse2 avx2 avx512f avx512_bf16
"""


def test_the_cpu_is_described_from_cpuinfo(tmp_path, monkeypatch):
    info = tmp_path / "cpuinfo"
    info.write_text(CPUINFO)
    monkeypatch.setattr(device, "CPUINFO", str(info))
    monkeypatch.setattr(device.os, "cpu_count", lambda: 8)
    assert device.describe_cpu() == "Example CPU 9000 (AVX2, AVX-512, AVX-512 BF16; no AMX), 8 cores"
    assert device.cpu_has_bf16()
    monkeypatch.setattr(device, "CPUINFO", str(tmp_path / "missing"))
    monkeypatch.setattr(device.platform, "processor", lambda: "")
    monkeypatch.setattr(device.platform, "machine", lambda: "arm64")
    assert device.describe_cpu() == "arm64 (no AVX2, no AVX-512, no AMX), 8 cores"
    assert device.cpu_flags() == set() and not device.cpu_has_bf16()


def test_no_benchmark_reads_the_cpu_itself():
    own_ways = ("lscpu", "/proc/cpuinfo", "platform.processor", "def percentile")
    for path in sorted(BENCH.glob("*.py")):
        allowed = {"def percentile"} if path.name == "timing.py" else set()
        text = path.read_text()
        assert [w for w in own_ways if w in text and w not in allowed] == [], path.name


def test_the_classroom_reads_its_test_image_where_the_app_finds_the_dataset(data_dir, fmnist, monkeypatch):
    import io

    from PIL import Image

    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    shown = Image.open(io.BytesIO(classroom.test_image_png(1)))
    expected = Image.fromarray(fmnist.test_images[1].numpy()).resize((112, 112))
    assert shown.size == (112, 112) and shown.tobytes() == expected.tobytes()
    monkeypatch.setenv("FMNIST_DATA_DIR", str(BENCH / "no-such-folder"))
    with pytest.raises(SystemExit, match="test images were not found"):
        classroom.test_image_png(1)


def test_one_list_of_data_folders():
    from core.data import dataset

    root, debian = BENCH.parent, "/".join(("usr", "share", "datasets"))  # spelled so that this file does not match
    naming = sorted(
        str(p.relative_to(root))
        for folder in ("core", "dashboard", "bench", "scripts", "tests")
        for p in (root / folder).rglob("*.py")
        if debian in p.read_text()
    )
    assert naming == ["core/data/dataset.py"]
    assert dataset.DATA_DIRS == (dataset.PROJECT_DATA_DIR, dataset.DEBIAN_DATA_DIR)
