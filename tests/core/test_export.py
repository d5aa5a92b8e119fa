"""ONNX and TorchScript exports of every shipped architecture, run by ONNX Runtime and the TorchScript
interpreter on real test images: same logits as PyTorch (1e-4), same accuracy, metadata inside."""

import json

import numpy as np
import pytest
import torch

from core.analysis import export_check
from core.base.errors import StudioError
from core.data.classes import CLASS_NAMES
from core.export import main as export_main
from core.io import checkpoint, export
from core.library.catalog import SHIPPED_DIR
from core.models import build

ARCHS = ["mlp", "simple_cnn", "two_conv", "lenet5", "resnet18"]
N = 2000


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("arch", ARCHS)
def test_export_matches_pytorch_on_real_images(arch, fmt, fmnist):
    path = SHIPPED_DIR / f"{arch}.safetensors"
    data = export.export_bytes(path, fmt)
    result = export_check.check(path, fmt, fmnist.test_images[:N], fmnist.test_labels[:N], data)
    assert result.count == N
    assert result.max_abs_diff < 1e-4
    assert result.accuracy_exported == result.accuracy_pytorch > 0.85
    assert result.agreement == 1.0


@pytest.mark.parametrize("arch", ["two_conv", "resnet18"])
def test_onnx_carries_metadata_and_takes_any_batch(arch, fmnist):
    path = SHIPPED_DIR / f"{arch}.safetensors"
    data = export.export_bytes(path, "onnx")
    meta = export.onnx_metadata(data)
    assert json.loads(meta["class_names"]) == list(CLASS_NAMES)
    assert meta["architecture"] == arch
    assert float(meta["test_accuracy"]) == pytest.approx(checkpoint.read_metadata(path)["metrics"]["test_accuracy"])
    session = export.onnx_session(data)
    [inp] = session.get_inputs()
    assert (inp.name, inp.type, inp.shape[1:]) == ("pixels", "tensor(float)", [1, 28, 28])
    assert isinstance(inp.shape[0], str)  # a symbolic batch dimension
    for batch in (1, 7, 300):
        out = export.run_onnx(session, export.pixels(fmnist.test_images[:batch]))
        assert out.shape == (batch, 10) and out.dtype == np.float32
    import onnx

    assert [o.version for o in onnx.load_from_string(data).opset_import if o.domain == ""] == [export.OPSET]


def test_torchscript_carries_metadata_and_takes_any_batch(fmnist):
    path = SHIPPED_DIR / "lenet5.safetensors"
    module, extra = export.load_torchscript(export.export_bytes(path, "torchscript"))
    assert json.loads(extra["class_names"]) == list(CLASS_NAMES)
    assert extra["architecture"] == "lenet5"
    assert float(extra["test_accuracy"]) == pytest.approx(checkpoint.read_metadata(path)["metrics"]["test_accuracy"])
    for batch in (1, 33):
        x = torch.from_numpy(export.pixels(fmnist.test_images[:batch]))
        assert module(x).shape == (batch, 10)


def test_half_checkpoint_exports_in_float32_and_eval_mode(tmp_path, fmnist):
    torch.manual_seed(0)
    model = build("two_conv", {"dropout": 0.5})
    model.train()
    for m in model.modules():  # batch norm statistics that differ from the batch's own
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    path = checkpoint.save(
        tmp_path / "half.safetensors",
        model,
        "two_conv",
        {"width": 1, "batch_norm": True, "dropout": 0.5},
        {"name": "half"},
        half=True,
    )
    assert checkpoint.read_metadata(path)["dtype"] == "float16"
    images, labels = fmnist.test_images[:200], fmnist.test_labels[:200]
    for fmt in ("onnx", "torchscript"):
        data = export.export_bytes(path, fmt)
        result = export_check.check(path, fmt, images, labels, data)
        assert result.max_abs_diff < 1e-4, fmt  # dropout off and running statistics used, as in eval mode
    import onnx

    proto = onnx.load_from_string(export.export_bytes(path, "onnx"))
    weights = [t for t in proto.graph.initializer if len(t.dims) > 1]
    assert weights and {t.data_type for t in weights} == {onnx.TensorProto.FLOAT}
    assert onnx.TensorProto.FLOAT16 not in {t.data_type for t in proto.graph.initializer}
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT


def test_export_is_cached_and_rebuilt_when_the_checkpoint_changes(tmp_path):
    path = tmp_path / "m.safetensors"
    model = build("mlp", {"hidden": (16,)})
    checkpoint.save(path, model, "mlp", {"hidden": [16], "dropout": 0.2, "batch_norm": False}, {"name": "m"})
    first = export.export_bytes(path, "torchscript")
    assert list(tmp_path.glob("*.pt")) == []  # a loose checkpoint's exports are cached outside its folder
    assert export.export_bytes(path, "torchscript") == first
    with torch.no_grad():
        model.head.weight.add_(1.0)
    checkpoint.save(path, model, "mlp", {"hidden": [16], "dropout": 0.2, "batch_norm": False}, {"name": "m"})
    second, _ = export.load_torchscript(export.export_bytes(path, "torchscript"))
    x = torch.rand(3, 1, 28, 28)
    expected = export.prepare(checkpoint.load(path))(x)
    assert torch.allclose(second(x), expected, atol=1e-5)


def test_unknown_format_is_refused():
    with pytest.raises(StudioError, match="unknown export format 'tflite'; choose one of: onnx, torchscript."):
        export.export_bytes(SHIPPED_DIR / "mlp.safetensors", "tflite")


def test_cli_writes_and_checks(tmp_path, data_dir, capsys):
    out = tmp_path / "lenet5.onnx"
    assert (
        export_main(
            [
                str(SHIPPED_DIR / "lenet5.safetensors"),
                "--format",
                "onnx",
                "--out",
                str(out),
                "--check",
                "500",
                "--data-dir",
                data_dir,
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert f"wrote {out}" in err and "checked on 500 test images" in err
    assert export.onnx_metadata(out.read_bytes())["architecture"] == "lenet5"


def test_cli_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x80\x04not a checkpoint at all")
    assert export_main([str(bad), "--format", "onnx", "--out", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad.safetensors: ") and err.count("\n") == 1
    assert not (tmp_path / "x.onnx").exists()
    assert (
        export_main([str(tmp_path / "missing.safetensors"), "--format", "torchscript", "--out", str(tmp_path / "x.pt")])
        == 2
    )
    assert capsys.readouterr().err == f"error: checkpoint not found: {tmp_path / 'missing.safetensors'}.\n"
