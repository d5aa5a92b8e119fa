"""Checkpoints round-trip exactly and refuse anything that is not one, never executing code."""

import json
import os
import pickle

import pytest
import torch
from safetensors.torch import save_file

from core.base.errors import CheckpointError
from core.io import checkpoint
from core.models import build, get


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = build("lenet5").eval()
    path = checkpoint.save(
        tmp_path / "m.safetensors",
        model,
        "lenet5",
        {"activation": "tanh"},
        {"name": "demo", "metrics": {"test_accuracy": 0.5}},
    )
    return model, path


def test_round_trip_gives_identical_predictions(saved):
    model, path = saved
    loaded = checkpoint.load(path)
    x = torch.randn(16, 1, 28, 28)
    saved_state, loaded_state = model.state_dict(), loaded.model.state_dict()
    assert list(saved_state) == list(loaded_state)
    assert all(torch.equal(saved_state[k], loaded_state[k]) for k in saved_state)
    with torch.no_grad():  # the loaded copy runs channels-last convolutions: equal up to float rounding
        torch.testing.assert_close(model(x), loaded.model(x), rtol=0, atol=1e-5)
    assert loaded.arch == "lenet5" and loaded.name == "demo"
    meta = loaded.metadata
    assert meta["class_names"][6] == "Shirt"
    assert meta["normalization"] == {"mean": 0.2860, "std": 0.3530}
    assert meta["versions"]["torch"] == torch.__version__
    assert meta["metrics"]["test_accuracy"] == 0.5


def test_half_precision_weights_load_as_float32(tmp_path):
    model = build("simple_cnn").eval()
    path = checkpoint.save(tmp_path / "h.safetensors", model, "simple_cnn", {}, {}, half=True)
    loaded = checkpoint.load(path)
    assert loaded.metadata["dtype"] == "float16"
    assert next(loaded.model.parameters()).dtype == torch.float32
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model(x), loaded.model(x), atol=1e-2)


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch /tmp/studio-pwned",))


def test_crafted_pickle_is_refused_and_never_run(tmp_path):
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"model": Exploit()}))
    if os.path.exists("/tmp/studio-pwned"):
        os.remove("/tmp/studio-pwned")
    for read in (checkpoint.load, checkpoint.read_metadata):
        with pytest.raises(CheckpointError) as e:
            read(path)
        assert str(e.value) == (
            "evil.safetensors: this is a PyTorch pickle (torch.save), not safetensors; the studio never loads "
            "pickles because they can run code. Save it with safetensors (the studio's own checkpoints are)."
        )
    assert not os.path.exists("/tmp/studio-pwned")


def test_truncated_file(saved, tmp_path):
    _, path = saved
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"^cut.safetensors: "):
        checkpoint.load(cut)


def test_foreign_safetensors_file(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(path))
    with pytest.raises(CheckpointError) as e:
        checkpoint.load(path)
    assert (
        str(e.value)
        == "other.safetensors: a safetensors file but not a Fashion-MNIST Studio checkpoint (no studio metadata)."
    )


def test_weights_that_do_not_match_the_architecture(tmp_path):
    model = build("simple_cnn", {"width": 2})
    path = checkpoint.save(tmp_path / "x.safetensors", model, "simple_cnn", {"width": 2}, {})
    # Rewrite the metadata to claim the default width: the shapes no longer fit.
    state = dict(model.state_dict())
    meta = checkpoint.read_metadata(path)
    meta["arch_settings"] = {"width": 1, "batch_norm": False, "dropout": 0.0}
    save_file(state, str(path), metadata={"studio": json.dumps(meta)})
    with pytest.raises(CheckpointError) as e:
        checkpoint.load(path)
    assert (
        str(e.value)
        == "x.safetensors: weights do not match simple_cnn: conv1.0.weight is [12, 1, 5, 5], expected [6, 1, 5, 5]."
    )


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError) as e:
        checkpoint.load(tmp_path / "gone.safetensors")
    assert str(e.value) == f"checkpoint not found: {tmp_path / 'gone.safetensors'}."


def test_unwritable_directory_has_a_clear_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    from core.base.errors import StudioError

    with pytest.raises(StudioError, match=r"^cannot write checkpoint .*/file/sub/m.safetensors: "):
        checkpoint.save(blocker / "sub" / "m.safetensors", build("mlp"), "mlp", {}, {})


@pytest.mark.parametrize("arch, conv_weights", [("simple_cnn", 2), ("mlp", 0)])
def test_loaded_conv_models_run_channels_last_on_cpu(tmp_path, arch, conv_weights):
    path = checkpoint.save(tmp_path / "m.safetensors", build(arch), arch, get(arch).settings({}), {})
    weights = [p for p in checkpoint.load(path).model.parameters() if p.dim() == 4]
    assert len(weights) == conv_weights
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
    if weights:  # conv2's (16, 6, 5, 5) weight: channels-last is not the usual layout there
        assert not weights[1].is_contiguous()
