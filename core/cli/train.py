"""Command line: python -m core.train --arch simple_cnn --epochs 10 --batch-size 128 --lr 1e-3 ...

The flags of the training's settings and of the architectures' settings are built from their records
(core.training.config.SETTINGS, core.models.common_settings).
"""

import argparse
import signal
import sys

from core.base.errors import StudioError
from core.base.settings import Setting
from core.cli.common import add_data_flags, friendly_errors, print_json
from core.data import dataset
from core.io.checkpoint import command_line
from core.models import common_settings
from core.training import distributed
from core.training.config import SETTINGS, TrainConfig
from core.training.recipes import DEFAULT_RECIPE, PRESETS, preset_config
from core.training.trainer import Trainer


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core.train", description="Train a Fashion-MNIST classifier.")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help=f"start from a tuned recipe (flags below override it); without --preset or --arch: {DEFAULT_RECIPE}",
    )
    add_flag(p, SETTINGS["arch"])
    for record in arch_flags().values():
        add_flag(p, record)
    for name, record in SETTINGS.items():
        if record.flag and name != "arch":
            add_flag(p, record)
    add_data_flags(p)
    p.add_argument("--out", help="runs directory (default runs/ or FMNIST_RUNS_DIR)")
    p.add_argument("--name", help="a display name for the checkpoint")
    p.add_argument("--resume", help="run folder (or its last.pt) to continue")
    p.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    return p


def arch_flags() -> dict[str, Setting]:
    """The architectures' settings that get a flag of their own (a name a training setting has is not one)."""
    return {name: record for name, record in common_settings().items() if name not in SETTINGS}


def add_flag(p: argparse.ArgumentParser, record: Setting) -> None:
    """The flag of one setting: --name-with-dashes; a yes/no setting as --x / --no-x."""
    text = record.help.replace("%", "%%")  # argparse formats help with %
    if record.kind == "bool":
        p.add_argument(record.flag_name, action=argparse.BooleanOptionalAction, default=None, help=text)
    elif record.kind == "choice":
        p.add_argument(record.flag_name, choices=list(record.options), help=text)
    else:
        kind = {"int": int, "float": float}.get(record.kind, str)  # lists are parsed in config_from_args
        p.add_argument(record.flag_name, type=kind, help=text)


def flag_value(record: Setting, value):
    """A flag's value as the setting takes it: "512,256" -> (512, 256) for sizes, "Shirt,Coat" -> a list."""
    if record.kind == "sizes":
        try:
            return tuple(int(h) for h in value.split(","))
        except ValueError:
            raise StudioError(f"{record.flag_name} takes whole numbers separated by commas, got {value!r}.") from None
    if record.kind == "names":
        return [item.strip() for item in value.split(",")]
    return value


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
    for name, record in SETTINGS.items():
        value = getattr(args, name, None) if record.flag else None
        if value is not None:
            setattr(cfg, name, flag_value(record, value))
    settings = dict(cfg.arch_settings)
    for name, record in arch_flags().items():
        value = getattr(args, name, None)
        if value is not None:
            settings[name] = flag_value(record, value)
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
