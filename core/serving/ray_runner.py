"""Trainings on Ray: the studio's local Ray on this machine by default, or a cluster (FMNIST_RAY_ADDRESS).

Every dashboard training runs in a Ray worker process, never in the page server: core.serving.shared_jobs
queues them, RayExecutor starts each as a detached actor named by its job id in the namespace "fmnist-studio"
(it outlives the server that started it) and core.serving.job_worker runs it. Read when a training starts:

- FMNIST_RAY_ADDRESS: a running cluster (`auto`, `host:port`, `ray://host:10001`). Unset: the studio's local
  Ray, started by the first training (not at page load) as its own processes, so that it keeps running when the
  server stops: a restarted server, or a second one on the same runs folder, finds it and its trainings
  (core.serving.local_ray; it ends itself once no server and no training has used it for
  FMNIST_RAY_IDLE_MINUTES, and `python -m core.cluster stop` ends it at once). It listens on the loopback
  address (127.0.0.1) only and has every core of the machine.
- FMNIST_CPUS_PER_TRAINING: CPUs each training takes, and its worker's threads (default: this machine's cores /
  FMNIST_MAX_TRAININGS on the local Ray, 1 on a cluster).
- FMNIST_GPUS_PER_TRAINING: GPUs each training takes, fractions allowed (0.25: four trainings share one);
  default 1 where the cluster has a GPU, else 0.
- FMNIST_RAY_RESOURCES: custom resources each training asks for, as a JSON object (e.g. '{"gpu_node": 1}').
- FMNIST_TRAINING_NICE: the scheduling priority (nice, 0-19) of a training's worker process, default 10: on a
  machine that also serves the pages, the pages answer first and the training takes the rest of the CPU
  (core.serving.priority).

A training that no node of the cluster can ever hold (more GPUs or CPUs than any node has) is refused before it
is submitted, with the one line of core.serving.cluster_fit.unfit; one that fits but finds the cluster busy
waits, its job saying so (job_events.WAITING), and is ended with that line should the cluster shrink meanwhile.

Ray is imported here only, when a training starts or a sweep runs with --ray: the app's start does not pay.
"""

import json
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.base.errors import StudioError
from core.serving import cluster_fit, job_events, local_ray, priority

log = logging.getLogger(__name__)

NAMESPACE = "fmnist-studio"
# For the page server's own Ray connection: it waits for a Ray that went away (it is started again) instead of
# ending itself after a minute, and its stops print no stack dump.
SERVER_ENV = {
    "RAY_gcs_rpc_server_reconnect_timeout_s": str(10 * 365 * 24 * 3600),
    "RAY_DISABLE_FAILURE_SIGNAL_HANDLER": "1",
}


@dataclass(frozen=True)
class RaySettings:
    address: str | None = None  # None: the studio's local Ray
    cpus: float | None = None  # per training; None: the default (see the module docstring)
    gpus: float | None = None
    resources: dict = field(default_factory=dict)
    nice: int = 10  # a training's worker runs at this niceness: pages first

    @classmethod
    def from_env(cls) -> "RaySettings":
        raw = os.environ.get("FMNIST_RAY_RESOURCES", "").strip()
        resources = {}
        if raw:
            try:
                resources = json.loads(raw)
            except json.JSONDecodeError:
                resources = None
            if not isinstance(resources, dict) or not all(
                isinstance(k, str) and isinstance(v, int | float) and v > 0 for k, v in resources.items()
            ):
                raise StudioError(f"FMNIST_RAY_RESOURCES must be a JSON object of positive numbers, got {raw!r}.")
        return cls(
            address=os.environ.get("FMNIST_RAY_ADDRESS", "").strip() or None,
            cpus=_number("FMNIST_CPUS_PER_TRAINING", positive=True),
            gpus=_number("FMNIST_GPUS_PER_TRAINING"),
            resources=resources,
            nice=priority.training_nice(),
        )


def _number(name: str, positive: bool = False) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise StudioError(f"{name} must be a number {'above' if positive else 'of at least'} 0, got {raw!r}.")
    return value


local_cores = local_ray.local_cores


# ---- the connection -----------------------------------------------------------------------------------------

_lock = threading.Lock()
_connection: dict = {}  # "address", "local" (the studio's local Ray?)


def connect(runs_root=None, settings: RaySettings | None = None, start: bool = True):
    """The `ray` module, connected to the cluster of `settings` (the studio's local Ray unless an address is
    set; started if need be and `start`). None when `start` is False and there is no local Ray."""
    settings = settings or RaySettings.from_env()
    with _lock:
        if _connection:
            import ray

            if ray.is_initialized() and not (_connection["local"] and not local_ray.answers(_connection["address"])):
                return ray
            ray.shutdown()  # not connected any more, or the local Ray has gone: start again
            _connection.clear()
        address = settings.address or local_head(runs_root, start=start)
        if address is None:
            return None
        host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
        if host in ("127.0.0.1", "localhost", "::1"):
            keep_on_loopback()
        if settings.address is None:
            os.environ.update(local_ray.LOCAL_AUTH_ENV)
        os.environ.update(SERVER_ENV)
        if "://" not in address and address != "auto" and not local_ray.answers(address):
            raise StudioError(f"cannot connect to Ray at {address}: nothing answers there.")
        import ray

        try:
            ray.init(
                address=address,
                namespace=NAMESPACE,
                logging_level=logging.ERROR,
                log_to_driver=False,
                ignore_reinit_error=True,
            )
        except Exception as e:
            log.exception("cannot connect to Ray at %s", address)  # the whole story, for whoever runs the server
            first = (str(e).strip().splitlines() or [""])[0][:200]
            raise StudioError(f"cannot connect to Ray at {address}: {type(e).__name__}: {first}") from None
        _connection.update(address=address, local=settings.address is None)
        return ray


def connected_to_local() -> bool:
    return bool(_connection.get("local"))


def disconnect() -> None:
    """Leave the cluster (its trainings go on)."""
    with _lock:
        if _connection:
            import ray

            ray.shutdown()
            _connection.clear()


def keep_on_loopback() -> None:
    """Make this process's Ray (and the processes it starts) keep 127.0.0.1 as this machine's address."""
    os.environ.update(local_ray.LOOPBACK_ONLY_ENV)
    if "ray" in sys.modules:  # imported before: the setting is read at import, so tell the module too
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = False


# ---- the studio's local Ray (core.serving.local_ray) -----------------------------------------------------------


def local_head(runs_root=None, start: bool = True) -> str | None:
    """The address of the studio's local Ray for this runs folder, started first if it is not running and
    `start`; None if it is not running and not `start`."""
    return local_ray.address(job_events.jobs_dir(runs_root), start=start)


def local_head_info(runs_root=None) -> dict | None:
    return local_ray.info(job_events.jobs_dir(runs_root))


def stop_local_head(runs_root=None) -> int:
    """End the studio's local Ray of this runs folder and every training on it (see local_ray.stop)."""
    if _connection.get("local"):
        disconnect()
    return local_ray.stop(job_events.jobs_dir(runs_root))


# ---- trainings as detached actors ------------------------------------------------------------------------------


class TrainingActor:
    """A Ray actor that runs one job, then ends itself."""

    def __init__(self, spec: dict):
        self.spec = spec

    def run(self) -> dict:
        import ray

        from core.serving import job_worker

        try:
            return job_worker.run(self.spec, node=ray.get_runtime_context().get_node_id())
        finally:
            ray.actor.exit_actor()


_remote: dict = {}


def _remote_class(ray, target):
    if target not in _remote:
        _remote[target] = ray.remote(target)
    return _remote[target]


class RayExecutor:
    """Starts each job as a detached Ray actor named by its job id; tells whether that actor still exists."""

    def __init__(self, runs_root=None, settings: RaySettings | None = None, data_dir=None):
        self.runs_root = runs_root
        self.settings = settings
        self.data_dir = data_dir

    def start(self, spec: dict) -> str | None:
        """Submit the job's actor; job_events.WAITING if no node has room for it now (it waits). Raises the one
        line of cluster_fit.unfit, submitting nothing, when no node of the cluster could ever hold it."""
        settings = self.settings or RaySettings.from_env()
        ray = connect(self._root(spec), settings)
        options = training_options(ray, settings, local=connected_to_local())
        request = cluster_fit.request_of(options["num_cpus"], options["num_gpus"], options["resources"])
        why = cluster_fit.unfit(request, node_totals(ray))
        if why:
            raise StudioError(why)
        free = free_resources(ray)
        busy = free is not None and not cluster_fit.fits_now(request, free)
        spec = {**spec, "threads": _threads(options["num_cpus"]), "data_dir": spec.get("data_dir") or self._data()}
        spec["nice"] = settings.nice
        actor = _remote_class(ray, TrainingActor).options(
            name=spec["job_id"], namespace=NAMESPACE, lifetime="detached", max_restarts=0, **options
        )
        try:
            handle = actor.remote(spec)
        except ValueError:  # the name is still held by this job's previous start, ending: end it
            self._kill(ray, spec["job_id"])
            handle = actor.remote(spec)
        handle.run.remote()
        return job_events.WAITING if busy else None

    def pending(self, job_id: str, runs_root=None, cancel: bool = False) -> tuple[str, str] | None:
        """What keeps a started job whose worker has not reported from starting: ("waiting", WAITING) while its
        actor waits for room; ("unfit", the line of cluster_fit.unfit) once no node of the cluster can hold it
        any more (it shrank; Ray may have ended the actor then), or ("cancelled", "") when `cancel` and it still waits, its actor then ended; None
        while it starts (a node took it), when it is gone, or when Ray cannot say (e.g. a ray:// client)."""
        try:
            root = self.runs_root if self.runs_root is not None else runs_root
            ray = connect(root, self.settings or RaySettings.from_env(), start=False)
            if ray is None:
                return None
            actor = job_actor(ray, job_id)
            if actor is None or not _not_started(actor):
                return None
            why = cluster_fit.unfit(dict(actor.required_resources), node_totals(ray))
            if actor.state == actor.DEAD:  # Ray gave up on it (its node left): say why if nothing can hold it now
                return ("unfit", why) if why else None
            if why or cancel:
                self._kill(ray, job_id)
                return ("unfit", why) if why else ("cancelled", "")
            free = free_resources(ray)
            if free is not None and not cluster_fit.fits_now(dict(actor.required_resources), free):
                return ("waiting", job_events.WAITING)
            return None
        except Exception:  # gone meanwhile, or Ray cannot say: the worker check decides
            return None

    def alive(self, job_id: str, started: float | None = None, runs_root=None) -> bool | None:
        """Whether the job's actor exists (waiting for room on the cluster counts); None if Ray cannot say.
        One job has one actor at a time (a resumed job's start replaces the ended one), whatever `started`."""
        try:
            root = self.runs_root if self.runs_root is not None else runs_root
            ray = connect(root, self.settings or RaySettings.from_env(), start=False)
        except StudioError:
            return None
        if ray is None:  # no local Ray is running: nothing of ours runs on it
            return False
        try:
            ray.get_actor(job_id, namespace=NAMESPACE)
            return True
        except ValueError:
            return False
        except Exception:
            return None

    def _root(self, spec: dict):
        return self.runs_root if self.runs_root is not None else spec.get("runs_root")

    def _data(self) -> str | None:
        if self.data_dir:
            return str(self.data_dir)
        from core.data.dataset import locate

        found = locate()
        return str(found["train_images"].parent) if found else None

    @staticmethod
    def _kill(ray, name: str) -> None:
        try:
            ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)
        except ValueError:
            pass
        time.sleep(0.5)


def node_totals(ray) -> list[dict]:
    """The total resources of each live node of the cluster."""
    return [dict(node["Resources"]) for node in ray.nodes() if node.get("Alive")]


def free_resources(ray) -> list[dict] | None:
    """The unused resources of each live node; None where Ray cannot tell (through a ray:// client)."""
    try:
        from ray._private import state

        return list(state.available_resources_per_node().values())
    except Exception:
        return None


def job_actor(ray, job_id: str):
    """Ray's record of a job's actor (its state, its request): the live one of that name, else the newest of
    that name that ended without ever starting; None if there is none."""
    from ray._private import state
    from ray.core.generated import gcs_pb2

    accessor = state.state._connect_and_get_accessor()
    try:
        found = accessor.get_actor_info(ray.get_actor(job_id, namespace=NAMESPACE)._actor_id)
        return gcs_pb2.ActorTableData.FromString(found) if found is not None else None
    except ValueError:  # no live actor of that name
        pass
    ended = [gcs_pb2.ActorTableData.FromString(raw) for raw in accessor.get_actor_table(None, "DEAD")]
    ended = [a for a in ended if a.name == job_id and a.ray_namespace == NAMESPACE and not a.start_time]
    return max(ended, key=lambda a: a.timestamp, default=None)


def _not_started(actor) -> bool:
    """Waiting for a node (no node has leased it a worker: its address names none), or ended before it ran."""
    if actor.state == actor.PENDING_CREATION:
        return not actor.address.worker_id
    return actor.state == actor.DEAD and not actor.start_time


def training_options(ray, settings: RaySettings, local: bool) -> dict:
    """The resources one training asks Ray for (see the module docstring for the defaults)."""
    gpus = settings.gpus
    if gpus is None:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
    cpus = settings.cpus
    if cpus is None:
        from core.serving.jobs import default_cap

        cpus = max(1, local_cores() // default_cap()) if local else 1
    options = {"num_cpus": cpus, "num_gpus": gpus, "resources": dict(settings.resources)}
    if not local:  # a cluster's workers find the project where this server has it (the same path on every node)
        options["runtime_env"] = {"env_vars": {"PYTHONPATH": str(local_ray.PROJECT_ROOT)}}
    return options


def _threads(cpus: float) -> int:
    return max(1, int(cpus))


# ---- a sweep's runs in parallel (python -m core.sweep --ray) --------------------------------------------------


def train_one(config: dict, name: str, data_dir: str | None, runs_root: str, command: str, stop_file: str) -> dict:
    """One run of a sweep, in a Ray worker; stops when `stop_file` appears. Returns its outcome."""
    from core.data.dataset import load
    from core.training.config import TrainConfig
    from core.training.trainer import Trainer

    data = load(data_dir, allow_download=False)
    trainer = Trainer(TrainConfig.from_dict(config), data, runs_root=runs_root, name=name, command=command)
    watch = job_events.StopWatch(Path(stop_file), trainer.stop)
    try:
        result = trainer.run()
    finally:
        watch.close()
    return {
        "status": result.status,
        "message": result.message,
        "test_accuracy": result.test_accuracy,
        "epochs_run": result.epochs_run,
        "seconds": result.seconds,
        "run_dir": str(result.run_dir),
        "node": _node_id(),
    }


def _node_id() -> str | None:
    import ray

    return ray.get_runtime_context().get_node_id() if ray.is_initialized() else None


def run_sweep(configs, names, data_dir, runs_root, command, on_result, interrupted) -> None:
    """Run every config of a sweep at once as Ray tasks (Ray runs as many as the cluster has room for); call
    `on_result(index, outcome)` as each ends. When `interrupted()` turns true, every run is asked to stop (each
    keeps its best checkpoint). Uses FMNIST_RAY_ADDRESS, else a local Ray that ends with this process."""
    settings = RaySettings.from_env()
    handler = signal.getsignal(signal.SIGINT)
    ray, temp_dir = _script_ray(settings)
    if callable(handler):
        signal.signal(signal.SIGTERM, handler)  # ray.init took SIGTERM over: it stops the runs, as Ctrl-C does
    options = training_options(ray, settings, local=settings.address is None)
    if settings.cpus is None and settings.address is None:
        options["num_cpus"] = 1  # a sweep fills the machine with runs of one core each
    options.pop("runtime_env", None)
    env = {"PYTHONPATH": str(local_ray.PROJECT_ROOT), "FMNIST_THREADS": str(_threads(options["num_cpus"]))}
    task = _remote_class(ray, train_one).options(max_retries=0, runtime_env={"env_vars": env}, **options)
    stops = Path(tempfile.mkdtemp(prefix="fmnist-sweep-"))
    pending = {
        task.remote(c.to_dict(), n, data_dir, str(runs_root), command, str(stops / f"{i}.stop")): i
        for i, (c, n) in enumerate(zip(configs, names), start=1)
    }
    asked = False
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in ready:
                index = pending.pop(ref)
                try:
                    on_result(index, ray.get(ref))
                except ray.exceptions.RayTaskError as e:
                    cause = getattr(e, "cause", None)
                    raise (cause if isinstance(cause, StudioError) else StudioError(_first_line(e))) from None
            if not asked and interrupted():
                asked = True
                for i in pending.values():
                    (stops / f"{i}.stop").touch()
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        shutil.rmtree(stops, ignore_errors=True)
        if settings.address:
            disconnect()
        else:
            ray.shutdown()
            shutil.rmtree(temp_dir, ignore_errors=True)


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return f"a run failed: {lines[-1].strip()[:200]}" if lines else f"a run failed ({type(error).__name__})."


def _script_ray(settings: RaySettings):
    """Ray for a command line and its temporary folder: the cluster of FMNIST_RAY_ADDRESS, else a local Ray of
    this process's own (it ends with it)."""
    if settings.address:
        return connect(settings=settings), None
    keep_on_loopback()
    import ray

    temp_dir = tempfile.mkdtemp(prefix="fmnist-ray-")
    ray.init(
        address="local",
        num_cpus=local_cores(),
        include_dashboard=False,
        logging_level=logging.ERROR,
        log_to_driver=False,
        namespace=NAMESPACE,
        _temp_dir=temp_dir,
    )
    return ray, temp_dir
