"""A class on one server: `python -m bench.classroom --users 30`.

Simulated students drive the real app through Streamlit's own websocket protocol (bench/st_client.py): each
opens Home, Evaluate, Classify (a drawing, then an uploaded test image, a different one for each student), Feature maps, and every third one
starts a small training on Train and watches it. Meanwhile one long training runs (started first, like a
teacher's demo), and the server process is measured on its own: peak RSS, CPU, and the training's images/s
before and during the class. Reports p50/p95 seconds until each page's result is on screen (the script run
finished and its images fetched) and every error. Loopback only; everything is bounded and stops by itself.

Before the class, one visit warms the server up (dataset, models, cached evaluations), as a teacher trying
the pages first would. Without --url it starts its own server on a free port with a temporary runs folder
and stops it at the end; its trainings run on the studio's local Ray (`--trainings thread`: in the server).
`--servers 2` starts two servers on the same runs folder behind one address (bench/sticky_proxy.py, a
sticky-session proxy), as README describes for a bigger machine, and measures them together.
`--users 10,20,30` runs several class sizes one after another (where does p95 pass 10 s?).
"""

import argparse
import asyncio
import gzip
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from bench import challenge_round
from bench.drawing import tshirt_rgba
from bench.st_client import Browser, ClientError
from bench.timing import percentile
from core.base.device import describe_cpu

ROOT = Path(__file__).resolve().parents[1]
EXECUTOR_ENV = "FMNIST_TRAINING_EXECUTOR"  # core.serving.shared_jobs reads it in each server
TRAININGS = {"ray": "on the local Ray", "thread": "in threads of the server"}
TARGETS = {"Classify": 5.0, "Challenge (answer-to-reveal)": 1.0}  # p95 seconds; every other page 10 s
PAGE_TARGET = 10.0


# ---- inputs -----------------------------------------------------------------------------------------------


def test_image_png(index: int = 1) -> bytes:
    """Test image `index` (index 1 is a Pullover) as a PNG, read straight from the idx file where the app finds it."""
    from core.data.dataset import locate

    files = locate()
    if files is None:
        raise SystemExit("error: the Fashion-MNIST test images were not found (set FMNIST_DATA_DIR)")
    path = files["test_images"]
    raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    pixels = np.frombuffer(raw, np.uint8, 784, 16 + 784 * index).reshape(28, 28)
    out = io.BytesIO()
    Image.fromarray(pixels).resize((112, 112)).save(out, "PNG")
    return out.getvalue()


def drawing_state() -> dict:
    """What the drawing canvas reports after a sketch: its objects and the picture as a PNG data URL."""
    rgba = tshirt_rgba()
    white = Image.new("RGBA", rgba.shape[1::-1], (255, 255, 255, 255))
    white.alpha_composite(Image.fromarray(rgba))
    out = io.BytesIO()
    white.save(out, "PNG")
    import base64

    url = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    stroke = {"type": "path", "stroke": "#000000", "strokeWidth": 12, "path": [["M", 90, 40], ["L", 250, 90]]}
    return {"drawing": {"raw": {"objects": [stroke], "background": "#ffffff"}, "data": url}}


# ---- the server ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    runs_dir: str, trainings: str = "ray", log_name: str = "streamlit.log"
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "FMNIST_RUNS_DIR": runs_dir,
        "FMNIST_MAX_QUEUED": "2",
        "FMNIST_TEACHER_KEY": challenge_round.TEACHER_KEY,
        EXECUTOR_ENV: trainings,
    }
    env.pop("FMNIST_MAX_TRAININGS", None)
    log = open(Path(runs_dir) / log_name, "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "dashboard/Home.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"error: the server did not start; see {log.name}")


def start_servers(runs_dir: str, count: int, trainings: str) -> tuple[list[subprocess.Popen], str]:
    """`count` servers on one runs folder; with more than one, the sticky proxy in front (the last process)."""
    started = []
    try:
        for i in range(count):
            started.append(start_server(runs_dir, trainings, "streamlit.log" if count == 1 else f"streamlit-{i}.log"))
        if count == 1:
            return [started[0][0]], started[0][1]
        to = ",".join(url.removeprefix("http://") for _, url in started)
        proxy = subprocess.Popen(
            [sys.executable, "-m", "bench.sticky_proxy", "--port", str(free_port()), "--to", to],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = proxy.stdout.readline()
        if not line.startswith("sticky proxy on "):
            proxy.kill()
            raise SystemExit(f"error: the proxy did not start: {line!r}")
        return [proc for proc, _ in started] + [proxy], line.split()[-1]
    except BaseException:
        stop_processes([proc for proc, _ in started])
        raise


def stop_processes(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if proc.stdout:  # the proxy's last word: browsers sent to each server
            sent = proc.stdout.read().strip()
            if sent.startswith("sent "):
                print(f"- the proxy sent each server its share of the browsers: {sent.split()[1]}", flush=True)


class ProcessMeter:
    """RSS and CPU time of one process from /proc (Linux): peak RSS is the kernel's high-water mark."""

    def __init__(self, pid: int):
        self.pid, self.tick = pid, os.sysconf("SC_CLK_TCK")
        self.samples: list[int] = []
        self.pids = [pid]

    def _status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick

    def rss(self) -> int:
        return self._status("VmRSS")

    def peak_rss(self) -> int:
        return self._status("VmHWM")

    async def sample(self, every: float = 0.5):
        while True:
            try:
                self.samples.append(self.rss())
            except OSError:
                return
            await asyncio.sleep(every)


class ServersMeter(ProcessMeter):
    """Several processes measured together: CPU and RSS added up, peak RSS of the largest (each in `peaks`)."""

    def __init__(self, pids: list[int]):
        super().__init__(pids[0])
        self.pids = list(pids)
        self.meters = [ProcessMeter(pid) for pid in pids]

    def cpu_seconds(self) -> float:
        return sum(m.cpu_seconds() for m in self.meters)

    def rss(self) -> int:
        return sum(m.rss() for m in self.meters)

    def peak_rss(self) -> int:
        return max(self.peaks())

    def peaks(self) -> list[int]:
        return [m.peak_rss() for m in self.meters]


# ---- what a student does --------------------------------------------------------------------------------------


class Tally:
    def __init__(self):
        self.times: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def add(self, page: str, seconds: float) -> None:
        self.times.setdefault(page, []).append(seconds)

    def check(self, who: str, page: str, run, ok: bool, what: str) -> None:
        for problem in run.exceptions + run.errors:
            self.errors.append(f"{who} {page}: {problem[:160]}")
        if not ok:
            self.errors.append(f"{who} {page}: {what} not on screen")
        else:
            self.add(page, run.seconds)


async def student(
    n: int, url: str, tally: Tally, rng: random.Random, upload: bytes, drawing: dict, trains: bool, watch: float
) -> None:
    who = f"student {n}"
    browser = Browser(url)

    async def think():
        await asyncio.sleep(rng.uniform(0.5, 2.0))

    try:
        run = await browser.open()
        tally.check(who, "Home", run, bool(run.elements), "the home page")
        await think()
        run = await browser.rerun("evaluate")
        tally.check(
            who,
            "Evaluate",
            run,
            "Test accuracy" in run.texts("metric", "label") and run.images > 0,
            "test accuracy and images",
        )
        await think()
        run = await browser.rerun("classify")
        canvas = next(iter(run.widgets("bidi_component")))
        run = await browser.rerun(widgets=[Browser.component(canvas, drawing)])
        tally.check(who, "Classify (drawing)", run, "Top prediction" in run.texts("metric", "label"), "a prediction")
        await think()
        started = time.perf_counter()
        run = await browser.rerun(widgets=[Browser.choose(run.widget("radio", "classify_source"), "Upload")])
        state = await browser.upload(run.widget("file_uploader", "classify_upload"), f"test-{n + 1}.png", upload)
        run = await browser.rerun(widgets=[state])
        run.seconds = time.perf_counter() - started
        tally.check(who, "Classify (upload)", run, "Top prediction" in run.texts("metric", "label"), "a prediction")
        await think()
        run = await browser.rerun("feature_maps")
        tally.check(who, "Feature maps", run, run.images >= 3, "feature maps")
        if trains:
            await think()
            run = await browser.rerun("train")
            tally.check(who, "Train (open)", run, bool(run.widgets("button")), "the form")
            arch = run.widget("selectbox", "train_arch")
            mlp = next(o for o in arch.options if o.startswith("MLP"))
            run = await browser.rerun(widgets=[Browser.choose(arch, mlp)])
            run = await browser.rerun(
                widgets=[
                    Browser.number(run.widget("number_input", "train_limit"), 2000),
                    Browser.number(run.widget("number_input", "train_epochs"), 1),
                ]
            )
            run = await browser.rerun(widgets=[Browser.click(run.widget("button", "train_start"))])
            shown = [m for m in run.texts("markdown", "body") if m.startswith("**") and " — " in m]
            tally.check(who, "Train (start)", run, bool(shown), "the new training")
            for poll in await browser.poll_fragments(watch):
                tally.check(who, "Train (live update)", poll, True, "")
    except (ClientError, OSError, asyncio.TimeoutError, StopIteration) as e:
        tally.errors.append(f"{who}: {type(e).__name__}: {str(e)[:160]}")
    except Exception as e:  # websockets' connection errors and anything unforeseen count as errors too
        tally.errors.append(f"{who}: {type(e).__name__}: {str(e)[:160]}")
    finally:
        await browser.close()


# ---- the long training whose speed we watch ---------------------------------------------------------------------


async def start_demo_training(url: str, images: int, epochs: int) -> Browser:
    teacher = Browser(url)
    run = await teacher.open()
    run = await teacher.rerun("train")
    run = await teacher.rerun(
        widgets=[
            Browser.number(run.widget("number_input", "train_limit"), images),
            Browser.number(run.widget("number_input", "train_epochs"), epochs),
        ]
    )
    run = await teacher.rerun(widgets=[Browser.click(run.widget("button", "train_start"))])
    if run.errors or run.exceptions:
        raise SystemExit(f"error: the demo training did not start: {run.errors + run.exceptions}")
    return teacher


async def stop_demo_training(teacher: Browser) -> None:
    run = await teacher.rerun()
    stop = [b for b in run.widgets("button") if b.label == "Stop"]
    if stop:
        await teacher.rerun(widgets=[Browser.click(stop[0])])
    await teacher.close()


class EpochWatch:
    """images/s of each epoch of the demo run, tagged with the phase it finished in."""

    def __init__(self, runs_dir: Path):
        self.runs_dir, self.seen, self.phase = runs_dir, 0, "alone"
        self.rates: dict[str, list[float]] = {"alone": [], "class": []}

    def poll(self) -> int:
        if not self.runs_dir.is_dir():
            return 0
        runs = sorted(p for p in self.runs_dir.iterdir() if (p / "metrics.jsonl").is_file())
        if not runs:
            return 0
        lines = (runs[0] / "metrics.jsonl").read_text().splitlines()
        for line in lines[self.seen :]:
            record = json.loads(line)
            if record["epoch"] > 1:  # the first epoch includes warm-up
                self.rates[self.phase].append(record["images_per_s"])
        self.seen = len(lines)
        return self.seen

    async def follow(self):
        while True:
            self.poll()
            await asyncio.sleep(0.5)


# ---- one class -------------------------------------------------------------------------------------------------


async def one_class(
    users: int,
    url: str,
    meter: ProcessMeter | None,
    watch: EpochWatch | None,
    seed: int,
    ramp: float,
    watch_seconds: float,
    game: "challenge_round.Game | None" = None,
) -> dict:
    drawing = drawing_state()
    uploads = [test_image_png(1 + n) for n in range(users)]  # each student its own picture: nothing shared by chance
    tally, rng = Tally(), random.Random(seed)
    if watch:
        watch.phase = "class"
    cpu0, wall0, me0 = meter.cpu_seconds() if meter else 0, time.perf_counter(), time.process_time()
    sampler = asyncio.create_task(meter.sample()) if meter else None

    if game:  # the teacher starts a round as the class arrives; students join it after their visit
        teacher = await challenge_round.start_round(url, game.images, game.seconds, game.key)
        until = time.monotonic() + challenge_round.round_seconds(game.images, game.seconds)

    async def later(n):
        await asyncio.sleep(ramp * n / max(users, 1))
        if game is None or game.visit:
            await student(n, url, tally, random.Random(rng.random()), uploads[n], drawing, n % 3 == 0, watch_seconds)
        if game:
            await challenge_round.play(n, url, game.runs_dir, tally, random.Random(rng.random()), until)

    await asyncio.wait_for(asyncio.gather(*(later(n) for n in range(users))), timeout=900)
    if game:
        await teacher.close()
    wall = time.perf_counter() - wall0
    if sampler:
        sampler.cancel()
    result = {
        "users": users,
        "seconds": wall,
        "errors": tally.errors,
        "times": tally.times,
        "client_cpu": time.process_time() - me0,
        "challenge": challenge_round.summary(game.runs_dir) if game else None,
    }
    if meter:
        result.update(
            server_cpu=(meter.cpu_seconds() - cpu0) / wall,
            server_rss_peak=meter.peak_rss(),
            server_rss_max_sampled=max(meter.samples, default=0),
        )
        if isinstance(meter, ServersMeter):
            result["server_rss_peaks"] = meter.peaks()
    if watch:
        watch.poll()
        result["train_rates"] = {k: list(v) for k, v in watch.rates.items()}
        watch.rates["class"] = []
    return result


def report(result: dict) -> str:
    lines = [
        f"### {result['users']} students ({result['seconds']:.0f} s)",
        "",
        "| page | results | p50 s | p95 s | max s | target p95 | |",
        "|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for page, times in result["times"].items():
        target = TARGETS.get(page, TARGETS.get(page.split(" (")[0], PAGE_TARGET))
        p95 = percentile(times, 95)
        worst = max(worst, p95)
        lines.append(
            f"| {page} | {len(times)} | {statistics.median(times):.2f} | {p95:.2f} | {max(times):.2f} | "
            f"≤ {target:g} | {'PASS' if p95 <= target else 'FAIL'} |"
        )
    lines += ["", f"- errors: **{len(result['errors'])}**" + "".join(f"\n  - {e}" for e in result["errors"][:20])]
    if result.get("challenge"):
        lines.append(result["challenge"])
    if "server_rss_peaks" in result:
        peaks = " and ".join(f"**{peak / 2**20:,.0f} MiB**" for peak in result["server_rss_peaks"])
        lines.append(
            f"- {len(result['server_rss_peaks']) - 1} servers and their proxy: peak RSS {peaks} (the proxy last; "
            f"target ≤ 2,048 each), CPU {result['server_cpu']:.2f} cores on average, all together"
        )
    elif "server_rss_peak" in result:
        lines.append(
            f"- server: peak RSS **{result['server_rss_peak'] / 2**20:,.0f} MiB** (target ≤ 2,048), "
            f"CPU {result['server_cpu']:.2f} cores on average"
        )
    lines.append(
        f"- clients (all {result['users']} in this one process): {result['client_cpu']:.1f} s of CPU "
        f"in {result['seconds']:.0f} s ({result['client_cpu'] / result['seconds']:.2f} cores)"
    )
    rates = result.get("train_rates")
    if rates and rates["alone"] and rates["class"]:
        alone, busy = statistics.median(rates["alone"]), statistics.median(rates["class"])
        lines.append(
            f"- the running training: {alone:,.0f} images/s alone, {busy:,.0f} during the class "
            f"({alone / busy:.1f}x slower; median of {len(rates['alone'])} and {len(rates['class'])} epochs)"
        )
    lines.append(f"- worst page p95: {worst:.2f} s")
    result["worst_p95"] = worst
    return "\n".join(lines)


def cpu_line() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{describe_cpu()}; load average {load}"


async def main_async(args) -> int:
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(64))
    levels = [int(u) for u in str(args.users).split(",")]
    own = None
    runs_dir = Path(args.runs_dir) if args.runs_dir else None
    if args.url:
        url = args.url
    else:
        runs_dir = Path(tempfile.mkdtemp(prefix="classroom-runs-"))
        own, url = start_servers(str(runs_dir), args.servers, args.trainings)
    if own and len(own) > 1:
        meter = ServersMeter([proc.pid for proc in own])
    else:
        pid = args.server_pid or (own[0].pid if own else None)
        meter = ProcessMeter(pid) if pid else None
    where = f"{args.servers} servers behind a sticky proxy" if own and len(own) > 1 else "one server"
    trainings = "" if args.url else f", trainings {TRAININGS[args.trainings]}"
    print(f"# classroom load test: {url} ({where}{trainings}), {cpu_line()}")
    teacher = watch = follower = None
    try:
        warm = Tally()  # the teacher looks at every page once before the class (loads data, models, caches)
        await student(-1, url, warm, random.Random(args.seed), test_image_png(), drawing_state(), False, 0)
        if warm.errors:
            raise SystemExit(f"error: the app does not work: {warm.errors}")
        if args.train_images:
            teacher = await start_demo_training(url, args.train_images, args.train_epochs)
            if runs_dir:
                watch = EpochWatch(runs_dir)
                deadline = time.monotonic() + 120
                while watch.poll() < 4 and time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                follower = asyncio.create_task(watch.follow())
        worst_ok = None
        for users in levels:
            game = None
            if args.challenge_images and not runs_dir:
                print("- no Challenge round: it needs the server's --runs-dir (the round's schedule is read there)")
            if args.challenge_images and runs_dir:
                game = challenge_round.Game(
                    args.challenge_images, args.challenge_seconds, runs_dir, args.teacher_key, args.visit
                )
            result = await one_class(users, url, meter, watch, args.seed, args.ramp, args.watch, game)
            print(report(result), flush=True)
            if watch:
                watch.phase = "alone"
            if result["worst_p95"] <= PAGE_TARGET and not result["errors"]:
                worst_ok = users
            await asyncio.sleep(args.pause)
        if len(levels) > 1:
            print(f"\nlargest class with every page p95 ≤ {PAGE_TARGET:g} s and no error: {worst_ok}")
    finally:
        if follower:
            follower.cancel()
        if teacher:
            await stop_demo_training(teacher)
        if own:
            stop_processes(own)
            from core.serving.ray_runner import stop_local_head

            stop_local_head(runs_dir)  # the trainings' local Ray outlives a server by design; not this one's
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", default="30", help="students at once; a comma list runs several classes in turn")
    p.add_argument("--url", help="a running server on this machine (default: start one)")
    p.add_argument("--servers", type=int, default=1, help="servers to start on one runs folder, behind one address")
    p.add_argument(
        "--trainings",
        choices=tuple(TRAININGS),
        default=os.environ.get(EXECUTOR_ENV) or "ray",
        help=f"where the started servers train (default: ray, or {EXECUTOR_ENV})",
    )
    p.add_argument("--server-pid", type=int, help="that server's process id, to measure it")
    p.add_argument("--runs-dir", help="that server's runs folder, to follow the training's speed")
    p.add_argument("--train-images", type=int, default=10000, help="images of the long training (0: none)")
    p.add_argument("--train-epochs", type=int, default=200)
    p.add_argument("--ramp", type=float, default=15.0, help="seconds over which the students arrive")
    p.add_argument("--watch", type=float, default=5.0, help="seconds a student watches its training live")
    p.add_argument("--pause", type=float, default=5.0, help="seconds between two class sizes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--challenge-images", type=int, default=10, help="pictures of the Challenge round (0: no round)")
    p.add_argument("--challenge-seconds", type=int, default=15, help="seconds to answer each picture")
    p.add_argument("--teacher-key", default=challenge_round.TEACHER_KEY, help="a running server's teacher key")
    p.add_argument(
        "--visit", action=argparse.BooleanOptionalAction, default=True, help="students visit the pages, then play"
    )
    args = p.parse_args(argv)
    if args.servers < 1 or (args.url and args.servers != 1):
        p.error("--servers: 1 or more, and only for servers the benchmark starts itself (not with --url)")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
