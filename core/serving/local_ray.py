"""The studio's local Ray for one runs folder: started by a server's first training, found by every later
server (a restarted one, or a second one on the same runs folder), and ended when idle.

A keeper process (`python -m core.serving.local_ray keep ...`, started in a session of its own) starts the Ray
head (`ray start --head`: loopback address only, every core of the machine, no dashboard, no log monitor,
Ray's token checked), writes its address to <runs>/.jobs/ray-local.json, then stays beside it. When no job of
the runs folder is queued or running and no server has shown a sign of life (a file in <runs>/.jobs/servers/,
touched every few seconds) for FMNIST_RAY_IDLE_MINUTES (default 10), it ends the Ray and itself: the Ray
outlives a server's restart, not its last server. Ending the Ray touches only the processes of that session, by
process id.

Standard library only: the keeper stays small (no torch, no Ray in its own process).
"""

import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from core.base.errors import StudioError

HEAD_FILE = "ray-local.json"
HEAD_LOCK = ".ray.lock"
HEAD_LOG = "ray-local.log"
SERVERS = "servers"  # one file per live server, touched by its job monitor
START_TIMEOUT_S = 240
CHECK_EVERY_S = 15
IDLE_ENV = "FMNIST_RAY_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 10
OBJECT_STORE_BYTES = 200 * 1024 * 1024  # results are small: the data never travels through Ray
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Ray replaces a loopback address with the machine's network address unless it is told that this is a
# one-machine Ray (the setting's name dates from when only Windows and macOS had such a Ray).
LOOPBACK_ONLY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
# The local Ray and its servers always check Ray's token (~/.ray/auth_token, made if missing), so that another
# user of the machine cannot run code in it; left to Ray, the mode would depend on whether that file exists.
LOCAL_AUTH_ENV = {"RAY_AUTH_MODE": "token"}
ACTIVE = ("queued", "running")


def local_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@contextmanager
def locked(jobs_dir: Path):
    jobs_dir.mkdir(parents=True, exist_ok=True)
    with open(jobs_dir / HEAD_LOCK, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def address(jobs_dir: Path, start: bool = True) -> str | None:
    """The local Ray's address, started first if it is not running and `start`; else None."""
    with locked(jobs_dir):
        found = _read(jobs_dir / HEAD_FILE)
        if found and answers(found.get("address", "")):
            return found["address"]
        if not start:
            return None
        return _start(jobs_dir)["address"]


def info(jobs_dir: Path) -> dict | None:
    """What ray-local.json says, with "running" (its address answers) and "processes" (its live processes)."""
    found = _read(jobs_dir / HEAD_FILE)
    if not found:
        return None
    return {**found, "running": answers(found.get("address", "")), "processes": processes(found)}


def stop(jobs_dir: Path, grace_s: float = 15.0) -> int:
    """End the local Ray (every training on it too) and its keeper; returns how many processes were asked to."""
    with locked(jobs_dir):
        return _stop(jobs_dir, grace_s)


def _stop(jobs_dir: Path, grace_s: float) -> int:
    found = _read(jobs_dir / HEAD_FILE)
    if not found:
        return 0
    pids = processes(found)
    _signal(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and processes(found):
        time.sleep(0.2)
    _signal(processes(found), signal.SIGKILL)
    (jobs_dir / HEAD_FILE).unlink(missing_ok=True)
    temp_dir = Path(found.get("temp_dir") or "")
    if temp_dir.name.startswith("fmnist-ray-") and temp_dir.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(temp_dir, ignore_errors=True)  # its logs and sockets
    return len(pids)


def _start(jobs_dir: Path) -> dict:
    """Start a keeper (which starts the Ray) and wait until the Ray answers."""
    jobs_dir.mkdir(parents=True, exist_ok=True)
    (jobs_dir / HEAD_FILE).unlink(missing_ok=True)
    log = open(jobs_dir / HEAD_LOG, "w")
    with log:
        keeper = subprocess.Popen(
            [sys.executable, "-m", "core.serving.local_ray", "keep", str(jobs_dir)],
            env={**_own_env(), "PYTHONPATH": _python_path()},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own session: the Ray's processes are its members, a server's restart
        )  # does not end them, and stopping them touches nothing else
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        found = _read(jobs_dir / HEAD_FILE)
        if found and found.get("session") == keeper.pid and answers(found["address"]):
            return found
        if keeper.poll() is not None:
            break
        time.sleep(0.2)
    else:
        keeper.kill()
    lines = [line for line in (jobs_dir / HEAD_LOG).read_text(errors="replace").splitlines() if line.strip()]
    why = lines[-1].strip()[:200] if lines else f"no answer in {START_TIMEOUT_S} s"
    raise StudioError(f"cannot start a local Ray for the trainings: {why} (see {jobs_dir / HEAD_LOG}).")


def _own_env() -> dict:
    """This process's environment less what a server sets for its own Ray connection only."""
    server_only = ("RAY_gcs_rpc_server_reconnect_timeout_s", "RAY_DISABLE_FAILURE_SIGNAL_HANDLER")
    return {k: v for k, v in os.environ.items() if k not in server_only}


def _python_path() -> str:
    return os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)


# ---- the keeper (its own process) -----------------------------------------------------------------------------


def keep(jobs_dir: Path) -> int:
    """Start the Ray head in this process's session, record it, and end it once idle (module docstring)."""
    idle_s = 60 * float(os.environ.get(IDLE_ENV) or DEFAULT_IDLE_MINUTES)
    port, client_port, agent_port, dashboard_port = _free_ports(4)
    temp_dir = Path(tempfile.gettempdir()) / f"fmnist-ray-{hashlib.sha256(str(jobs_dir).encode()).hexdigest()[:8]}"
    cores = local_cores()
    command = [
        sys.executable, "-m", "ray.scripts.scripts", "start", "--head",
        "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", str(cores),
        "--include-dashboard=false", "--disable-usage-stats", "--include-log-monitor=false",
        "--temp-dir", str(temp_dir), "--object-store-memory", str(OBJECT_STORE_BYTES),
        "--ray-client-server-port", str(client_port), "--dashboard-agent-listen-port", str(agent_port),
        "--dashboard-port", str(dashboard_port),
    ]  # fmt: skip
    env = {**os.environ, **LOOPBACK_ONLY_ENV, **LOCAL_AUTH_ENV, "RAY_USAGE_STATS_ENABLED": "0"}
    if not ensure_token(env):
        return 1
    if subprocess.run(command, env=env, stdin=subprocess.DEVNULL).returncode != 0:
        print("error: ray start failed", flush=True)
        return 1
    record = {
        "address": f"127.0.0.1:{port}",
        "session": os.getpid(),  # the session id of every process of this Ray
        "temp_dir": str(temp_dir),
        "cpus": cores,
        "started": time.time(),
    }
    _write(jobs_dir / HEAD_FILE, record)
    print(f"local Ray at {record['address']} ({cores} CPUs); ends after {idle_s / 60:g} idle minutes", flush=True)
    while True:
        time.sleep(CHECK_EVERY_S)
        if not answers(record["address"]):  # ended from outside
            return 0
        with locked(jobs_dir):
            if _read(jobs_dir / HEAD_FILE) != record:
                return 0  # replaced or removed: not ours any more
            if not busy(jobs_dir, idle_s, since=record["started"]):
                print("idle: ending the local Ray", flush=True)
                _stop(jobs_dir, grace_s=15.0)
                return 0


def token_path(env: dict) -> Path:
    """Where Ray reads its token from: RAY_AUTH_TOKEN_PATH, else ~/.ray/auth_token."""
    return Path(env.get("RAY_AUTH_TOKEN_PATH") or Path(env.get("HOME") or Path.home()) / ".ray" / "auth_token")


def ensure_token(env: dict) -> bool:
    """Make Ray's token (`ray get-auth-token --generate`: only where none exists) before `ray start --head`, which
    refuses to start a token-checked Ray without one. The token itself is never printed or logged."""
    if env.get("RAY_AUTH_TOKEN") or token_path(env).is_file():
        return True
    made = subprocess.run(
        [sys.executable, "-m", "ray.scripts.scripts", "get-auth-token", "--generate"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if made.returncode != 0 or not token_path(env).is_file():
        why = (made.stderr.strip().splitlines() or ["no token file was written"])[-1][:200]
        print(f"error: cannot make Ray's token at {token_path(env)}: {why}", flush=True)
        return False
    return True


def busy(jobs_dir: Path, idle_s: float, since: float = 0.0) -> bool:
    """Whether a job of the runs folder is queued or running, or the Ray started (`since`) or a server showed a
    sign of life less than `idle_s` seconds ago."""
    now = time.time()
    if now - since < idle_s:
        return True
    for path in (jobs_dir / SERVERS).glob("*") if (jobs_dir / SERVERS).is_dir() else []:
        try:
            if now - path.stat().st_mtime < idle_s:
                return True
        except OSError:
            continue
    for path in jobs_dir.glob("job-*.json"):
        record = _read(path)
        if record and record.get("state") in ACTIVE:
            return True
    return False


def alive_file(jobs_dir: Path) -> Path:
    """The file a server touches while it lives."""
    return jobs_dir / SERVERS / f"{socket.gethostname()}-{os.getpid()}"


# ---- processes and files --------------------------------------------------------------------------------------


def processes(found: dict) -> list[int]:
    """The live processes of the Ray's session, provided one of them really is its (its temp folder is in its
    command line): a session id can be reused once every process of the old session has ended."""
    session, temp_dir = found.get("session"), found.get("temp_dir")
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


def answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _signal(pids: list[int], sig) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _read(path: Path) -> dict | None:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _write(path: Path, record: dict) -> None:
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(record, indent=2))
    os.replace(temp, path)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "keep":
        sys.exit(keep(Path(sys.argv[2])))
    sys.exit("usage: python -m core.serving.local_ray keep JOBS_DIR")
