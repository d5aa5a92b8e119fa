"""python -m bench.gpu_check [--device cuda|cpu] [--dry-run] [--out FILE.md]: the CUDA path in one run.

`bash bench/gpu_check.sh` calls it (after installing any of the few wheels the machine lacks). Every step is a
fresh command with its own time limit inside one overall budget (8 minutes by default), and the run ends with
one markdown table:

- the tests that can use the device (tests/device.py lists them), run with FMNIST_TEST_DEVICE=<device>;
- the quick demo and every rung of the ladder (bench/ladder.py) as `python -m core.train --preset NAME`, with
  their times and test accuracies;
- bfloat16 autocast: ResNet-18 images/s with and without it;
- `torchrun --nproc_per_node=1` (NCCL on CUDA, gloo on a CPU).

`--dry-run` shrinks every step (one quick test; the trainings on a copy of the first 2,000 training and 1,000
test images, one epoch) so the script can be checked on a CPU: `python -m bench.gpu_check --device cpu --dry-run`.
"""

import core  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch loads)

# isort: split
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.ladder import RUNGS

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 480.0  # the whole check on one GPU
DRY_BUDGET_S = 1800.0  # a dry run on a CPU, which may be shared with other work
# The test files that honour FMNIST_TEST_DEVICE (tests/device.py): training, evaluation, export, explanations.
DEVICE_TESTS = ("tests/core/test_on_device.py", "tests/core/test_training.py")
DRY = {"limit": 2000, "epochs": 1, "bf16_images": 512, "torchrun_images": 2000, "test_images": 1000}
FULL = {"limit": None, "epochs": None, "bf16_images": 20000, "torchrun_images": 10000}


@dataclass
class Step:
    name: str
    command: str
    seconds: float | None = None
    result: str = ""
    status: str = "skipped"  # PASS | FAIL | ran (no verdict in a dry run) | skipped
    details: dict = field(default_factory=dict)


class Clock:
    """The overall budget: each step gets what is left, at most its own cap."""

    def __init__(self, budget_s: float):
        self.end = time.perf_counter() + budget_s

    def left(self, cap: float) -> float:
        return max(0.0, min(cap, self.end - time.perf_counter()))


def _run(cmd: list[str], env: dict, timeout: float) -> tuple[int | None, str, float]:
    """Exit status (None on timeout), stdout + stderr, wall seconds."""
    if timeout < 1:
        return None, "", 0.0
    start = time.perf_counter()
    try:
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        return out.returncode, out.stdout + out.stderr, time.perf_counter() - start
    except subprocess.TimeoutExpired as e:
        text = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, text, time.perf_counter() - start


def _timed_out(seconds: float) -> str:
    return f"timed out after {seconds:.0f} s" if seconds else "not run: the overall budget was spent"


def _events(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else ""


def _show(cmd: list[str]) -> str:
    return " ".join(["python" if c == sys.executable else c for c in cmd])


def environment(device: str) -> Step:
    import torch

    step = Step("environment", "python -c 'import torch ...'")
    parts = [f"torch {torch.__version__}"]
    if device == "cuda":
        if not torch.cuda.is_available():
            step.result, step.status = f"torch {torch.__version__}: no CUDA device visible", "FAIL"
            return step
        props = torch.cuda.get_device_properties(0)
        parts += [
            f"{torch.cuda.get_device_name(0)} ({props.total_memory / 2**30:.0f} GiB, capability "
            f"{props.major}.{props.minor}), CUDA {torch.version.cuda}",
            f"bf16 {'yes' if torch.cuda.is_bf16_supported() else 'no'}",
            f"NCCL {'yes' if torch.distributed.is_nccl_available() else 'no'}",
        ]
    else:
        from core.base.device import describe_cpu

        parts.append(describe_cpu())
    step.result, step.status = "; ".join(parts), "PASS"
    return step


def tests(device: str, dry: bool, clock: Clock, env: dict, cap: float) -> Step:
    files = list(DEVICE_TESTS)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files]
    if dry:  # one quick test checks the wiring
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", files[0], "-k", "bfloat16"]
    step = Step(f"tests on {device}", f"FMNIST_TEST_DEVICE={device} {_show(cmd)}")
    code, text, step.seconds = _run(cmd, {**env, "FMNIST_TEST_DEVICE": device}, clock.left(cap))
    summary = next((line for line in reversed(text.splitlines()) if re.search(r"\d+ (passed|failed|error)", line)), "")
    step.result = summary.strip("= ") or _last_line(text) or "no output"
    step.details["passed"] = int(m.group(1)) if (m := re.search(r"(\d+) passed", summary)) else 0
    failed = [line.split("::")[-1].split(" ")[0] for line in text.splitlines() if line.startswith(("FAILED", "ERROR"))]
    if failed:
        step.result += f"; not passed: {', '.join(failed)}"
    if code is None:
        step.result, step.status = _timed_out(step.seconds), "FAIL"
    else:
        step.status = "PASS" if code == 0 and step.details["passed"] > 0 else "FAIL"
    return step


def train(name: str, args: list[str], device: str, clock: Clock, env: dict, cap: float, goal: float | None) -> Step:
    """One `python -m core.train ... --json` run: wall time, test accuracy, bf16, the device it trained on."""
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as runs:
        cmd = [sys.executable, "-m", "core.train", *args, "--device", device, "--json", "--out", runs]
        step = Step(name, _show(cmd).replace(runs, "RUNS"))
        code, text, step.seconds = _run(cmd, env, clock.left(cap))
    events = _events(text)
    start = next((e for e in events if e.get("event") == "start"), {})
    end = next((e for e in events if e.get("event") == "end"), {})
    if code is None:
        step.result, step.status = _timed_out(step.seconds), "FAIL"
        return step
    if code != 0 or not end:
        step.result, step.status = f"exit {code}: {_last_line(text)}", "FAIL"
        return step
    accuracy = end.get("test_accuracy") or 0.0
    epochs = [e for e in events if e.get("event") == "epoch"]
    step.details = {
        "accuracy": accuracy,
        "train_s": end.get("seconds"),
        "bf16": start.get("bf16"),
        "images_per_s": epochs[-1]["images_per_s"] if epochs else None,
    }
    step.result = (
        f"{accuracy:.2%} test, {end.get('epochs_run')} epochs, training {end.get('seconds', 0):.1f} s on "
        f"{start.get('device')}{', bf16' if start.get('bf16') else ''}"
    )
    step.status = "ran" if goal is None else ("PASS" if accuracy >= goal else "FAIL")
    return step


def bf16(device: str, images: int, clock: Clock, env: dict, cap: float) -> Step:
    """ResNet-18 (width 0.25), two epochs of `images` images with bf16 autocast and with --no-amp: the training
    images/s of the second epoch (the first one warms up: cuDNN's autotuning, oneDNN's kernels)."""
    speeds = {}
    seconds = 0.0
    args = ["--arch", "resnet18", "--limit", str(images), "--epochs", "2", "--batch-size", "256", "--val-fraction", "0"]
    for label, extra in (("bf16", []), ("fp32", ["--no-amp"])):
        step = train(label, [*args, *extra], device, clock, env, cap, None)
        seconds += step.seconds or 0.0
        if step.status == "FAIL":
            step.name, step.seconds = "bf16 autocast", seconds
            return step
        speeds[label] = (step.details["images_per_s"], step.details["bf16"])
    step = Step("bf16 autocast", f"python -m core.train {' '.join(args)} [--no-amp]")
    step.seconds = seconds
    (fast, used), (slow, _) = speeds["bf16"], speeds["fp32"]
    step.details = {"bf16_images_per_s": fast, "fp32_images_per_s": slow, "used": used}
    step.result = f"ResNet-18 trains {fast:,.0f} images/s with bf16, {slow:,.0f} without ({fast / slow:.2f}x)"
    if device == "cuda":
        step.status = "PASS" if used else "FAIL"
    else:
        step.status = "ran"
        step.result += "" if used else " (bf16 not used on this CPU)"
    return step


def torchrun(device: str, images: int, clock: Clock, env: dict, cap: float) -> Step:
    """`torchrun --standalone --nproc_per_node=1 -m core.train` on the device; NCCL's own log proves NCCL ran."""
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as runs:
        args = ["--limit", str(images), "--epochs", "2", "--device", device, "--json", "--out", runs]
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1", "-m", "core.train"]
        cmd += args
        run_env = {**env, "NCCL_DEBUG": "INFO", "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "2")}
        step = Step(
            "torchrun, 1 process",
            _show(cmd).replace(runs, "RUNS").replace("python -m torch.distributed.run", "torchrun"),
        )
        code, text, step.seconds = _run(cmd, run_env, clock.left(cap))
    end = next((e for e in _events(text) if e.get("event") == "end"), {})
    backend = "nccl" if "NCCL INFO" in text else ("gloo" if device != "cuda" else "not NCCL")
    if code is None:
        step.result, step.status = _timed_out(step.seconds), "FAIL"
        return step
    if code != 0 or not end:
        step.result, step.status = f"exit {code}: {_last_line(text)}", "FAIL"
        return step
    step.details = {"backend": backend, "accuracy": end.get("test_accuracy")}
    step.result = f"{backend}: {end['test_accuracy']:.2%} test after 2 epochs on {images:,} images"
    step.status = "PASS" if backend == ("nccl" if device == "cuda" else "gloo") else "FAIL"
    return step


def check(device: str = "cuda", dry: bool = False, budget_s: float | None = None, log=print) -> list[Step]:
    size = DRY if dry else FULL
    clock = Clock(budget_s or (DRY_BUDGET_S if dry else BUDGET_S))
    cap = 300 if dry else 150  # seconds for one training at most (a dry run may share a busy CPU)
    env = {k: v for k, v in os.environ.items() if k != "FMNIST_TEST_DEVICE"}
    steps = [environment(device)]
    if steps[0].status == "FAIL":
        return steps
    log(f"tests on {device} ...")
    steps.append(tests(device, dry, clock, env, 2 * cap if dry else 240))
    with tempfile.TemporaryDirectory(prefix="gpu-check-data-") as folder:
        if dry:  # the trainings read a small copy of the dataset: their final tests are quick too
            env = {**env, "FMNIST_DATA_DIR": small_copy(folder, size["limit"], size["test_images"])}
        steps += trainings(device, size, dry, clock, env, cap, log)
    return steps


def small_copy(folder: str, train: int, test: int) -> str:
    """The first `train` training and `test` test images of the dataset, with their labels, as idx files."""
    from core.data import dataset
    from core.data.idx import write_idx

    data = dataset.load(allow_download=False)
    for key, stem in dataset.FILES.items():
        split = key.split("_")[0]
        write_idx(Path(folder) / stem, getattr(data, key)[: train if split == "train" else test].numpy())
    return folder


def trainings(device: str, size: dict, dry: bool, clock: Clock, env: dict, cap: float, log=print) -> list[Step]:
    """The quick demo and every rung, bf16 autocast and torchrun."""
    steps = []
    shrink = []
    if size["limit"]:
        shrink += ["--limit", str(size["limit"])]
    if size["epochs"]:
        shrink += ["--epochs", str(size["epochs"])]
    for r in RUNGS:
        log(f"{r.recipe} ...")
        goal = None if dry else r.accuracy
        steps.append(train(r.recipe, ["--preset", r.recipe, *shrink], device, clock, env, cap, goal))
    log("bf16 autocast ...")
    steps.append(bf16(device, size["bf16_images"], clock, env, cap if dry else 120))
    log("torchrun ...")
    steps.append(torchrun(device, size["torchrun_images"], clock, env, cap if dry else 180))
    return steps


def table(steps: list[Step], device: str, dry: bool, budget_s: float) -> str:
    total = sum(s.seconds or 0.0 for s in steps)
    mode = (
        f"dry run (tiny limits: trainings on a copy of the first {DRY['limit']:,} training and "
        f"{DRY['test_images']:,} test images; no accuracy verdicts)"
        if dry
        else f"full (budget {budget_s:.0f} s)"
    )
    lines = [
        f"## GPU check on {device}: {mode}",
        "",
        "| step | command | seconds | result | status |",
        "|---|---|---|---|---|",
    ]
    for s in steps:
        seconds = "—" if s.seconds is None else f"{s.seconds:.1f}"
        lines.append(f"| {s.name} | `{s.command}` | {seconds} | {s.result.replace('|', '/')} | {s.status} |")
    passed = all(s.status in ("PASS", "ran") for s in steps)
    lines += ["", f"Total {total:.0f} s; {'every step ran' if passed else 'some steps FAILED'}."]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gpu_check", description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    p.add_argument("--dry-run", action="store_true", help="tiny limits: checks the script, not the device")
    p.add_argument(
        "--budget", type=float, help=f"seconds for the whole check (default {BUDGET_S:g}; a dry run {DRY_BUDGET_S:g})"
    )
    p.add_argument("--out", help="also write the table to this file")
    args = p.parse_args(argv)
    steps = check(args.device, args.dry_run, args.budget, log=lambda m: print(m, file=sys.stderr, flush=True))
    text = table(steps, args.device, args.dry_run, args.budget or (DRY_BUDGET_S if args.dry_run else BUDGET_S))
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0 if all(s.status in ("PASS", "ran") for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
