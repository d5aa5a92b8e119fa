"""Whether a run can be continued, and the saved state it continues from (its last.pt, weights only)."""

from pathlib import Path

import torch

from core.base.errors import StudioError
from core.io import runs

FINISHED = {"completed": "it completed", "early_stopped": "it stopped early", "diverged": "its loss diverged"}


def epochs_text(n) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def run_folder(run_dir) -> Path:
    run_dir = Path(run_dir)
    return run_dir.parent if run_dir.name == runs.STATE else run_dir


def load_state(run_dir, epochs: int | None = None) -> dict:
    """The saved state of a stopped or interrupted run; StudioError (one line) if it cannot be continued."""
    run_dir = run_folder(run_dir)
    if not run_dir.is_dir():
        raise StudioError(f"cannot resume: no run folder at {run_dir}.")
    summary = runs.read_json(run_dir / runs.SUMMARY) or {}
    if summary.get("status") in FINISHED:
        raise StudioError(
            f"cannot resume {run_dir.name}: {FINISHED[summary['status']]} after "
            f"{epochs_text(summary.get('epochs_run'))}; start a new run instead."
        )
    state_path = run_dir / runs.STATE
    if not state_path.is_file():
        raise StudioError(f"cannot resume {run_dir.name}: {runs.STATE} is missing (no epoch was completed).")
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise StudioError(f"cannot resume from {state_path}: {str(e).splitlines()[0][:120]}") from None
    done, planned = state["epoch"], state["config"]["epochs"]
    if epochs is not None:
        if not isinstance(epochs, int) or epochs <= done:
            raise StudioError(f"cannot resume {run_dir.name}: it has {epochs_text(done)}; ask for more than {done}.")
    elif done >= planned:
        raise StudioError(f"cannot resume {run_dir.name}: all {planned} planned epochs are done; ask for more epochs.")
    return state


def continue_history(run_dir, epochs_done: int) -> list[dict]:
    """The run's epoch records up to `epochs_done`; the metrics log is cut back to them (a stopped epoch's
    partial record and a stale summary go), so the continued run appends to a clean history."""
    run_dir = run_folder(run_dir)
    kept = [r for r in runs.read_metrics(run_dir) if not r.get("partial") and r["epoch"] <= epochs_done]
    runs.write_metrics(run_dir, kept)
    (run_dir / runs.SUMMARY).unlink(missing_ok=True)
    return kept


def resumable_runs(root=None) -> list[dict]:
    """Runs that can be continued (stopped or interrupted, with a saved epoch), newest first:
    {"run_dir", "epochs_done", "epochs_planned", "status"}."""
    out = []
    for run in runs.list_runs(root):
        status = (runs.read_json(run / runs.SUMMARY) or {}).get("status")
        if status in FINISHED or not (run / runs.STATE).is_file():
            continue
        done = len([r for r in runs.read_metrics(run) if not r.get("partial")])
        planned = (runs.read_json(run / runs.CONFIG) or {}).get("epochs")
        out.append({"run_dir": run, "epochs_done": done, "epochs_planned": planned, "status": status or "interrupted"})
    return out
