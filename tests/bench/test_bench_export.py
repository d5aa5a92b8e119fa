"""The export benchmark on a few images and one model: every row is there and checks out."""

from bench import export as bench_export


def test_export_bench_quick(capsys, tmp_path):
    out = tmp_path / "export.md"
    assert bench_export.main(["--images", "300", "--archs", "lenet5", "--no-imports", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("CPU: ") and "Exports checked on 300 test images" in text
    rows = [line for line in text.splitlines() if line.startswith("| lenet5 |")]
    assert [r.split(" | ")[1] for r in rows] == ["onnx", "torchscript"]
    assert all(r.endswith("| yes |") for r in rows)
