"""Compare runs page: pick runs from the runs directory, overlaid curves, settings and results table."""

import pytest

from tests.dashboard.studio_app import chart_specs, fake_run, forget_caches, open_page

OLD, NEW, LIVE = "20260101-100000-mlp-aaaaaa", "20260102-100000-simple_cnn-bbbbbb", "20260103-100000-mlp-cccccc"


@pytest.fixture
def runs_dir(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path))
    forget_caches()
    yield tmp_path
    forget_caches()


def test_no_runs_points_to_train(runs_dir):
    at = open_page("views/compare.py")
    assert at.title[0].value == "Compare runs"
    assert at.info[0].value.startswith(f"No runs yet in `{runs_dir}`")
    assert at.get("page_link")[0].proto.label == "Train a model"


def test_runs_are_overlaid_and_tabulated(runs_dir):
    fake_run(runs_dir, OLD, "mlp", losses=(1.0, 0.8), test_accuracy=0.8312, lr=1e-3)
    fake_run(runs_dir, NEW, "simple_cnn", losses=(0.9, 0.5, 0.4), test_accuracy=0.8875, lr=3e-3)
    fake_run(runs_dir, LIVE, "mlp", losses=(1.2,), finished=False)
    at = open_page("views/compare.py")
    assert at.multiselect(key="compare_runs").value == [LIVE, NEW, OLD]       # newest first, three by default
    table = at.dataframe[0].value.set_index("run")
    assert table.loc[NEW, "test_accuracy"] == pytest.approx(88.75)
    assert table.loc[OLD, "test_accuracy"] == pytest.approx(83.12)
    assert table.loc[NEW, "lr"] == 3e-3 and table.loc[NEW, "epochs_run"] == 3 and table.loc[OLD, "epochs_run"] == 2
    assert table.loc[NEW, "arch_settings"] == "width=1, batch_norm=False, dropout=0.0"
    assert table.loc[LIVE, "status"] == "running or interrupted" and table.loc[LIVE, "epochs_run"] == 1
    titles = [spec["title"] for spec in chart_specs(at)]
    assert titles == ["Loss per epoch", "Accuracy per epoch"]
    assert chart_specs(at)[0]["encoding"]["color"]["field"] == "run"

    at.multiselect(key="compare_runs").set_value([OLD]).run()
    table = at.dataframe[0].value
    assert list(table["run"]) == [OLD] and table["best_epoch"][0] == 2


def test_choosing_no_run_asks_for_one(runs_dir):
    fake_run(runs_dir, OLD)
    at = open_page("views/compare.py")
    at.multiselect(key="compare_runs").set_value([]).run()
    assert at.info[0].value == "Pick one or more runs above."
    assert not at.dataframe
