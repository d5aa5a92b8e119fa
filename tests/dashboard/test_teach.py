"""Teach page: upload examples, name the class, press Teach; the figures of what it learned; the check with a
drawing of one of the ten; one-line refusals; the new model belongs to this browser until the teacher shares it."""

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from bench import sketches
from core.data.classes import CLASS_NAMES
from core.io import checkpoint, preprocess
from core.library import catalog, taught
from core.serving import ownership
from core.teach import main as teach_main
from core.training import teach
from tests.dashboard.my_pages import open_page
from tests.dashboard.studio_app import chart_data, forget_caches

LENET5 = catalog.SHIPPED_DIR / "lenet5.safetensors"  # read before the tests point SHIPPED_DIR elsewhere
HATS = sorted((sketches.DATA / "hat").glob("teach_*.png"))
SNEAKER = next(f for f, name in sketches.builtin_files(sketches.DATA / "builtin") if name == "Sneaker")


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path, data_dir):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copy(catalog.SHIPPED_DIR / "two_conv.safetensors", shipped)  # the benchmark's model
    monkeypatch.setattr(catalog, "SHIPPED_DIR", shipped)
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    forget_caches()
    yield
    forget_caches()


def upload(at, paths) -> None:
    files = [(Path(p).name, Path(p).read_bytes(), "image/png") for p in paths]
    at.file_uploader(key="teach_upload").set_value(files).run()


def taught_after_pressing(at, timeout: float = 600.0):
    """Press Teach and rerun until the page shows what the new model learned."""
    at.button(key="teach_go").click().run()
    deadline = time.monotonic() + timeout
    while "teach_result" not in at.session_state and time.monotonic() < deadline and not at.error:
        time.sleep(0.5)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "teach_result" in at.session_state, [e.value for e in at.error]
    return at


def test_opens_with_the_model_and_no_examples():
    at = open_page("views/teach.py")
    assert at.title[0].value == "Teach it a new class"
    assert at.selectbox(key="teach_model").value.startswith("two_conv (shipped)")
    assert "No examples yet: draw or upload at least 5 (10 or more is better)." in [i.value for i in at.info]
    assert not at.exception and not at.error


def test_upload_ten_hats_and_teach(tmp_path):
    at = open_page("views/teach.py")
    at.text_input(key="teach_name").set_value("Hat").run()
    upload(at, HATS)
    assert at.markdown.values.count("**10 examples**, as the model will see them.") == 1
    assert len([i for e in at.get("image") for i in e.proto.imgs]) == 10
    taught_after_pressing(at)

    [path] = taught.taught_files(tmp_path / "runs")
    owner = ownership.digest(at.session_state["owner_secret"])
    assert taught.owner_of(path) == owner and not taught.is_shared(path)
    loaded = checkpoint.load(path)
    assert loaded.class_names == (*CLASS_NAMES, "Hat") and loaded.name == "two_conv + Hat"
    summary = at.session_state["teach_result"]["summary"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Held-out examples called Hat"] == f"{round(summary['held_out_accuracy'] * 2)} of 2"
    assert metrics["Test accuracy (the ten classes)"] == f"{summary['test_accuracy_after']:.2%}"
    assert summary["test_accuracy_before"] - summary["test_accuracy_after"] <= 0.01
    per_class = chart_data(at, 0)
    assert len(per_class) == 20 and set(per_class["when"]) == {"before", "after"}
    assert not at.error

    # the check: a drawing of a sneaker, before and after
    at.radio(key="teach_check_source").set_value("Upload").run()
    at.file_uploader(key="teach_check_upload").set_value((SNEAKER.name, SNEAKER.read_bytes(), "image/png")).run()
    before, after = [m for m in at.metric if m.label.startswith(("Before", "After"))]
    assert before.label == "Before: two_conv" and after.label == "After: two_conv + Hat"
    assert before.value == after.value != "Hat"
    assert "Same answer as before: teaching the new class did not change it." in [s.value for s in at.success]
    assert len(chart_data(at, 2)) == 11  # the new model's eleven probabilities


def test_the_new_model_is_this_browsers_until_the_teacher_shares_it(tmp_path):
    at = open_page("views/teach.py")
    at.text_input(key="teach_name").set_value("Hat").run()
    upload(at, HATS[:6])
    taught_after_pressing(at)
    [path] = taught.taught_files(tmp_path / "runs")

    def taught_options(page) -> list[str]:
        return [o for o in page.selectbox(key="evaluate_model").options if "(taught)" in o]

    [label] = [m.label for m in catalog.all_models(runs_root=tmp_path / "runs") if m.source == "taught"]
    assert label.startswith("two_conv + Hat (taught)")
    mine = open_page("views/evaluate.py", owner_secret=at.session_state["owner_secret"])
    assert taught_options(mine) == [label]
    other = open_page("views/evaluate.py")  # another browser: a new secret
    assert taught_options(other) == []
    taught.set_shared(path, True)
    other.run()
    assert taught_options(other) == [label]


def test_refusals_are_one_line():
    at = open_page("views/teach.py")
    upload(at, HATS[:3])
    at.text_input(key="teach_name").set_value("Hat").run()
    at.button(key="teach_go").click().run()
    assert [e.value for e in at.error] == ["3 examples is not enough: give at least 5 (10 or more work better)."]

    blank = preprocess.encode_png(np.full((40, 40), 255, np.uint8))
    files = [(p.name, p.read_bytes(), "image/png") for p in HATS[:5]] + [("blank.png", blank, "image/png")]
    at.file_uploader(key="teach_upload").set_value(files).run()
    assert [e.value for e in at.error] == ["blank.png is left out: the image is blank: there is no object to classify."]
    at.text_input(key="teach_name").set_value("sneaker").run()
    at.button(key="teach_go").click().run()
    assert [e.value for e in at.error][-1] == "'Sneaker' is already a class of this model: choose another name."
    assert not at.exception and "teach_task" not in at.session_state


def test_a_model_taught_on_the_command_line_is_in_every_browsers_picker(tmp_path, data_dir, capsys):
    """`python -m core.teach` without --out keeps the model in the runs directory, shared: no browser owns it."""
    hats = [str(p) for p in HATS]
    assert teach_main([str(LENET5), "--class", "Hat", *hats, "--data-dir", data_dir]) == 0
    [path] = taught.taught_files(tmp_path / "runs")
    assert f"wrote {path} " in capsys.readouterr().out and taught.owner_of(path) is None
    [label] = [m.label for m in catalog.all_models(viewer="a browser") if m.source == "taught"]
    assert label.startswith("lenet5 + Hat (taught)")
    for browser in range(2):  # each page opened with a new secret: two browsers
        page = open_page("views/evaluate.py")
        assert [o for o in page.selectbox(key="evaluate_model").options if "(taught)" in o] == [label], browser


@pytest.fixture()
def shared_taught(tmp_path, fmnist):
    """LeNet-5 taught "Hat" (quick to read features from), stored without an owner and shared with the class."""
    base = checkpoint.load(LENET5)
    examples = [preprocess.from_bytes(p.read_bytes()).tensor for p in HATS]
    found = teach.teach(base, "Hat", examples, fmnist)
    path = taught.store(found, base, owner=None, root=tmp_path / "runs")
    taught.set_shared(path, True, root=tmp_path / "runs")
    [entry] = [m for m in catalog.all_models(runs_root=tmp_path / "runs") if m.source == "taught"]
    return entry


def test_a_taught_model_works_on_every_page(shared_taught):
    label = shared_taught.label
    names = [*CLASS_NAMES, "Hat"]

    at = open_page("views/evaluate.py", evaluate_model=label)
    assert not at.exception, [e.message for e in at.exception]
    assert any("matrix holds the 2 examples held out" in i.value for i in at.info)
    matrix = chart_data(at, 1)
    assert len(matrix) == 121 and set(matrix["true"]) == set(names)
    at.selectbox(key="evaluate_true").set_value("Hat").run()
    at.selectbox(key="evaluate_pred").set_value("Hat").run()
    assert any(m.value.endswith("held-out examples of **Hat** correctly classified.") for m in at.markdown)

    at = open_page("views/explain.py", explain_model=label)
    assert not at.exception, [e.message for e in at.exception]
    [explained] = [s for s in at.selectbox if s.label == "Explain the class"]
    assert list(explained.options) == names

    at = open_page("views/feature_maps.py", maps_model=label)
    assert not at.exception, [e.message for e in at.exception]
    assert list(chart_data(at, 0)["class"]) == names

    at = open_page("views/classify.py", classify_model=label)
    at.radio(key="classify_source").set_value("Upload").run()
    at.file_uploader(key="classify_upload").set_value((HATS[0].name, HATS[0].read_bytes(), "image/png")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert list(chart_data(at, 0)["class"]) == names

    at = open_page("views/models.py")
    assert not at.exception, [e.message for e in at.exception]
    details = [t.value["value"].to_dict() for t in at.table]
    [taught_card] = [d for d in details if "classes" in d]
    assert taught_card["classes"] == "11: Fashion-MNIST's ten, Hat" and taught_card["taught from"] == "lenet5"
    assert "Shared with the whole class." in [c.value for c in at.caption]

    at = open_page("views/compare.py", compare_group="taught")
    assert not at.exception, [e.message for e in at.exception]
    assert at.multiselect(key="compare_runs_taught").value == [f"taught: {shared_taught.name}"]
