"""Command line: python -m core.teach CHECKPOINT --class NAME IMAGE [IMAGE ...] [--out NEW.safetensors] [--json]."""

import argparse
import sys

from core.analysis import penultimate
from core.base.errors import StudioError
from core.cli.common import add_data_flags, friendly_errors, print_json
from core.cli.predict import read_image
from core.io import checkpoint, preprocess
from core.library import taught as taught_models
from core.training import teach


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core.teach",
        description="Teach a model one more class from a few pictures of it: a new checkpoint that knows the "
        "old classes and the new one.",
    )
    p.add_argument("checkpoint", help="the model to teach: a .safetensors checkpoint (a taught one too)")
    p.add_argument("--class", dest="name", required=True, help="the new class's name, e.g. Hat")
    p.add_argument(
        "images",
        nargs="+",
        help=f"at least {teach.MIN_EXAMPLES} pictures of it ({teach.RECOMMENDED}+ work better): drawings or photos "
        f"of one object each ({preprocess.ACCEPTED}); a quarter are held out to test the result",
    )
    p.add_argument(
        "--out",
        help="where to write the new .safetensors checkpoint. Left out, or inside the runs directory "
        "(FMNIST_RUNS_DIR, else runs/), it is kept in the runs directory's taught/ folder (under this file name, "
        "or a new one) and every page's model picker lists it, shared with the whole class: a model taught here "
        "belongs to no browser, so like a shipped model only the teacher may rename, unshare or delete it. "
        "Anywhere else it is loaded by its path (every command; Models → Import on the pages)",
    )
    p.add_argument("--seed", type=int, default=0, help="which examples are held out and how they are varied")
    add_data_flags(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p


def read_examples(paths: list[str]) -> list:
    """Each file preprocessed as core.predict reads it; the first unusable one ends the command with its name."""
    out = []
    for path in paths:
        try:
            out.append(read_image(path).tensor)
        except StudioError as e:
            raise StudioError(f"{path}: {e}") from None
    return out


def format_report(summary: dict, out: str) -> str:
    names = summary["class_names"]
    before, after = summary["test_accuracy_before"], summary["test_accuracy_after"]
    taken = ", ".join(f"{name} {n}" for name, n in summary["test_images_taken"].items() if n) or "none"
    return "\n".join(
        [
            f"taught {summary['class']} from {summary['examples']} examples ({summary['trained_on']} fitted, "
            f"{summary['held_out']} held out) in {summary['seconds']['total']:.1f} s",
            f"held-out examples: {round(summary['held_out_accuracy'] * summary['held_out'])} of {summary['held_out']} "
            f"get {summary['class']} ({summary['held_out_accuracy']:.1%})",
            f"test accuracy: {before:.2%} before, {after:.2%} after ({(after - before) * 100:+.2f} points) on "
            f"{summary['test_images']:,} test images",
            f"test images now called {summary['class']}: {taken}",
            f"wrote {out} ({len(names)} classes: {', '.join(names)})",
            *(["listed in every model picker, shared with the whole class"] if summary.get("listed") else []),
        ]
    )


@friendly_errors
def main(argv=None) -> int:
    args = parser().parse_args(argv)
    teach.check_count(len(args.images))  # before any work
    base = checkpoint.load(args.checkpoint)
    teach.check_name(args.name, base.class_names)
    penultimate.usable_layer(base.model)
    examples = read_examples(args.images)
    out, listed = taught_models.command_line_path(args.out, base.name, args.name)
    taught = teach.teach(base, args.name, examples, seed=args.seed, data_dir=args.data_dir)
    if listed:
        taught_models.store_shared(taught, base, out)
    else:
        teach.save(taught, base, out)
    summary = {**taught.summary(), "out": str(out), "listed": listed}
    if args.json:
        print_json(summary)
    else:
        print(format_report(summary, str(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
