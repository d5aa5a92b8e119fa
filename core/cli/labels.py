"""Command line: python -m core.labels [--k 5] [--recipe NAME] [--csv suspects.csv] (suspect labels), or
python -m core.labels --duplicates [--csv pairs.csv] (near-duplicate images within and across the splits)."""

import argparse
import json
import sys

from core.analysis import duplicates, label_issues
from core.base.errors import StudioError
from core.cli.common import add_data_flags, friendly_errors
from core.data import dataset
from core.data.classes import CLASS_NAMES
from core.training import out_of_fold
from core.training.recipes import PRESETS

SHOWN = 20  # rows printed without --csv


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core.labels",
        description="Suspect labels of the training set (out-of-fold probabilities ranked by cleanlab), or with "
        "--duplicates the near-duplicate images within the training set, within the test set and across them.",
    )
    p.add_argument("--duplicates", action="store_true", help="list near-duplicate pairs instead of suspect labels")
    p.add_argument("--k", type=int, default=label_issues.DEFAULT_K, help=f"folds (default {label_issues.DEFAULT_K})")
    p.add_argument(
        "--recipe",
        default=label_issues.DEFAULT_RECIPE,
        choices=sorted(PRESETS),
        help=f"the recipe each fold's model trains with (default {label_issues.DEFAULT_RECIPE})",
    )
    p.add_argument(
        "--csv",
        help="write every row here ('-' for standard output): suspects index,given,suggested,quality worst first; "
        "duplicates a_split,a_index,b_split,b_index,distance closest first",
    )
    p.add_argument("--recompute", action="store_true", help="compute again even if a stored result exists")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    add_data_flags(p)
    return p


def _progress(fraction: float, message: str) -> None:
    print(f"\r{message}: {fraction:.0%}   ", end="", file=sys.stderr, flush=True)


def _write(path: str, write) -> None:
    if path == "-":
        write(sys.stdout)
        return
    try:
        with open(path, "w", newline="") as f:
            write(f)
    except OSError as e:
        raise StudioError(f"cannot write {path}: {e.strerror or e}.") from None


def _suspects(args, data) -> tuple[dict, label_issues.Suspects]:
    progress = _progress if sys.stderr.isatty() else None
    found = out_of_fold.suspects(data, args.recipe, args.k, progress=progress, recompute=args.recompute)
    if progress:
        print(file=sys.stderr)
    if args.csv:
        _write(args.csv, lambda out: label_issues.write_csv(found, out))
    return {
        "recipe": found.recipe,
        "k": found.k,
        "images": len(found.labels),
        "out_of_fold_accuracy": round(found.accuracy, 6),
        "flagged_by_cleanlab": int(found.flagged.sum()),
        "seconds": round(found.seconds, 1),
        "worst": [int(i) for i in found.worst(SHOWN)],
        "rows": len(found.labels),
    }, found


def _duplicates(args, data) -> tuple[dict, duplicates.Pairs]:
    progress = _progress if sys.stderr.isatty() else None
    found = duplicates.compute(data, progress=progress, recompute=args.recompute)
    if progress:
        print(file=sys.stderr)
    if args.csv:
        _write(args.csv, lambda out: duplicates.write_csv(found, out))
    return {
        "threshold": found.threshold,
        "pairs": len(found),
        **{k.replace(" ", "_"): v for k, v in found.counts().items()},
        "test_images_with_a_training_copy": len(found.leaked_test_indices()),
        "rows": len(found),
    }, found


@friendly_errors
def main(argv=None) -> int:
    args = parser().parse_args(argv)
    data = dataset.load(args.data_dir)
    summary, found = (_duplicates if args.duplicates else _suspects)(args, data)
    report = sys.stderr if args.csv == "-" else sys.stdout  # standard output may be the CSV itself
    if args.json:
        print(json.dumps(summary), file=report, flush=True)
    elif args.duplicates:
        counts = ", ".join(f"{v:,} {k}" for k, v in found.counts().items())
        print(
            f"{len(found):,} near-duplicate pairs (RMS pixel difference below {found.threshold:g}): {counts}; "
            f"{summary['test_images_with_a_training_copy']:,} test images have a near-copy in training",
            file=report,
        )
    else:
        print(
            f"{found.k}-fold out-of-fold accuracy {found.accuracy:.2%} with {found.recipe} "
            f"({found.seconds:.0f} s to compute); cleanlab flags {int(found.flagged.sum()):,} of "
            f"{len(found.labels):,} labels",
            file=report,
        )
        if not args.csv:
            print("index  given         suggested     quality", file=report)
            suggested = found.suggested
            for i in found.worst(SHOWN).tolist():
                given, likely = CLASS_NAMES[found.labels[i]], CLASS_NAMES[suggested[i]]
                print(f"{i:>5}  {given:<12}  {likely:<12}  {found.quality[i]:.4f}", file=report)
    if args.csv and args.csv != "-" and not args.json:
        print(f"wrote {summary['rows']:,} rows to {args.csv}", file=report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
