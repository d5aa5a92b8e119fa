"""One checkpoint reader for every entry point: each crafted file is one line, the same from the loader, the
metadata reader and the import; nothing is built before the settings are checked; a fuzz of mutated headers,
metadata and tensors never gets anything but a one-line CheckpointError."""

import json
import math
import struct

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.base.errors import CheckpointError
from core.io import checkpoint, checkpoint_check, checkpoint_import
from core.library import catalog
from tests.core import crafted_checkpoints as crafted

CASES = crafted.cases()


def refusal(read, path) -> str:
    with pytest.raises(CheckpointError) as e:
        read(path)
    message = str(e.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("case", list(CASES))
def test_every_reader_refuses_a_crafted_file_with_the_same_line(case, tmp_path):
    data, reason = CASES[case]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    assert refusal(checkpoint.load, path) == f"bad.safetensors: {reason}"
    assert refusal(lambda p: checkpoint_import.validate(p.read_bytes(), p.name), path) == f"bad.safetensors: {reason}"
    if "weights" not in case:  # the metadata reader does not read the tensors
        assert refusal(checkpoint.read_metadata, path) == f"bad.safetensors: {reason}"
        assert catalog.imported_models() == [] and catalog._entry(path, "run") is None


def test_no_model_is_built_before_the_settings_are_checked(tmp_path, monkeypatch):
    """A 1.6 MB file claiming width 1e6 took 3.7 GB when the model was built first."""
    built = []
    real_build = checkpoint.build
    monkeypatch.setattr(checkpoint, "build", lambda *a, **kw: built.append(a) or real_build(*a, **kw))
    path = tmp_path / "wide.safetensors"
    path.write_bytes(CASES["width 1e6"][0])
    assert refusal(checkpoint.load, path).endswith("width 1000000.0 is too large (at most 8).")
    assert built == []


def test_shapes_are_checked_against_a_model_on_the_meta_device(tmp_path):
    """Settings within range that do not fit the tensors: refused from the header, nothing allocated."""
    data = crafted.with_settings(crafted.sound(), width=8)
    path = tmp_path / "w8.safetensors"
    path.write_bytes(data)
    assert refusal(checkpoint.load, path) == (
        "w8.safetensors: weights do not match simple_cnn: conv1.0.weight is [6, 1, 5, 5], expected [48, 1, 5, 5]."
    )


def test_float16_and_bfloat16_weights_load_as_float32(tmp_path):
    from safetensors.torch import load, save

    data = crafted.sound()
    header, _ = crafted.split(data)
    for dtype in (torch.float16, torch.bfloat16):
        tensors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in load(data).items()}
        path = tmp_path / f"{dtype}.safetensors"
        path.write_bytes(save(tensors, metadata=header["__metadata__"]))
        assert next(checkpoint.load(path).model.parameters()).dtype == torch.float32


def test_a_sound_file_still_loads_and_its_metadata_reads(tmp_path):
    path = tmp_path / "ok.safetensors"
    path.write_bytes(crafted.sound())
    assert checkpoint.read_metadata(path)["name"] == "crafted"
    assert checkpoint.load(path).model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


# ---- the fuzz -----------------------------------------------------------------------------------------

BASE = crafted.sound("mlp", {"hidden": (8,), "batch_norm": True})  # floats and an int64 counter, 26 kB
HEADER, BODY = crafted.split(BASE)
META = json.loads(HEADER["__metadata__"]["studio"])
TENSORS = [k for k in HEADER if k != "__metadata__"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.sampled_from([10**40, -1, 0, 1, 2**63, 2**64 + 1])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
meta_keys = st.sampled_from(
    [*META, "arch", "format", "arch_settings", "metrics", "config", "class_names", "normalization", "x"]
)
setting_keys = st.sampled_from(["hidden", "dropout", "batch_norm", "width", "activation"])


@st.composite
def mutated(draw) -> bytes:
    kinds = ["bytes", "cut", "entry", "tensors", "metadata", "setting", "metadata_raw", "digits", "values"]
    kind = draw(st.sampled_from(kinds))
    header, body = json.loads(json.dumps(HEADER)), bytearray(BODY)
    if kind == "bytes":  # random bytes anywhere (length prefix, header, weights)
        data = bytearray(BASE)
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "cut":
        return BASE[: draw(st.integers(0, len(BASE) - 1))]
    if kind == "entry":  # one tensor's dtype, shape or offsets replaced by anything
        name = draw(st.sampled_from(TENSORS))
        field = draw(st.sampled_from(["dtype", "shape", "data_offsets"]))
        header[name][field] = draw(
            json_values | st.sampled_from(["I8", "F64", "U8", "BOOL", "F8_E4M3", [10**10, 10**10], [0, 2**63]])
        )
    elif kind == "tensors":  # tensors renamed, dropped or invented
        name = draw(st.sampled_from(TENSORS))
        entry = header.pop(name)
        if draw(st.booleans()):
            header[draw(st.text(min_size=1, max_size=20))] = entry
    elif kind == "metadata":
        meta = {**META, draw(meta_keys): draw(json_values)}
        header["__metadata__"]["studio"] = json.dumps(meta)
    elif kind == "setting":
        meta = {**META, "arch_settings": {**META["arch_settings"], draw(setting_keys): draw(json_values)}}
        header["__metadata__"]["studio"] = json.dumps(meta)
    elif kind == "metadata_raw":
        header["__metadata__"] = draw(json_values | st.just({"studio": draw(st.text(max_size=50))}))
    elif kind == "digits":  # a number of thousands of digits, in the metadata or in the tensor table
        digits = "9" * draw(st.integers(4000, 6000))
        if draw(st.booleans()):
            where = draw(st.sampled_from(['"hidden": [8]', '"std": 0.353', '"batch_norm": true']))
            header["__metadata__"]["studio"] = json.dumps(META).replace(where, where.split(":")[0] + f": [{digits}]")
            raw = json.dumps(header)
        else:
            raw = json.dumps(header).replace('"data_offsets": [0, ', f'"data_offsets": [{digits}, ', 1)
        return struct.pack("<Q", len(raw)) + raw.encode() + bytes(body)
    else:  # the weights' values: NaN, infinity or noise written over some of them
        start = draw(st.integers(0, len(body) - 4))
        value = draw(st.sampled_from([math.nan, math.inf, -math.inf, 1e38])) if draw(st.booleans()) else 0.5
        body[start - start % 4 : start - start % 4 + 4] = struct.pack("<f", value)
    return crafted.join(header, bytes(body))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fuzzed_checkpoints_are_loaded_or_refused_in_one_line(tmp_path_factory, data):
    path = tmp_path_factory.getbasetemp() / "fuzz.safetensors"
    path.write_bytes(data)
    outcomes = []
    for read in (
        checkpoint.read_metadata,
        checkpoint.load,
        lambda p: checkpoint_import.validate(p.read_bytes(), p.name),
    ):
        try:
            read(path)
            outcomes.append("ok")
        except CheckpointError as e:
            message = str(e)
            assert message.startswith("fuzz.safetensors: ") and "\n" not in message and len(message) < 400
            outcomes.append("refused")
    # the loader and the import agree; the metadata reader never refuses what the loader takes
    assert outcomes[1] == outcomes[2] and not (outcomes[0] == "refused" and outcomes[1] == "ok")
    if outcomes[1] == "ok":  # what loads is sound: finite weights of the right kind
        loaded = checkpoint.load(path)
        assert all(torch.isfinite(p).all() for p in loaded.model.state_dict().values() if p.is_floating_point())


def test_the_fuzz_base_is_sound():
    assert checkpoint_check.validate(BASE, "base.safetensors").meta["arch"] == "mlp"
