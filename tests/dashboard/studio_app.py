"""Helpers for the page tests: open a page of the real app in AppTest, and make finished runs on disk."""

import json
import time
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from core.io import checkpoint, runs
from core.models import build
from core.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
HOME = str(ROOT / "dashboard" / "Home.py")


def open_page(page: str | None = None) -> AppTest:
    """Run Home.py (the real navigation), then switch to `page` such as "views/train.py"."""
    at = AppTest.from_file(HOME, default_timeout=90)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def training_environment(monkeypatch, data_dir, runs_dir):
    """For an autouse fixture (`yield from`): the data and a fresh runs folder, fresh caches; afterwards every
    training is stopped and waited for, and the caches dropped again."""
    from dashboard.train import training

    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(runs_dir))
    forget_caches()
    yield
    for job in training.manager().jobs():
        training.manager().stop(job.id)
        training.manager().wait(job.id, timeout=60)
    forget_caches()


def forget_caches() -> None:
    """Drop the cached dataset and JobManager so an environment change takes effect."""
    st.cache_resource.clear()
    st.cache_data.clear()


def fake_run(
    root: Path,
    run_id: str,
    arch: str = "mlp",
    losses=(1.0, 0.7, 0.6),
    test_accuracy=0.81,
    finished: bool = True,
    lr: float = 1e-3,
    config: TrainConfig | None = None,
) -> Path:
    """A run folder as the trainer leaves it: config, per-epoch metrics and (if finished) summary and best checkpoint."""
    run = Path(root) / run_id
    run.mkdir(parents=True)
    config = (config or TrainConfig(arch=arch, epochs=len(losses), lr=lr)).validate()
    runs.write_json(run / runs.CONFIG, config.to_dict())
    for epoch, loss in enumerate(losses, start=1):
        runs.append_metrics(
            run,
            {
                "epoch": epoch,
                "train_loss": loss,
                "train_accuracy": 1 - loss / 2,
                "val_loss": loss + 0.05,
                "val_accuracy": 0.95 - loss / 2,
                "lr": lr,
                "best": True,
                "elapsed": 6.0 * epoch,
            },
        )
    if finished:
        runs.write_json(
            run / runs.SUMMARY,
            {
                "status": "completed",
                "message": f"completed {len(losses)} epochs",
                "best_epoch": len(losses),
                "best_val_loss": losses[-1] + 0.05,
                "best_val_accuracy": 0.95 - losses[-1] / 2,
                "test_accuracy": test_accuracy,
                "epochs_run": len(losses),
                "seconds": 12.5,
            },
        )
        checkpoint.save(
            run / runs.BEST,
            build(arch),
            arch,
            config.arch_settings,
            {"name": run_id, "run_id": run_id, "metrics": {"test_accuracy": test_accuracy}},
        )
    return run


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def chart_data(at: AppTest, index: int = 0):
    """The rows a chart draws (its first dataset, decoded from Arrow) as a DataFrame."""
    import pyarrow as pa

    chart = at.get("vega_lite_chart")[index]
    raw = chart.proto.datasets[0].data.data if chart.proto.datasets else chart.proto.data.data
    return pa.ipc.open_stream(raw).read_all().to_pandas()


def poll(at, until, timeout=120.0):
    """Rerun the page until `until(at)` holds (a background training has got somewhere)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if until(at):
            return at
        time.sleep(0.5)
    raise AssertionError(f"page never reached the expected state; markdown: {[m.value for m in at.markdown][-3:]}")
