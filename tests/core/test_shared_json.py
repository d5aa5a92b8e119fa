"""A JSON document shared by threads and processes: the latest version for readers, no lost change for writers."""

import json

import pytest

from core.base.errors import StudioError
from core.base.shared_json import SharedJSON


def test_two_handles_on_one_file_see_each_others_changes(tmp_path):
    path = tmp_path / "doc.json"
    a, b = SharedJSON(path), SharedJSON(path)
    assert a.read() == {} and not path.exists()
    with a.changing() as data:
        data["x"] = 1
    assert b.read() == {"x": 1}
    with b.changing(durable=False) as data:
        data["y"] = 2
    assert a.read() == {"x": 1, "y": 2} == json.loads(path.read_text())
    with pytest.raises(ValueError), a.changing() as data:  # an error inside the block writes nothing
        data["z"] = 3
        raise ValueError("changed my mind")
    assert b.read() == {"x": 1, "y": 2} and sorted(p.name for p in tmp_path.iterdir()) == ["doc.json", "doc.json.lock"]


def test_an_unreadable_or_foreign_file_reads_as_empty(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text("{half")
    assert SharedJSON(path).read() == {}
    path.write_text("[1, 2]")
    assert SharedJSON(path).read() == {}


def test_a_folder_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    doc = SharedJSON(tmp_path / "file" / "doc.json")
    with pytest.raises(StudioError, match=r"^cannot write in .*file: File exists\.$"), doc.changing() as data:
        data["x"] = 1
