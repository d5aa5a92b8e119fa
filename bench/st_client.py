"""A light Streamlit client: speaks the browser's own websocket protocol (BackMsg / ForwardMsg protobufs on
/_stcore/stream), so one process can be thirty students without thirty browsers.

It does what the browser's frontend does for the parts the studio uses: rerun a page with widget values,
press a button, upload a file (file URL request + HTTP PUT), set a component's state (the drawing canvas),
fetch the images a run shows, and poll a fragment that asked for `run_every`. Loopback only.
"""

import asyncio
import json
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlparse

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileURLsRequest, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED = ForwardMsg.ScriptFinishedStatus


class ClientError(Exception):
    """The server did not answer as a browser would need it to."""


@dataclass
class Run:
    """What one script run put on screen."""

    seconds: float = 0.0
    elements: dict = field(default_factory=dict)  # delta path -> Element
    exceptions: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # st.error texts
    images: int = 0

    def widgets(self, kind: str) -> list:
        return [getattr(e, kind) for e in self.elements.values() if e.WhichOneof("type") == kind]

    def widget(self, kind: str, key: str):
        for w in self.widgets(kind):
            if w.id.endswith("-" + key):
                return w
        raise ClientError(f"no {kind} with key {key!r} on the page")

    def texts(self, kind: str, attr: str) -> list[str]:
        return [getattr(w, attr) for w in self.widgets(kind)]


def _local(url: str) -> str:
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ClientError(f"the load test only talks to this machine (127.0.0.1), not {host}")
    return url.rstrip("/")


class Browser:
    """One browser tab on the app."""

    def __init__(self, url: str, timeout: float = 120.0):
        self.url = _local(url)
        self.timeout = timeout
        self.ws = None
        self.session_id = None
        self.pages: dict[str, str] = {}  # url path -> page script hash
        self.page_hash = ""
        self.query = ""
        self.cookies: dict[str, str] = {}
        self.widgets: dict[str, WidgetState] = {}  # values this tab has set on the current page
        self.fragments: dict[str, float] = {}  # fragment id -> seconds between reruns
        self.fetched: set[str] = set()  # image addresses already loaded in this tab
        self._responses: dict[str, object] = {}

    # ---- plumbing -------------------------------------------------------------------------------

    async def _http(self, method: str, path: str, body: bytes | None = None, headers=None) -> bytes:
        def go():
            request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
            if self.cookies:
                request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                for value in response.headers.get_all("Set-Cookie") or []:
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";")[0]
                return response.read()

        return await asyncio.to_thread(go)

    async def open(self) -> Run:
        """Load the page (HTML, which also sets the XSRF cookie), connect the websocket, run the home page."""
        await self._http("GET", "/")
        await self._http("GET", "/_stcore/health")  # as the frontend does; it also sets the XSRF cookie
        ws_url = "ws" + self.url[4:] + "/_stcore/stream"
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await websockets.connect(
            ws_url,
            subprotocols=["streamlit"],
            origin=self.url,
            additional_headers={"Cookie": cookie} if cookie else None,
            max_size=64 * 2**20,
            open_timeout=self.timeout,
            ping_interval=None,
        )  # a browser sends no pings of its own
        return await self.rerun()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def _send(self, msg: BackMsg) -> None:
        await self.ws.send(msg.SerializeToString())

    async def _receive(self) -> ForwardMsg:
        raw = await asyncio.wait_for(self.ws.recv(), self.timeout)
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        return msg

    # ---- script runs ------------------------------------------------------------------------------

    async def rerun(self, page: str | None = None, widgets=(), fragment_id: str = "") -> Run:
        """Rerun the current page (or open `page`, a url path such as "evaluate") and wait until it is drawn."""
        if page is not None:
            if page not in self.pages:
                raise ClientError(f"no page {page!r}; the app has {sorted(self.pages)}")
            self.page_hash, self.widgets, self.fragments = self.pages[page], {}, {}
        if not fragment_id:
            self.fragments = {}  # a full run declares its fragments again (as the frontend resets them)
        triggers = []
        for state in widgets:
            if state.WhichOneof("value") == "trigger_value":
                triggers.append(state)
            else:
                self.widgets[state.id] = state
        msg = BackMsg()
        client = msg.rerun_script
        client.query_string = self.query
        client.page_script_hash = self.page_hash
        client.fragment_id = fragment_id
        client.is_auto_rerun = bool(fragment_id)
        client.widget_states.widgets.extend(list(self.widgets.values()) + triggers)
        started = time.perf_counter()
        await self._send(msg)
        run = await self._collect(fragment=bool(fragment_id))
        await self._fetch_images(run)
        run.seconds = time.perf_counter() - started
        return run

    async def _collect(self, fragment: bool) -> Run:
        run = Run()
        while True:
            msg = await self._receive()
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                init = msg.new_session
                self.session_id = init.initialize.session_id or self.session_id
                self.page_hash = init.page_script_hash or self.page_hash
                self._pages(init.app_pages)
                if not msg.metadata.run.fragment_ids:
                    self.fragments = {}  # a full run (also one a fragment asked for) declares its fragments again
            elif kind == "navigation":
                self._pages(msg.navigation.app_pages)
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "auto_rerun":
                self.fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                run.elements[tuple(msg.metadata.delta_path)] = element
                which = element.WhichOneof("type")
                if which == "exception":
                    run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
                elif which == "alert" and element.alert.format == 1:  # ERROR
                    run.errors.append(element.alert.body)
            elif kind == "file_urls_response":
                self._responses[msg.file_urls_response.response_id] = msg.file_urls_response
            elif kind == "script_finished":
                status = msg.script_finished
                if status == FINISHED.FINISHED_EARLY_FOR_RERUN:
                    continue
                if status == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                    run.exceptions.append("script compile error")
                return run

    def _pages(self, app_pages) -> None:
        for page in app_pages:
            self.pages[page.url_pathname or ""] = page.page_script_hash

    async def _fetch_images(self, run: Run) -> None:
        """A browser is not done until the pictures are there: fetch every image of the run (one this tab already
        shows at the same address, as a polled page redraws it, is not loaded again)."""
        urls = [img.url for e in run.elements.values() if e.WhichOneof("type") == "imgs" for img in e.imgs.imgs]
        for url in urls:
            if url.startswith("/"):
                if url not in self.fetched:
                    await self._http("GET", url)
                    self.fetched.add(url)
                run.images += 1

    async def poll_fragments(self, seconds: float) -> list[Run]:
        """Do what the browser does while a page with a `run_every` fragment stays open."""
        runs, deadline = [], time.monotonic() + seconds
        while self.fragments and time.monotonic() < deadline:
            for fragment_id, interval in list(self.fragments.items()):
                await asyncio.sleep(interval)
                runs.append(await self.rerun(fragment_id=fragment_id))
        return runs

    # ---- widgets ----------------------------------------------------------------------------------

    @staticmethod
    def click(button) -> WidgetState:
        return WidgetState(id=button.id, trigger_value=True)

    @staticmethod
    def choose(widget, value: str) -> WidgetState:
        return WidgetState(id=widget.id, string_value=value)

    @staticmethod
    def number(widget, value: float) -> WidgetState:
        return WidgetState(id=widget.id, double_value=value)

    @staticmethod
    def component(widget, state: dict) -> WidgetState:
        return WidgetState(id=widget.id, json_value=json.dumps(state))

    async def upload(self, uploader, name: str, data: bytes, mime: str = "image/png") -> WidgetState:
        """Upload a file the way the file_uploader widget does; returns the widget value to send."""
        request_id = uuid.uuid4().hex
        msg = BackMsg(
            file_urls_request=FileURLsRequest(request_id=request_id, file_names=[name], session_id=self.session_id)
        )
        await self._send(msg)
        while request_id not in self._responses:
            reply = await self._receive()
            if reply.WhichOneof("type") == "file_urls_response":
                self._responses[reply.file_urls_response.response_id] = reply.file_urls_response
        response = self._responses.pop(request_id)
        if response.error_msg:
            raise ClientError(response.error_msg)
        urls = response.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="UploadedFile"; filename="{name}"\r\n'
                f"Content-Type: {mime}\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        path = urlparse(urls.upload_url).path
        await self._http(
            "PUT",
            path,
            body,
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Xsrftoken": self.cookies.get("_streamlit_xsrf", ""),
            },
        )
        state = WidgetState(id=uploader.id)
        state.file_uploader_state_value.uploaded_file_info.append(
            UploadedFileInfo(file_id=urls.file_id, name=name, size=len(data), file_urls=urls)
        )
        return state
