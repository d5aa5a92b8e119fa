"""Models page: every model with its metadata and four downloads; import with one-line refusals; rename and
delete only for the session that made the model; shipped models never."""

import shutil

import pytest

from core.io import checkpoint, export, runs
from core.library import catalog
from core.models import build
from core.training.config import TrainConfig
from dashboard.train import training
from tests.dashboard.studio_app import fake_run, forget_caches, open_page

OTHER_RUN = "20260101-120000-mlp-aaaaaa"


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path, data_dir):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copy(catalog.SHIPPED_DIR / "lenet5.safetensors", shipped)
    monkeypatch.setattr(catalog, "SHIPPED_DIR", shipped)
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    forget_caches()
    yield
    forget_caches()


def card_titles(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("#### ")]


def download_labels(at) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_lists_every_model_with_metadata_and_downloads(tmp_path):
    fake_run(tmp_path / "runs", OTHER_RUN, test_accuracy=0.8765)
    at = open_page("views/models.py")
    assert at.title[0].value == "Models"
    lenet = f"{checkpoint.read_metadata(catalog.SHIPPED_DIR / 'lenet5.safetensors')['metrics']['test_accuracy']:.2%}"
    assert card_titles(at) == [
        f"#### lenet5  \n:gray[shipped · test {lenet}]",
        f"#### {OTHER_RUN}  \n:gray[run · test 87.65%]",
    ]
    details = at.table[0].value["value"].to_dict()
    assert details["architecture"] == "LeNet-5" and details["test accuracy"] == lenet
    assert at.code[0].value.startswith("python -m core.train --preset lenet5")
    assert details["hardware"] and details["training time"].endswith(" s") and "optimizer" in details["recipe"]
    assert download_labels(at) == ["Checkpoint (.safetensors)", "ONNX", "TorchScript", "Test-set predictions (CSV)"] * 2
    captions = [c.value for c in at.caption]
    assert "Shipped with the studio: it cannot be renamed or deleted." in captions
    assert "Only the browser that made it can rename or delete it." in captions  # another browser's run
    assert not [b for b in at.button if b.label in ("Rename", "Delete for good")]
    assert not at.exception and not at.error


def test_import_shows_the_model_and_refuses_bad_files(tmp_path):
    path = checkpoint.save(
        tmp_path / "gpu.safetensors",
        build("two_conv"),
        "two_conv",
        {"width": 1, "batch_norm": True, "dropout": 0.25},
        {"name": "from the gpu box"},
    )
    at = open_page("views/models.py")
    at.file_uploader(key="models_upload").set_value(
        ("bad.safetensors", path.read_bytes()[:-500], "application/octet-stream")
    ).run()
    at.button(key="models_import").click().run()
    assert at.error[0].value.startswith("Not imported: bad.safetensors: truncated: the tensors need ")
    assert "\n" not in at.error[0].value and len(card_titles(at)) == 1
    at.file_uploader(key="models_upload").set_value(
        ("gpu.safetensors", path.read_bytes(), "application/octet-stream")
    ).run()
    at.button(key="models_import").click().run()
    assert at.success[0].value.startswith("Imported gpu.safetensors")
    assert card_titles(at)[-1] == "#### from the gpu box  \n:gray[imported]"
    [entry] = catalog.imported_models()
    assert entry.name == "from the gpu box"
    # the session that imported it may delete it
    at.button(key="model_1_delete").click().run()
    assert catalog.imported_models() == [] and len(card_titles(at)) == 1
    assert not at.exception


def test_owner_renames_and_deletes_a_run(fmnist):
    at = open_page("views/models.py")
    me = at.session_state["owner_secret"]  # this browser's owner secret
    jobs = training.manager()
    job_id = jobs.submit(
        TrainConfig(arch="mlp", limit=600, epochs=1, batch_size=64, val_fraction=0.2),
        fmnist,
        owner=me,
        name="first try",
    )
    assert jobs.wait(job_id, timeout=120).state == "completed"
    run = catalog.run_models()[0].path.parent
    at.run()
    assert card_titles(at)[1].startswith("#### first try  \n:gray[run · test ")
    at.text_input(key="model_1_name").set_value("mlp, one epoch")
    next(b for b in at.button if b.label == "Rename").click().run()
    assert card_titles(at)[1].startswith("#### mlp, one epoch  \n")
    assert catalog.run_models()[0].name == "mlp, one epoch"
    assert export.onnx_metadata(export.export_bytes(run / runs.BEST, "onnx"))["name"] == "mlp, one epoch"
    at.button(key="model_1_delete").click().run()
    assert not run.exists() and len(card_titles(at)) == 1
    assert not at.exception and not at.error


def test_an_import_stays_its_browsers_after_a_reload(tmp_path, monkeypatch):
    """The right to delete an import is recorded beside the file (the digest of the importer's secret), not in
    the page's session: a reload of the same browser (its cookie) keeps it, another browser never has it."""
    from core.library import imports
    from core.serving import ownership
    from dashboard import classroom

    path = checkpoint.save(
        tmp_path / "gpu.safetensors", build("lenet5"), "lenet5", {"activation": "relu"}, {"name": "mine"}
    )
    at = open_page("views/models.py")
    me = at.session_state["owner_secret"]
    at.file_uploader(key="models_upload").set_value(("gpu.safetensors", path.read_bytes(), "application/octet-stream"))
    at.run()
    at.button(key="models_import").click().run()
    [entry] = catalog.imported_models()
    assert imports.owner_of(entry.path) == ownership.digest(me) != me  # the digest is kept, never the secret

    monkeypatch.setattr(classroom, "browser_cookie", lambda: ownership.new_secret())  # another browser
    other = open_page("views/models.py")
    assert "Only the browser that made it can rename or delete it." in [c.value for c in other.caption]
    assert not [b for b in other.button if b.key == "model_1_delete"]

    monkeypatch.setattr(classroom, "browser_cookie", lambda: me)  # the importer reloads: a new session
    again = open_page("views/models.py")
    assert again.session_state["owner_secret"] == me
    again.button(key="model_1_delete").click().run()
    assert catalog.imported_models() == [] and not list(imports.imported_dir().iterdir())
    assert not again.exception
