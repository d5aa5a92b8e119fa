"""Copy a finished run's best checkpoint into checkpoints/ and rewrite checkpoints/README.md's table.

python scripts/ship_checkpoint.py runs/<run-id> [--name simple_cnn]
python scripts/ship_checkpoint.py --table-only
"""

import argparse
import re
import shlex
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.io import checkpoint, runs
from core.library.catalog import SHIPPED_DIR, shipped_models
from core.library.compare import shipped_history_path
from core.models import get
from core.training.recipes import PRESET_TARGETS

TABLE_START, TABLE_END = "<!-- table:start -->", "<!-- table:end -->"
LOCAL_FLAGS = ("--data-dir", "--out")


def portable_command(command: str) -> str:
    """The recorded command without this machine's paths (data and runs folders)."""
    words, out, skip = shlex.split(command), [], False
    for word in words:
        if skip:
            skip = False
        elif word in LOCAL_FLAGS:
            skip = True
        elif not word.startswith(tuple(f + "=" for f in LOCAL_FLAGS)):
            out.append(word)
    return shlex.join(out)


def ship(run_dir: Path, name: str | None) -> Path:
    loaded = checkpoint.load(run_dir / runs.BEST)
    meta = dict(loaded.metadata)
    name = name or loaded.arch
    meta.update(name=name, command=portable_command(meta.get("command", "")))
    kept = {
        k: v
        for k, v in meta.items()
        if k
        not in ("format", "arch", "arch_settings", "normalization", "class_names", "dtype", "versions", "created_at")
    }
    target = SHIPPED_DIR / f"{name}.safetensors"
    checkpoint.save(target, loaded.model, loaded.arch, loaded.settings, kept, half=meta.get("dtype") == "float16")
    history = run_dir / runs.METRICS  # the per-epoch history ships beside the weights (Compare runs)
    if history.is_file():
        shutil.copyfile(history, shipped_history_path(target))
    return target


def table() -> str:
    rows = [
        "| model | architecture | test accuracy | target | Shirt accuracy | parameters | epochs | training time | "
        "hardware | weights |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    commands = []
    for m in shipped_models():
        meta, metrics = m.metadata, m.metadata["metrics"]
        params = get(m.arch).parameter_count(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in meta["arch_settings"].items()}
        )
        target = PRESET_TARGETS.get(m.arch)
        rows.append(
            f"| `{m.path.name}` | {get(m.arch).display_name} | {metrics['test_accuracy']:.2%} | "
            f"{f'{target:.1%}' if target else '—'} | {metrics['test_shirt_accuracy']:.2%} | {params:,} | "
            f"{meta['epochs_run']} (best {metrics['best_epoch']}) | {meta['training_seconds'] / 60:.1f} min | "
            f"{meta['device']} | {meta['dtype']} |"
        )
        commands.append(f"- `{m.path.name}`: `{meta['command']}`")
    return "\n".join(
        rows + ["", "Commands (seeded; add `--data-dir` if the data is not found by itself):", ""] + commands
    )


def write_table() -> None:
    readme = SHIPPED_DIR / "README.md"
    text = readme.read_text()
    block = f"{TABLE_START}\n{table()}\n{TABLE_END}"
    text = re.sub(f"{TABLE_START}.*{TABLE_END}", lambda _: block, text, flags=re.S)
    readme.write_text(text)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("run_dir", nargs="?", type=Path)
    p.add_argument("--name")
    p.add_argument("--table-only", action="store_true")
    args = p.parse_args()
    if not args.table_only:
        print(f"shipped {ship(args.run_dir, args.name)}")
    write_table()


if __name__ == "__main__":
    main()
