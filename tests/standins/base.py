"""An aiohttp server on 127.0.0.1:<free port> in its own thread, recording requests."""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    body: bytes
    json: Any = None
    form: Dict[str, str] = field(default_factory=dict)
    status: Optional[int] = None  # what the stand-in answered
    answer: Any = None
    at: float = field(default_factory=time.time)


class StandinServer:
    """Subclasses add routes in `routes(app)`; handlers call `await self.record(request)`."""

    def __init__(self) -> None:
        self.requests: List[Recorded] = []
        self.lock = threading.Lock()
        self.port: Optional[int] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None

    # to override ------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    # lifecycle ----------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "StandinServer":
        started = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application(client_max_size=4 * 1024 * 1024)
            self.routes(app)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    # recording ------------------------------------------------------------------
    async def record(self, request: web.Request) -> Recorded:
        body = await request.read()
        recorded = Recorded(request.method, request.path, dict(request.query),
                            dict(request.headers), body)
        if request.content_type == "application/json":
            try:
                recorded.json = await request.json()
            except ValueError:
                recorded.json = None
        elif request.content_type == "application/x-www-form-urlencoded":
            recorded.form = dict(await request.post())
        with self.lock:
            self.requests.append(recorded)
        return recorded

    def reply(self, recorded: Recorded, body: Any, status: int = 200) -> web.Response:
        """Answers `body` as JSON and keeps the answer with the recorded request."""
        recorded.status, recorded.answer = status, body
        return web.json_response(body, status=status)

    def recorded(self, predicate: Callable[[Recorded], bool] = lambda r: True) -> List[Recorded]:
        with self.lock:
            return [r for r in self.requests if predicate(r)]

    def wait_for(self, predicate: Callable[[Recorded], bool], count: int = 1,
                 timeout: float = 60) -> List[Recorded]:
        """The recorded requests matching `predicate` once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.recorded(predicate)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{type(self).__name__}: {len(found)} of {count} expected requests after "
                    f"{timeout:.0f}s; last requests: {[(r.path, r.json) for r in self.requests[-5:]]}")
            time.sleep(0.1)
