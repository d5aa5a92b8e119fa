"""A second Ray node on this machine, joined to a running Ray over the loopback address, for the tests.

It does what `ray start --address ADDRESS --num-cpus N --resources JSON --block` does (a raylet and its
helpers, through the same ray._private.node.Node), but keeps 127.0.0.1 as the node's address: Ray 2.60's
`ray start --address` replaces a loopback address with the machine's network address, and the one setting that
stops that (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0) makes it refuse to add a node at all.
Prints `node <id>` once the node is up; SIGTERM ends it and every process it started.

    python tests/core/ray_node.py 127.0.0.1:PORT TEMP_DIR --num-cpus 1 --resources '{"worker_node": 1}'
"""

import argparse
import json
import os
import signal
import sys
import time

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when ray is imported
os.environ["RAY_AUTH_MODE"] = "token"  # as the studio's local Ray (core.serving.ray_runner)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("address")
    p.add_argument("temp_dir")
    p.add_argument("--num-cpus", type=int, default=1)
    p.add_argument("--resources", default="{}")
    args = p.parse_args()

    from ray._private.node import Node
    from ray._private.parameter import RayParams

    params = RayParams(
        gcs_address=args.address,
        node_ip_address="127.0.0.1",
        num_cpus=args.num_cpus,
        num_gpus=0,
        resources=json.loads(args.resources),
        temp_dir=args.temp_dir,
        include_log_monitor=False,
        object_store_memory=100 * 1024 * 1024,
        node_manager_port=0,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # exit through atexit: the node's processes end too
    node = Node(params, head=False, shutdown_at_exit=True, spawn_reaper=True)
    print(f"node {node.node_id}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
