"""Command line: python -m core.cluster status|stop [--out RUNS]

The studio's local Ray (core.serving.ray_runner) starts with a server's first training and keeps running when
the server stops, so that its trainings go on. `status` says whether it runs, where, and its processes'
memory; `stop` ends it and every training on it (each such job then ends as failed, its best checkpoint kept).
"""

import argparse
import sys

from core.cli.common import friendly_errors
from core.io import runs
from core.serving import local_ray, ray_runner


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core.cluster", description="The trainings' local Ray.")
    p.add_argument("action", choices=("status", "stop"))
    p.add_argument("--out", help="runs directory (default runs/ or FMNIST_RUNS_DIR)")
    return p


@friendly_errors
def main(argv=None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    root = runs.runs_dir(args.out)
    info = ray_runner.local_head_info(root)
    if args.action == "status":
        if not info or not info["running"]:
            print(f"no local Ray is running for {root}")
            return 1
        memory = local_ray.memory_mib(info["processes"])
        print(
            f"local Ray at {info['address']} ({info['cpus']} CPUs): {len(info['processes'])} processes, "
            f"{memory:,.0f} MiB (proportional set size); logs in {info['temp_dir']}"
        )
        return 0
    ended = ray_runner.stop_local_head(root)
    print(f"stopped the local Ray of {root} ({ended} processes)" if ended else f"no local Ray to stop for {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
