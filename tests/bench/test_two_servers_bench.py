"""Two servers behind one address: the sticky proxy keeps each browser on one server, and the classroom load
test drives a tiny class through it."""

import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import classroom


def backend(name: str) -> ThreadingHTTPServer:
    """A server that answers its name and the cookie it was sent."""

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"{name} {self.headers.get('Cookie', '-')}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def get(url: str, cookie: str | None = None) -> tuple[str, str | None]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode(), response.headers.get("Set-Cookie")


@pytest.fixture
def proxy():
    servers = [backend("a"), backend("b")]
    to = ",".join(f"127.0.0.1:{s.server_address[1]}" for s in servers)
    port = classroom.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.sticky_proxy", "--port", str(port), "--to", to],
        cwd=classroom.ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == f"sticky proxy on http://127.0.0.1:{port}"
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()
        for server in servers:
            server.shutdown()


def test_the_proxy_sends_new_browsers_in_turn_and_keeps_each_on_its_server(proxy):
    proc, url = proxy
    first, cookie_a = get(url)
    second, cookie_b = get(url)
    assert (first, second) == ("a -", "b -")
    assert cookie_a == "fmnist_server=0; Path=/; HttpOnly; SameSite=Lax"
    assert cookie_b.startswith("fmnist_server=1;")
    for _ in range(3):  # a browser that has its cookie stays, and gets no new one
        assert get(url, "fmnist_server=1") == ("b fmnist_server=1", None)
        assert get(url, "_streamlit_xsrf=x; fmnist_server=0") == ("a _streamlit_xsrf=x; fmnist_server=0", None)
    proc.send_signal(signal.SIGTERM)
    assert proc.stdout.read().strip() == "sent 1,1"
    assert proc.wait(timeout=10) == 0


def test_only_loopback_servers_behind_the_proxy():
    done = subprocess.run(
        [sys.executable, "-m", "bench.sticky_proxy", "--port", "0", "--to", "10.0.0.1:8501"],
        cwd=classroom.ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "error: the proxy only forwards to this machine (127.0.0.1), not '10.0.0.1'"


def test_a_tiny_class_on_two_servers_behind_the_proxy(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("FMNIST_DATA_DIR", data_dir)
    asked = time.monotonic()
    args = "--users 3 --servers 2 --train-images 0 --ramp 0 --watch 2 --pause 0 --challenge-images 0".split()
    assert classroom.main(args) == 0
    out = capsys.readouterr().out
    print(out, f"\n{time.monotonic() - asked:.0f} s")
    assert re.search(r"^# classroom load test: http://127\.0\.0\.1:\d+ \(2 servers behind a sticky proxy, ", out, re.M)
    assert "- errors: **0**" in out, out
    for page in ("Home", "Evaluate", "Classify (upload)", "Feature maps", "Train (start)"):
        assert re.search(rf"^\| {re.escape(page)} \| [1-9]\d* \|", out, re.M), (page, out)
    peaks = re.search(
        r"^- 2 servers and their proxy: peak RSS \*\*([\d,]+) MiB\*\* and \*\*([\d,]+) MiB\*\* and", out, re.M
    )
    assert peaks and all(100 < int(p.replace(",", "")) < 4000 for p in peaks.groups()), out
    # the teacher's warm-up visit and three students, in turn: two browsers to each server
    assert "- the proxy sent each server its share of the browsers: 2,2" in out, out


def test_several_servers_only_when_the_benchmark_starts_them(capsys):
    with pytest.raises(SystemExit):
        classroom.main(["--url", "http://127.0.0.1:8501", "--servers", "2"])
    assert "--servers: 1 or more, and only for servers the benchmark starts itself" in capsys.readouterr().err
