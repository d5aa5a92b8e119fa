"""Trainings on Ray: the studio's local Ray on this machine by default, or a cluster (FMNIST_RAY_ADDRESS).

Every dashboard training runs in a Ray worker process, never in the page server: core.serving.shared_jobs
queues them, RayExecutor starts each as a detached actor named by its job id in the namespace "fmnist-studio"
(it outlives the server that started it) and core.serving.job_worker runs it. Read when a training starts:

- FMNIST_RAY_ADDRESS: a running cluster (`auto`, `host:port`, `ray://host:10001`). Unset: the studio's local
  Ray, started by the first training (not at page load) as its own processes, so that it keeps running when the
  server stops: a restarted server, or a second one on the same runs folder, finds it and its trainings. Its
  address is in <runs>/.jobs/ray-local.json; `python -m core.cluster stop` ends it. It listens on the loopback
  address (127.0.0.1) only and has every core of the machine.
- FMNIST_CPUS_PER_TRAINING: CPUs each training takes, and its worker's threads (default: this machine's cores /
  FMNIST_MAX_TRAININGS on the local Ray, 1 on a cluster).
- FMNIST_GPUS_PER_TRAINING: GPUs each training takes, fractions allowed (0.25: four trainings share one);
  default 1 where the cluster has a GPU, else 0.
- FMNIST_RAY_RESOURCES: custom resources each training asks for, as a JSON object (e.g. '{"gpu_node": 1}').

Ray is imported here only, when a training starts or a sweep runs with --ray: the app's start does not pay.
"""

import hashlib
import json
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.base.errors import StudioError
from core.io import runs
from core.serving import job_events

log = logging.getLogger(__name__)

NAMESPACE = "fmnist-studio"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
HEAD_FILE = "ray-local.json"
HEAD_LOCK = ".ray.lock"
HEAD_LOG = "ray-local.log"
HEAD_START_TIMEOUT_S = 240
OBJECT_STORE_BYTES = 200 * 1024 * 1024  # results are small: the data never travels through Ray
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Ray replaces a loopback address with the machine's network address unless it is told that this is a
# one-machine Ray (the setting's name dates from when only Windows and macOS had such a Ray).
LOOPBACK_ONLY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
# The local Ray and the servers that use it always check Ray's token (~/.ray/auth_token, made if missing):
# another user of the machine cannot run code in it; left to Ray, the mode would depend on whether that file exists.
LOCAL_AUTH_ENV = {"RAY_AUTH_MODE": "token"}


@dataclass(frozen=True)
class RaySettings:
    address: str | None = None  # None: the studio's local Ray
    cpus: float | None = None  # per training; None: the default (see the module docstring)
    gpus: float | None = None
    resources: dict = field(default_factory=dict)

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


def local_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


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

            if ray.is_initialized() and not (_connection["local"] and not _answers(_connection["address"])):
                return ray
            ray.shutdown()  # not connected any more, or the local Ray has gone: start again
            _connection.clear()
        address = settings.address or local_head(runs_root, start=start)
        if address is None:
            return None
        host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
        if host in LOOPBACK:
            keep_on_loopback()
        if settings.address is None:
            os.environ.update(LOCAL_AUTH_ENV)
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
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise StudioError(f"cannot connect to Ray at {address}: {first}") from None
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
    os.environ.update(LOOPBACK_ONLY_ENV)
    if "ray" in sys.modules:  # imported before: the setting is read at import, so tell the module too
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = False


# ---- the studio's local Ray ----------------------------------------------------------------------------------


def local_head(runs_root=None, start: bool = True) -> str | None:
    """The address of the studio's local Ray for this runs folder, started first if it is not running and
    `start`; None if it is not running and not `start`."""
    folder = job_events.jobs_dir(runs_root)
    with job_events.locked(runs_root, HEAD_LOCK):
        info = runs.read_json(folder / HEAD_FILE)
        if info and _answers(info.get("address", "")):
            return info["address"]
        if not start:
            return None
        info = _start_head(folder)
        runs.write_json(folder / HEAD_FILE, info)
        return info["address"]


def local_head_info(runs_root=None) -> dict | None:
    """What ray-local.json says of the local Ray, with "running" (its address answers) and "processes"."""
    info = runs.read_json(job_events.jobs_dir(runs_root) / HEAD_FILE)
    if not info:
        return None
    return {**info, "running": _answers(info.get("address", "")), "processes": _head_processes(info)}


def stop_local_head(runs_root=None, grace_s: float = 15.0) -> int:
    """End the studio's local Ray of this runs folder (and every training on it); returns how many processes
    were asked to end. Only the processes it started are touched (by process id)."""
    folder = job_events.jobs_dir(runs_root)
    if _connection.get("local"):
        disconnect()
    with job_events.locked(runs_root, HEAD_LOCK):
        info = runs.read_json(folder / HEAD_FILE)
        if not info:
            return 0
        pids = _head_processes(info)
        _signal(pids, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _head_processes(info):
            time.sleep(0.2)
        _signal(_head_processes(info), signal.SIGKILL)
        (folder / HEAD_FILE).unlink(missing_ok=True)
        temp_dir = Path(info.get("temp_dir") or "")
        if temp_dir.name.startswith("fmnist-ray-") and temp_dir.parent == Path(tempfile.gettempdir()):
            shutil.rmtree(temp_dir, ignore_errors=True)  # its logs and sockets
        return len(pids)


def _start_head(folder: Path) -> dict:
    port, client_port, agent_port, dashboard_port = _free_ports(4)
    temp_dir = Path(tempfile.gettempdir()) / f"fmnist-ray-{hashlib.sha256(str(folder).encode()).hexdigest()[:8]}"
    cores = local_cores()
    command = [
        sys.executable, "-m", "ray.scripts.scripts", "start", "--head",
        "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", str(cores),
        "--include-dashboard=false", "--disable-usage-stats", "--include-log-monitor=false",
        "--temp-dir", str(temp_dir), "--object-store-memory", str(OBJECT_STORE_BYTES),
        "--ray-client-server-port", str(client_port), "--dashboard-agent-listen-port", str(agent_port),
        "--dashboard-port", str(dashboard_port),
    ]  # fmt: skip
    path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, **LOOPBACK_ONLY_ENV, **LOCAL_AUTH_ENV, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": path}
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / HEAD_LOG, "w") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        try:
            code = process.wait(timeout=HEAD_START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            code = None
    if code != 0:
        lines = [line for line in (folder / HEAD_LOG).read_text(errors="replace").splitlines() if line.strip()]
        why = lines[-1].strip()[:200] if lines else f"no answer in {HEAD_START_TIMEOUT_S} s"
        raise StudioError(f"cannot start a local Ray for the trainings: {why} (see {folder / HEAD_LOG}).")
    return {
        "address": f"127.0.0.1:{port}",
        "session": process.pid,  # the session id of every process it started
        "temp_dir": str(temp_dir),
        "cpus": cores,
        "started": time.time(),
    }


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


def _head_processes(info: dict) -> list[int]:
    """The live processes of the local Ray's session, provided one of them really is its (its temp folder is
    in its command line): a session id can be reused once every process of the old session has ended."""
    session, temp_dir = info.get("session"), info.get("temp_dir")
    if not isinstance(session, int) or not temp_dir:
        return []
    try:
        listing = subprocess.run(
            ["ps", "-ww", "-eo", "pid=,sess=,stat=,args="], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    members, ours = [], False
    for line in listing.stdout.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 3 or parts[1] != str(session) or parts[2].startswith("Z") or parts[0] == str(os.getpid()):
            continue  # another session's, an ended one waiting to be reaped, or this very process
        members.append(int(parts[0]))
        ours = ours or temp_dir in (parts[3] if len(parts) > 3 else "")
    return members if ours else []


def memory_mib(pids: list[int]) -> float:
    """The processes' memory, shared pages split between their users (PSS; Linux), in MiB."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
        except (OSError, ValueError):
            pass
    return total / 1024


def _signal(pids: list[int], sig) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


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

    def start(self, spec: dict) -> None:
        settings = self.settings or RaySettings.from_env()
        ray = connect(self._root(spec), settings)
        options = training_options(ray, settings, local=connected_to_local())
        spec = {**spec, "threads": _threads(options["num_cpus"]), "data_dir": spec.get("data_dir") or self._data()}
        actor = _remote_class(ray, TrainingActor).options(
            name=spec["job_id"], namespace=NAMESPACE, lifetime="detached", max_restarts=0, **options
        )
        try:
            handle = actor.remote(spec)
        except ValueError:  # the name is still held by this job's previous start, ending: end it
            self._kill(ray, spec["job_id"])
            handle = actor.remote(spec)
        handle.run.remote()

    def alive(self, job_id: str, runs_root=None) -> bool | None:
        """Whether the job's actor exists (waiting for room on the cluster counts); None if Ray cannot say."""
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
        options["runtime_env"] = {"env_vars": {"PYTHONPATH": str(PROJECT_ROOT)}}
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
    env = {"PYTHONPATH": str(PROJECT_ROOT), "FMNIST_THREADS": str(_threads(options["num_cpus"]))}
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
