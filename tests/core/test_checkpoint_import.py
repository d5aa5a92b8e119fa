"""Importing a checkpoint: a sound studio checkpoint is kept and listed as "imported"; every bad file is
refused, before anything is kept, with its own one-line message. Runs can be renamed and deleted."""

import io
import json
import pickle
import struct

import pytest
import torch

from core.base.errors import CheckpointError, StudioError
from core.io import checkpoint, checkpoint_import, runs
from core.library import catalog, imports
from core.library.catalog import SHIPPED_DIR
from core.models import build

SETTINGS = {"width": 1, "batch_norm": True, "dropout": 0.25}


def saved(tmp_path, model=None, arch="two_conv", settings=SETTINGS, name="gpu-run", half=False) -> bytes:
    torch.manual_seed(0)
    model = model if model is not None else build("two_conv", SETTINGS)
    path = checkpoint.save(
        tmp_path / "upload.safetensors",
        model,
        arch,
        settings,
        {"name": name, "metrics": {"test_accuracy": 0.9123}},
        half=half,
    )
    return path.read_bytes()


def refused(data: bytes, filename="up.safetensors") -> str:
    with pytest.raises(CheckpointError) as e:
        checkpoint_import.validate(data, filename)
    message = str(e.value)
    assert "\n" not in message
    return message


def rewrite_header(data: bytes, change) -> bytes:
    """The same file with its JSON header edited by `change` (the tensor bytes untouched)."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    change(header)
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data[8 + n :]


@pytest.fixture
def good(tmp_path):
    return saved(tmp_path)


def test_valid_checkpoint_is_imported_and_listed(good, tmp_path):
    assert checkpoint_import.validate(good)["arch"] == "two_conv"
    path = imports.import_checkpoint(good, "my model.safetensors")
    assert path.parent == runs.runs_dir() / "imported" and path.name.startswith("gpu-run-")
    [entry] = catalog.imported_models()
    assert (entry.name, entry.source, entry.arch, entry.test_accuracy) == ("gpu-run", "imported", "two_conv", 0.9123)
    assert entry in catalog.all_models() and entry.label == "gpu-run (imported) — test 91.23%"
    assert checkpoint.load(path).model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert runs.list_runs() == []  # the imported folder is not a run
    assert imports.import_checkpoint(good, "again.safetensors") == path and len(catalog.imported_models()) == 1


@pytest.mark.parametrize("arch", ["mlp", "simple_cnn", "two_conv", "lenet5", "resnet18"])
def test_every_shipped_checkpoint_is_importable(arch):
    assert checkpoint_import.validate((SHIPPED_DIR / f"{arch}.safetensors").read_bytes())["arch"] == arch


def test_half_precision_checkpoint_is_importable(tmp_path):
    assert checkpoint_import.validate(saved(tmp_path, half=True))["dtype"] == "float16"


def test_wrong_shape(tmp_path):
    data = saved(tmp_path, model=build("two_conv", {**SETTINGS, "width": 2}))
    assert (
        refused(data) == "up.safetensors: weights do not match two_conv: conv1.0.weight is [64, 1, 3, 3], "
        "expected [32, 1, 3, 3]."
    )


def test_unknown_architecture(tmp_path):
    assert refused(saved(tmp_path, arch="vit_tiny")) == (
        "up.safetensors: unknown architecture 'vit_tiny'; choose one of: linear, mlp, simple_cnn, two_conv, lenet5, resnet18, fast_cnn."
    )


def test_truncated_file(good):
    assert refused(good[:-1000]) == (
        f"up.safetensors: truncated: the tensors need {len(good) - 8 - _header_len(good):,} bytes after the header "
        f"but the file has {len(good) - 1000 - 8 - _header_len(good):,}."
    )
    assert refused(good[:200]).startswith("up.safetensors: truncated: the file ends inside its header (200 bytes")
    assert refused(good[:5]) == "up.safetensors: truncated: 5 bytes is too short for a safetensors file."


def _header_len(data: bytes) -> int:
    return struct.unpack("<Q", data[:8])[0]


def test_pickle_renamed_to_safetensors():
    buffer = io.BytesIO()
    torch.save(build("two_conv").state_dict(), buffer)
    message = (
        "model.safetensors: this is a PyTorch pickle (torch.save), not safetensors; the studio never loads "
        "pickles because they can run code. Save it with safetensors (the studio's own checkpoints are)."
    )
    assert refused(buffer.getvalue(), "model.safetensors") == message
    assert refused(pickle.dumps({"weights": [1, 2, 3]}), "model.safetensors") == message


def test_header_that_lies_about_sizes(good):
    def bigger(header):
        header["classifier.2.weight"]["shape"] = [10, 3136, 2]

    assert refused(rewrite_header(good, bigger)) == (
        "up.safetensors: the header lies about its sizes: classifier.2.weight is F32 [10, 3136, 2] (250,880 bytes) "
        "but its offsets span 125,440 bytes."
    )

    def overlapping(header):
        first = min((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0])
        begin, end = header[first]["data_offsets"]
        header[first]["data_offsets"] = [begin + 4, end + 4]

    assert "the header lies about its sizes: " in refused(rewrite_header(good, overlapping))
    assert refused(good + b"\0" * 64).endswith(f"but the file holds {len(good) - 8 - _header_len(good) + 64:,}.")


def test_other_bad_files(tmp_path, good):
    assert refused(b"just some text, certainly not weights") == (
        "up.safetensors: not a safetensors file (its first 8 bytes are not a sensible header length)."
    )
    assert refused(struct.pack("<Q", 6) + b"{oops}") == (
        "up.safetensors: not a safetensors file (its header is not JSON)."
    )
    from safetensors.torch import save

    plain = save({"w": torch.zeros(3)})
    assert refused(plain) == (
        "up.safetensors: a safetensors file but not a Fashion-MNIST Studio checkpoint (no studio metadata)."
    )
    assert refused(saved(tmp_path, settings={**SETTINGS, "width": -1})) == (
        "up.safetensors: invalid settings: two_conv: width must be a whole number (1, 2, 4, ...), got -1."
    )
    assert refused(saved(tmp_path, settings={**SETTINGS, "depth": 50})) == (
        "up.safetensors: invalid settings: two_conv has no setting 'depth' (its settings: batch_norm, dropout, width)."
    )
    huge = refused(saved(tmp_path, arch="resnet18", model=build("resnet18"), settings={"width": 10_000.0}))
    assert huge == "up.safetensors: invalid settings: resnet18: width 10000.0 is too large (at most 1)."
    nan_model = build("two_conv", SETTINGS)
    with torch.no_grad():
        nan_model.classifier[2].bias[3] = float("nan")
    assert refused(saved(tmp_path, model=nan_model)) == (
        "up.safetensors: the weights contain NaN or infinity (classifier.2.bias)."
    )


def test_too_large_is_refused_before_parsing():
    assert refused(b"\0" * (100 * 1024 * 1024 + 1)) == (
        "up.safetensors: the file is 100 MB; the limit for an imported checkpoint is 100 MB."
    )


def test_refused_files_are_not_kept(good):
    with pytest.raises(CheckpointError):
        imports.import_checkpoint(good[:-10], "bad.safetensors")
    assert imports.imported_files() == [] and catalog.imported_models() == []


def test_delete_imported(good):
    path = imports.import_checkpoint(good, "x.safetensors")
    imports.delete_imported(path)
    assert catalog.imported_models() == []
    with pytest.raises(StudioError, match=r"^upload.safetensors is not an imported checkpoint.$"):
        imports.delete_imported(SHIPPED_DIR.parent / "upload.safetensors")


def test_an_import_records_its_owner_beside_the_file(good):
    alice, bob = "a" * 64, "b" * 64  # digests of two browsers' secrets
    mine = imports.import_checkpoint(good, "x.safetensors", owner=alice)
    assert imports.owner_of(mine) == alice and imports.import_checkpoint(good, "x.safetensors", owner=alice) == mine
    theirs = imports.import_checkpoint(good, "x.safetensors", owner=bob)  # the same file: a copy of bob's own
    assert theirs != mine and imports.owner_of(theirs) == bob
    assert imports.owner_of(imports.import_checkpoint(good, "y.safetensors")) is None  # no browser: no owner
    imports.delete_imported(mine)
    assert sorted(p.name for p in imports.imported_dir().iterdir() if p.name.startswith(mine.name)) == []
    assert len(catalog.imported_models()) == 2


# --- rename and delete a run -----------------------------------------------------------------------


def fake_run(tmp_path, finished=True):
    run = runs.create_run(None, "two_conv", {"arch": "two_conv"})
    checkpoint.save(run / runs.BEST, build("two_conv"), "two_conv", SETTINGS, {"name": "first name"})
    if finished:
        runs.write_json(run / runs.SUMMARY, {"status": "completed"})
    return run


def test_rename_run_shows_everywhere(tmp_path):
    run = fake_run(tmp_path)
    assert runs.rename_run(run, "  boots   and shirts ") == "boots and shirts"
    [entry] = catalog.run_models()
    assert entry.name == "boots and shirts"
    assert checkpoint.load(run / runs.BEST).name == "boots and shirts"


def test_delete_run(tmp_path):
    run = fake_run(tmp_path)
    runs.delete_run(run)
    assert not run.exists() and catalog.run_models() == []


def test_rename_and_delete_refusals(tmp_path):
    running = fake_run(tmp_path, finished=False)
    with pytest.raises(StudioError, match=r"is still training; stop it first.$"):
        runs.delete_run(running)
    with pytest.raises(StudioError, match=r"^the new name is empty.$"):
        runs.rename_run(running, "   ")
    with pytest.raises(StudioError, match=r"^the new name is 81 characters; the limit is 80.$"):
        runs.rename_run(running, "x" * 81)
    with pytest.raises(StudioError, match=r"^checkpoints is not a run in "):
        runs.delete_run(SHIPPED_DIR)
    assert running.exists() and SHIPPED_DIR.is_dir()
