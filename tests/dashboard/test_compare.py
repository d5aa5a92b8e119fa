"""Compare runs page: runs grouped by experiment, the shipped models, any metric against epoch or time,
differing settings highlighted, CSV download."""

import json
import re

import pytest

from core.library import catalog, experiments
from core.training.config import TrainConfig
from tests.dashboard.studio_app import chart_data, chart_specs, fake_run, forget_caches, open_page

PROJECT_CHECKPOINTS = catalog.SHIPPED_DIR
OLD, NEW, LIVE = "20260101-100000-mlp-aaaaaa", "20260102-100000-simple_cnn-bbbbbb", "20260103-100000-mlp-cccccc"


def highlighted(at) -> set[str]:
    """The table columns whose cells the page highlights (from the Styler's CSS)."""
    styles = at.dataframe[0].proto.arrow_data.styler.styles
    columns = list(at.dataframe[0].value.columns)
    return {columns[int(i)] for i in re.findall(r"_col(\d+)", styles) if "fff3bf" in styles}


@pytest.fixture
def runs_dir(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    empty = tmp_path / "no-shipped"
    empty.mkdir()
    monkeypatch.setattr(catalog, "SHIPPED_DIR", empty)
    forget_caches()
    yield tmp_path / "runs"
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
    assert at.multiselect(key="compare_runs_all").value == [LIVE, NEW, OLD]  # newest first, three by default
    table = at.dataframe[0].value.set_index("run")
    assert table.loc[NEW, "test_accuracy"] == pytest.approx(88.75)
    assert table.loc[OLD, "test_accuracy"] == pytest.approx(83.12)
    assert table.loc[NEW, "lr"] == 3e-3 and table.loc[NEW, "epochs_run"] == 3 and table.loc[OLD, "epochs_run"] == 2
    assert table.loc[NEW, "arch_settings"] == "width=1, batch_norm=False, dropout=0.0"
    assert table.loc[LIVE, "status"] == "running or interrupted" and table.loc[LIVE, "epochs_run"] == 1
    [spec] = chart_specs(at)
    assert spec["title"] == "Validation accuracy against epoch"
    assert spec["encoding"]["color"]["field"] == "run"
    values = chart_data(at)
    old = values[values.run == OLD]
    assert list(old.epoch) == [1, 2] and list(old.value) == pytest.approx([0.45, 0.55])
    assert at.caption[0].value == "Highlighted: the settings that differ between the chosen runs."
    assert highlighted(at) == {"arch", "arch_settings", "lr", "epochs"}

    at.multiselect(key="compare_runs_all").set_value([OLD]).run()
    table = at.dataframe[0].value
    assert list(table["run"]) == [OLD] and table["best_epoch"][0] == 2
    csv = at.get("download_button")[0]
    assert csv.proto.label == "Download this table (CSV)"


def test_any_metric_against_training_time(runs_dir):
    fake_run(runs_dir, OLD, "mlp", losses=(1.0, 0.8))
    at = open_page("views/compare.py")
    at.selectbox(key="compare_metric").set_value("train_loss").run()
    at.segmented_control(key="compare_x").set_value("elapsed").run()
    [spec] = chart_specs(at)
    assert spec["title"] == "Training loss against training time (s)"
    values = chart_data(at)
    assert list(values.x) == [6.0, 12.0] and list(values.value) == [1.0, 0.8]


def test_runs_are_grouped_by_experiment(runs_dir):
    experiment, configs = experiments.plan(TrainConfig(arch="mlp", epochs=2), {"batch_size": [64, 256]})
    experiments.save(experiment, runs_dir)
    for i, config in enumerate(configs):
        fake_run(
            runs_dir,
            f"20260105-10000{i}-mlp-ee{i}eee",
            "mlp",
            losses=(1.0, 0.7 - i / 10),
            test_accuracy=0.85 + i / 100,
            config=config,
        )
    fake_run(runs_dir, OLD, "mlp")
    at = open_page("views/compare.py")
    assert at.selectbox(key="compare_group").options == ["All runs and models", "Experiment: mlp: batch_size 64, 256"]
    at.selectbox(key="compare_group").set_value(experiment.id).run()
    chosen = at.multiselect(key=f"compare_runs_{experiment.id}").value
    assert chosen == ["20260105-100001-mlp-ee1eee", "20260105-100000-mlp-ee0eee"]
    table = at.dataframe[0].value
    assert list(table["batch_size"]) == [256, 64]


def test_shipped_models_are_listed_on_a_fresh_runs_folder_with_their_histories(runs_dir, monkeypatch, tmp_path):
    from core.io import checkpoint
    from core.models import build

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    config = TrainConfig(arch="linear", epochs=2).validate()
    checkpoint.save(
        shipped / "linear.safetensors",
        build("linear"),
        "linear",
        {},
        {
            "name": "linear",
            "config": config.to_dict(),
            "epochs_run": 2,
            "training_seconds": 20.0,
            "metrics": {"test_accuracy": 0.8401, "val_accuracy": 0.845, "val_loss": 0.45, "best_epoch": 2},
        },
    )
    (shipped / "linear.metrics.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "epoch": e,
                    "val_accuracy": a,
                    "val_loss": 1 - a,
                    "train_loss": 1 - a,
                    "train_accuracy": a,
                    "elapsed": 10 * e,
                }
            )
            + "\n"
            for e, a in ((1, 0.81), (2, 0.845))
        )
    )
    checkpoint.save(
        shipped / "mlp.safetensors",
        build("mlp"),
        "mlp",
        {},
        {
            "name": "mlp",
            "config": TrainConfig(arch="mlp").to_dict(),
            "epochs_run": 30,
            "metrics": {"test_accuracy": 0.9131, "best_epoch": 28},
        },
    )
    monkeypatch.setattr(catalog, "SHIPPED_DIR", shipped)
    at = open_page("views/compare.py")
    assert not at.info
    at.selectbox(key="compare_group").set_value("shipped").run()
    assert at.multiselect(key="compare_runs_shipped").value == ["shipped: linear", "shipped: mlp"]
    table = at.dataframe[0].value.set_index("run")
    assert table.loc["shipped: linear", "test_accuracy"] == pytest.approx(84.01)
    assert table.loc["shipped: mlp", "status"] == "shipped" and table.loc["shipped: mlp", "epochs_run"] == 30
    values = chart_data(at)
    assert list(values.run) == ["shipped: linear"] * 2 and list(values.value) == [0.81, 0.845]
    assert "No per-epoch history recorded for: shipped: mlp." in at.caption[0].value


def test_a_fresh_install_lists_the_shipped_models(runs_dir, monkeypatch):
    monkeypatch.setattr(catalog, "SHIPPED_DIR", PROJECT_CHECKPOINTS)
    at = open_page("views/compare.py")
    assert "Shipped models" in at.selectbox(key="compare_group").options
    at.selectbox(key="compare_group").set_value("shipped").run()
    shown = at.multiselect(key="compare_runs_shipped").value
    assert shown == [f"shipped: {m.name}" for m in catalog.shipped_models()] and len(shown) >= 5
    table = at.dataframe[0].value.set_index("run")
    for model in catalog.shipped_models():
        assert table.loc[f"shipped: {model.name}", "test_accuracy"] == pytest.approx(100 * model.test_accuracy)


def test_choosing_no_run_asks_for_one(runs_dir):
    fake_run(runs_dir, OLD)
    at = open_page("views/compare.py")
    at.multiselect(key="compare_runs_all").set_value([]).run()
    assert at.info[0].value == "Pick one or more runs above."
    assert not at.dataframe
