"""Command line: python -m core.evaluate CHECKPOINT [--data-dir D] [--json]."""

import argparse
import sys

from core.analysis import evaluation
from core.cli.common import add_data_flags, friendly_errors, print_json
from core.data.classes import CLASS_NAMES


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core.evaluate",
        description="Test accuracy, per-class accuracy and confusion matrix of a checkpoint.",
    )
    p.add_argument("checkpoint", help="a .safetensors checkpoint (shipped or a run's best.safetensors)")
    add_data_flags(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p


def format_report(summary: dict) -> str:
    lines = [
        f"{summary['checkpoint']}",
        f"test accuracy {summary['accuracy']:.2%} on {summary['count']:,} images",
        "",
        "per-class accuracy:",
    ]
    lines += [f"  {name:<12} {acc:.2%}" for name, acc in summary["per_class_accuracy"].items()]
    names = summary.get("class_names") or list(CLASS_NAMES)
    held = summary.get("held_out")
    if held:
        taught = ", ".join(names[len(CLASS_NAMES) :])
        lines += ["", f"held-out examples of {taught}: {held['accuracy']:.2%} of {held['count']} right"]
    short = [name[:7] for name in names]
    lines += [
        "",
        "confusion matrix (rows = true class, columns = predicted):",
        " " * 13 + " ".join(f"{s:>7}" for s in short),
    ]
    lines += [
        f"  {name:<11}" + " ".join(f"{n:>7}" for n in row) for name, row in zip(names, summary["confusion_matrix"])
    ]
    return "\n".join(lines)


@friendly_errors
def main(argv=None) -> int:
    args = parser().parse_args(argv)
    summary = evaluation.summary(evaluation.evaluate(args.checkpoint, data_dir=args.data_dir))
    if args.json:
        print_json(summary)
    else:
        print(format_report(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
