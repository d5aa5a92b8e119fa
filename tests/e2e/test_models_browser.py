"""The Models page in headless Chromium: the shipped models listed with their metadata, a real ONNX and a
predictions CSV downloaded and checked, a checkpoint imported (and a broken one refused), a screenshot."""

from pathlib import Path

import numpy as np
import pytest

from core.io import checkpoint, export
from core.library.catalog import SHIPPED_DIR
from core.models import build
from tests.e2e.test_browser import browser, check_clean, main, open_page, page, server, shoot, wait_idle  # noqa: F401

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")


def card(pg, title: str):
    return (
        main(pg)
        .locator("[data-testid=stVerticalBlock][class*=st-key-model_]")
        .filter(has=pg.get_by_role("heading", name=title, level=4, exact=True))
    )


def test_models_page_downloads_and_imports(server, page, tmp_path, fmnist):  # noqa: F811 (fixtures)
    open_page(page, server["url"] + "/models", "Models")
    for name in ("mlp", "simple_cnn", "two_conv", "lenet5", "resnet18"):
        card(page, name).wait_for()
    wait_idle(page)
    lenet = card(page, "lenet5")
    lenet.get_by_text("python -m core.train --preset lenet5").wait_for()
    accuracy = checkpoint.read_metadata(SHIPPED_DIR / "lenet5.safetensors")["metrics"]["test_accuracy"]
    assert f"{accuracy:.2%}" in lenet.inner_text() and "python -m core.train --preset lenet5" in lenet.inner_text()
    assert "Shipped with the studio: it cannot be renamed or deleted." in lenet.inner_text()

    with page.expect_download(timeout=120_000) as download:
        lenet.get_by_role("button", name="ONNX").click()
    onnx_file = tmp_path / download.value.suggested_filename
    download.value.save_as(onnx_file)
    assert onnx_file.name == "lenet5.onnx"
    data = onnx_file.read_bytes()
    assert export.onnx_metadata(data)["architecture"] == "lenet5"
    logits = export.run_onnx(export.onnx_session(data), export.pixels(fmnist.test_images[:500]))
    assert (logits.argmax(1) == fmnist.test_labels[:500].numpy()).mean() > 0.85

    with page.expect_download(timeout=120_000) as download:
        lenet.get_by_role("button", name="Test-set predictions (CSV)").click()
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0] == "index,true_label,true_class,predicted_label,predicted_class,confidence" and len(rows) == 10_001
    predicted = np.array([int(r.split(",")[3]) for r in rows[1:]])
    assert (predicted == fmnist.test_labels.numpy()).mean() == pytest.approx(accuracy, abs=1e-4)

    good = checkpoint.save(
        tmp_path / "gpu-box.safetensors",
        build("two_conv"),
        "two_conv",
        {"width": 1, "batch_norm": True, "dropout": 0.25},
        {"name": "from the gpu box"},
    )
    bad = tmp_path / "renamed-pickle.safetensors"
    bad.write_bytes(b"PK\x03\x04" + b"\0" * 200)
    uploader = main(page).get_by_test_id("stFileUploaderDropzoneInput")
    uploader.set_input_files(str(bad))
    main(page).get_by_role("button", name="Import").click()
    error = main(page).get_by_test_id("stAlertContentError")
    error.wait_for()
    assert error.inner_text().startswith("Not imported: renamed-pickle.safetensors: this is a PyTorch pickle")
    uploader.set_input_files(str(good))
    main(page).get_by_text("gpu-box.safetensors").wait_for()
    main(page).get_by_role("button", name="Import").click()
    card(page, "from the gpu box").wait_for()
    assert main(page).get_by_test_id("stAlertContentSuccess").inner_text().startswith("Imported gpu-box.safetensors")
    card(page, "from the gpu box").get_by_role("button", name="Delete").wait_for()  # elements arrive one by one
    assert card(page, "from the gpu box").get_by_role("button", name="Delete").count() == 1
    wait_idle(page)
    shoot(page, "models")
    check_clean(page)
