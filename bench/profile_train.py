"""Profile and A/B our training step on the CPU: python -m bench.profile_train [--arch simple_cnn] [--steps 200].

`step_loop` mirrors the batch loop of core.training.trainer.Trainer.run (no augmentation, Adam, no schedule) with
switches for the candidate speed-ups; `variants` times them interleaved (best of several rounds, since the
machine may be shared) and `profile` prints torch.profiler's top operators for one variant.
"""

import core  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch loads)

# isort: split
import argparse
import time

import torch
import torch.nn.functional as F

from core.data import dataset
from core.data.classes import MEAN, STD
from core.models import build

VARIANTS = {
    "baseline (Trainer today)": {},
    "Adam foreach=True": {"adam": {"foreach": True}},
    "Adam fused=True": {"adam": {"fused": True}},
    "pre-normalised dataset": {"prenorm": True},
    "fused Adam + pre-normalised": {"adam": {"fused": True}, "prenorm": True},
    "channels_last": {"channels_last": True},
    "1 thread": {"threads": 1},
    "channels_last + 1 thread": {"channels_last": True, "threads": 1},
    "fused Adam + 1 thread": {"adam": {"fused": True}, "threads": 1},
    "fused Adam + channels_last + 1 thread": {"adam": {"fused": True}, "channels_last": True, "threads": 1},
    "oneDNN (mkldnn) convolutions off": {"mkldnn": False},
}


def step_loop(
    arch,
    x_train,
    y_train,
    batch_size,
    steps,
    adam=None,
    prenorm=False,
    channels_last=False,
    threads=None,
    mkldnn=True,
    profiler=None,
) -> float:
    """Images/s of `steps` training steps after 20 warm-up steps."""
    with torch.backends.mkldnn.flags(enabled=mkldnn):
        return _steps(arch, x_train, y_train, batch_size, steps, adam, prenorm, channels_last, threads, profiler)


def _steps(arch, x_train, y_train, batch_size, steps, adam, prenorm, channels_last, threads, profiler) -> float:
    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build(arch)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **(adam or {}))
    xs = dataset.normalize(x_train) if prenorm else x_train
    perm = torch.randperm(len(x_train))
    loss_sum = torch.zeros(())
    correct = torch.zeros((), dtype=torch.long)
    n_batches = len(x_train) // batch_size
    start = None
    for i in range(steps + 20):
        if i == 20:
            start = time.perf_counter()
        b = i % n_batches
        idx = perm[b * batch_size : (b + 1) * batch_size]
        if prenorm:
            x = xs[idx]
        else:
            x = xs[idx].float().div_(255).unsqueeze_(1)
            x = (x - MEAN) / STD
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = y_train[idx]
        out = model(x)
        loss = F.cross_entropy(out.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * len(idx)
        correct += (out.detach().argmax(1) == y).sum()
        if profiler is not None:
            profiler.step()
    loss_sum.item()
    seconds = time.perf_counter() - start
    torch.set_num_threads(old_threads)
    return steps * batch_size / seconds


def variants(arch, data, batch_size=64, steps=200, rounds=3, names=None) -> dict:
    """Best images/s of each variant over `rounds` interleaved rounds."""
    best = {}
    for _ in range(rounds):
        for name in names or VARIANTS:
            ips = step_loop(arch, data.train_images, data.train_labels, batch_size, steps, **VARIANTS[name])
            best[name] = max(best.get(name, 0.0), ips)
    return best


def profile(arch, data, batch_size=64, steps=100, row_limit=15, **variant) -> str:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        step_loop(arch, data.train_images, data.train_labels, batch_size, steps, **variant)
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=row_limit)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile_train", description=__doc__.splitlines()[0])
    p.add_argument("--arch", nargs="+", default=["simple_cnn", "mlp"])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-profile", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(max(1, len(__import__("os").sched_getaffinity(0))))
    data = dataset.load(allow_download=False)
    for arch in args.arch:
        if not args.no_profile:
            print(f"### {arch}, batch {args.batch_size}: top operators (baseline)\n")
            print(profile(arch, data, args.batch_size, min(args.steps, 100)))
        print(f"### {arch}, batch {args.batch_size}: images/s, best of {args.rounds} interleaved rounds\n")
        print("| variant | images/s | vs baseline |\n|---|---|---|")
        best = variants(arch, data, args.batch_size, args.steps, args.rounds)
        base = best["baseline (Trainer today)"]
        for name, ips in best.items():
            print(f"| {name} | {ips:,.0f} | {ips / base:.2f}x |")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
