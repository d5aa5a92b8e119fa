"""Several studio servers behind one address, for the classroom benchmark: a sticky-session HTTP proxy.

`python -m bench.sticky_proxy --port 8700 --to 127.0.0.1:8601,127.0.0.1:8602`

A browser's Streamlit session (its websocket, its state, its images) lives in one server process, so every
request of one browser must reach the same server. Like Caddy's `lb_policy cookie`, the proxy sends a browser
without its cookie to the next server in turn and sets a cookie naming that server on the answer; later requests
carrying it go to that server. Websockets pass through untouched once the upgrade has gone through. On SIGTERM
it prints how many browsers it sent to each server (`sent 31,30`) and ends. Loopback only, standard library
only; it is a measuring aid, not a production proxy (use Caddy or nginx there, README).
"""

import argparse
import asyncio
import itertools
import re
import signal
import sys

COOKIE = "fmnist_server"
HEAD_LIMIT = 64 * 1024
PICK = re.compile(rb"(?im)^cookie:.*?\b" + COOKIE.encode() + rb"=(\d+)")


class StickyProxy:
    def __init__(self, backends: list[tuple[str, int]]):
        self.backends = backends
        self._turn = itertools.cycle(range(len(backends)))
        self.sent = [0] * len(backends)  # browsers sent to each server (new sessions)

    def choose(self, head: bytes) -> tuple[int, bool]:
        """The server for a request: the one its cookie names, else the next in turn (True: set the cookie)."""
        found = PICK.search(head)
        if found and int(found[1]) < len(self.backends):
            return int(found[1]), False
        index = next(self._turn)
        self.sent[index] += 1
        return index, True

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_w = None
        try:
            head = await client_r.readuntil(b"\r\n\r\n")
            index, new = self.choose(head)
            server_r, server_w = await asyncio.open_connection(*self.backends[index])
            server_w.write(head)
            await server_w.drain()
            upstream = asyncio.create_task(_pipe(client_r, server_w))
            if new:  # the answer's head gets the cookie that keeps this browser on this server
                answer = await server_r.readuntil(b"\r\n\r\n")
                cookie = f"Set-Cookie: {COOKIE}={index}; Path=/; HttpOnly; SameSite=Lax\r\n".encode()
                client_w.write(answer[:-2] + cookie + b"\r\n")
            await _pipe(server_r, client_w)
            upstream.cancel()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
            pass
        finally:
            for writer in (client_w, server_w):
                if writer is not None:
                    writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"error: the proxy only forwards to this machine (127.0.0.1), not {host!r}")
    return host, int(port)


async def serve(port: int, backends: list[tuple[str, int]]) -> None:
    proxy = StickyProxy(backends)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", port, limit=HEAD_LIMIT)
    print(f"sticky proxy on http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    await done.wait()
    server.close()  # open connections are not waited for
    print(f"sent {','.join(map(str, proxy.sent))}", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True, help="port to listen on (127.0.0.1)")
    p.add_argument("--to", required=True, help="the servers, comma-separated 127.0.0.1:PORT")
    args = p.parse_args(argv)
    try:
        asyncio.run(serve(args.port, [_address(a) for a in args.to.split(",")]))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
