"""Command line: python -m core.train --arch simple_cnn --epochs 10 --batch-size 128 --lr 1e-3 ..."""

import argparse
import signal
import sys

from core.base.errors import StudioError
from core.cli.common import add_data_flags, friendly_errors, print_json
from core.data import dataset
from core.io.checkpoint import command_line
from core.models import REGISTRY
from core.training import distributed
from core.training.config import DEVICES, OPTIMIZERS, SCHEDULES, TrainConfig
from core.training.recipes import DEFAULT_RECIPE, PRESETS, preset_config
from core.training.trainer import Trainer


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core.train", description="Train a Fashion-MNIST classifier.")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help=f"start from a tuned recipe (flags below override it); without --preset or --arch: {DEFAULT_RECIPE}",
    )
    p.add_argument("--arch", choices=list(REGISTRY), help="architecture (with the library's default hyperparameters)")
    p.add_argument("--width", type=float, help="channel multiplier (simple_cnn, two_conv, resnet18, fast_cnn)")
    p.add_argument("--hidden", help="MLP hidden sizes, comma separated, e.g. 512,256")
    p.add_argument("--dropout", type=float, help="dropout probability (mlp, simple_cnn, two_conv)")
    p.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=None, help="batch normalisation")
    p.add_argument("--activation", choices=["tanh", "relu"], help="LeNet-5 activation")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--momentum", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--schedule", choices=SCHEDULES)
    p.add_argument("--label-smoothing", type=float)
    p.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random 2-pixel shifts and horizontal flips, done on the device",
    )
    p.add_argument("--augment-shift", type=int, help="largest random shift in pixels when augmenting (0-4)")
    p.add_argument("--ema", type=float, help="exponential moving average of weights, decay e.g. 0.999 (0 = off)")
    p.add_argument(
        "--test-time-flip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="predict with the average over the image and its mirror image (needs --augment)",
    )
    p.add_argument("--val-fraction", type=float, help="share of the 60,000 training images kept for validation")
    p.add_argument("--patience", type=int, help="early stop after this many epochs without a better val loss")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", choices=DEVICES)
    p.add_argument("--no-amp", action="store_true", help="disable mixed precision on CUDA")
    p.add_argument("--half-checkpoint", action="store_true", help="store weights as float16")
    add_data_flags(p)
    p.add_argument("--out", help="runs directory (default runs/ or FMNIST_RUNS_DIR)")
    p.add_argument("--name", help="a display name for the checkpoint")
    p.add_argument("--limit", type=int, help="train on the first N training images only")
    p.add_argument("--resume", help="run folder (or its last.pt) to continue")
    p.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    return p


def config_from_args(args) -> TrainConfig:
    if args.preset:
        base = preset_config(args.preset)
    elif args.arch:
        base = TrainConfig()
    else:
        base = preset_config(DEFAULT_RECIPE)
    if args.arch and args.preset and args.arch != base.arch:
        raise StudioError(f"preset {args.preset!r} is for {base.arch}, not {args.arch}.")
    cfg = base
    for name in (
        "arch",
        "epochs",
        "batch_size",
        "lr",
        "optimizer",
        "momentum",
        "weight_decay",
        "schedule",
        "label_smoothing",
        "augment",
        "augment_shift",
        "ema",
        "test_time_flip",
        "val_fraction",
        "patience",
        "seed",
        "device",
        "limit",
    ):
        value = getattr(args, name)
        if value is not None:
            setattr(cfg, name, value)
    if args.no_amp:
        cfg.amp = False
    if args.half_checkpoint:
        cfg.half_checkpoint = True
    settings = dict(cfg.arch_settings)
    if args.hidden is not None:
        try:
            settings["hidden"] = tuple(int(h) for h in args.hidden.split(","))
        except ValueError:
            raise StudioError(f"--hidden takes whole numbers separated by commas, got {args.hidden!r}.") from None
    for name in ("width", "dropout", "batch_norm", "activation"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    cfg.arch_settings = settings
    return cfg.validate()


def format_epoch(e: dict, epochs: int, validation: bool = True) -> str:
    val = f"val loss {e['val_loss']:.4f} acc {e['val_accuracy']:.2%}  " if validation else ""
    return (
        f"epoch {e['epoch']:>3}/{epochs}  train loss {e['train_loss']:.4f} acc {e['train_accuracy']:.2%}  "
        f"{val}lr {e['lr']:.2e}  "
        f"{e['images_per_s']:,.0f} img/s  {e['elapsed']:.1f}s  ETA {e['eta']:.0f}s" + ("  *" if e["best"] else "")
    )


@friendly_errors
def main(argv=None) -> int:
    args = parser().parse_args(argv)
    data = dataset.load(args.data_dir)
    events = []
    group = distributed.from_env()  # torchrun: one of several processes, rank 0 reports

    def on_event(event):
        if event["event"] == "batch" or not group.is_main:
            return
        if args.json:
            print_json(event)
        elif event["event"] == "start":
            precision = ", bfloat16 autocast" if event.get("bf16") else ""
            processes = f" x {event['processes']} processes" if event.get("processes", 1) > 1 else ""
            print(
                f"training {event['arch']} ({event['parameters']:,} parameters) on {event['device']}"
                f"{processes}{precision}: "
                f"{event['train_size']:,} train / {event['val_size']:,} validation images -> {event['run_dir']}",
                flush=True,
            )
        elif event["event"] == "epoch":
            print(format_epoch(event, trainer.config.epochs, validation=events[0]["val_size"] > 0), flush=True)
        events.append(event)

    if args.resume:
        trainer = Trainer.resume(
            args.resume, data, epochs=args.epochs, on_event=on_event, command=command_line(), dist=group
        )
    else:
        trainer = Trainer(
            config_from_args(args),
            data,
            runs_root=args.out,
            on_event=on_event,
            name=args.name,
            command=command_line(),
            dist=group,
        )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: trainer.stop())
    try:
        result = trainer.run()
    except BaseException:
        group.close()  # no waiting: the other processes are ended by torchrun
        raise
    group.close(wait=True)
    if not group.is_main:
        return 1 if result.status == "diverged" else 0
    if not args.json:
        print(f"{result.status}: {result.message}")
        if result.best_epoch is not None and not events[0]["val_size"]:  # no validation split: the last epoch
            print(f"epoch {result.best_epoch}: test accuracy {result.test_accuracy:.2%} ({result.seconds:.1f}s)")
        elif result.best_epoch is not None:
            print(
                f"best epoch {result.best_epoch}: val loss {result.best_val_loss:.4f}, "
                f"val accuracy {result.best_val_accuracy:.2%}; test accuracy {result.test_accuracy:.2%} "
                f"({result.seconds:.1f}s)"
            )
            print(f"checkpoint: {result.checkpoint}")
    if result.status == "diverged":
        print(f"error: {result.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
