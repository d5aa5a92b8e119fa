"""Home page: the intro, where the dataset is (or how to get it), the models with accuracy, links to pages."""

import pytest

from tests.dashboard.studio_app import fake_run, forget_caches, open_page


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    forget_caches()
    yield
    forget_caches()


def test_home_shows_dataset_models_and_links(tmp_path, data_dir):
    fake_run(tmp_path / "runs", "20260101-120000-mlp-aaaaaa", test_accuracy=0.8765)
    at = open_page()
    assert at.title[0].value == "Fashion-MNIST Studio"
    assert "70,000 small grayscale pictures" in at.markdown[0].value
    assert data_dir in at.success[0].value and "60,000 training" in at.success[0].value
    table = at.dataframe[0].value
    row = table[table["Model"] == "20260101-120000-mlp-aaaaaa"].iloc[0]
    assert row["Architecture"] == "MLP (fully connected)" and row["Source"] == "run"
    assert row["Test accuracy"] == pytest.approx(87.65)
    links = [link.proto.label for link in at.get("page_link")]
    expected = [
        ("Data", "data"),
        ("Data lab", "data_lab"),
        ("Train", "train"),
        ("Evaluate", "evaluate"),
        ("Feature maps", "feature_maps"),
        ("Explain", "explain"),
        ("Embedding", "embedding"),
        ("Classify", "classify"),
        ("Teach", "teach"),
        ("Challenge", "challenge"),
        ("Compare runs", "compare"),
        ("Models", "models"),
        ("Class", "leaderboard"),
    ]
    assert links == [title for title, _ in expected]
    assert [link.proto.page for link in at.get("page_link")] == [page for _, page in expected]


def test_home_without_dataset_says_how_to_get_it(monkeypatch, tmp_path):
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    monkeypatch.setenv("FMNIST_DATA_DIR", str(empty))
    at = open_page()
    warning = at.warning[0].value
    assert "Fashion-MNIST not found" in warning and str(empty) in warning
    assert "apt-get install dataset-fashion-mnist" in warning
    assert not at.success


def test_home_without_models_points_to_train(tmp_path, monkeypatch):
    from core.library import catalog

    monkeypatch.setattr(catalog, "SHIPPED_DIR", tmp_path)
    at = open_page()
    assert any("Train one on the Train page" in i.value for i in at.info)
