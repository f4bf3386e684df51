"""A small headless-Chromium driver over the Chrome DevTools Protocol, for browser tests.

No browser download and no new Python package: it starts Debian's /usr/bin/chromium
(`apt-get install -y chromium`) with --remote-debugging-port=0, reads the port from the
profile's DevToolsActivePort file, and talks CDP over the `websockets` library.

    with Browser() as browser:
        browser.navigate("http://127.0.0.1:5080/login")
        browser.type_into("#username", "lan")
        browser.click("#login-submit")
        browser.wait_for("location.pathname === '/'")
        browser.evaluate("document.title")

Synchronous API; the websocket runs in its own event-loop thread. JavaScript errors and
console messages of the page are kept in `browser.errors` / `browser.console`.
A missing browser raises BrowserMissing (tests must fail on it, not skip).
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

import websockets

CHROMIUM = os.environ.get("HOTRO_CHROMIUM", "/usr/bin/chromium")
INSTALL_HINT = "install it with: apt-get update && apt-get install -y chromium"


def query_js(selector: str) -> str:
    """A JavaScript expression for the element; "host >>> inner" looks inside the shadow
    root of `host` (the chat widget lives in one)."""
    parts = [part.strip() for part in selector.split(">>>")]
    expression = f"document.querySelector({json.dumps(parts[0])})"
    for part in parts[1:]:
        expression = f"{expression}?.shadowRoot?.querySelector({json.dumps(part)})"
    return expression


class BrowserMissing(RuntimeError):
    pass


class BrowserError(RuntimeError):
    """A CDP call failed or a page script threw."""


class Browser:
    def __init__(self, binary: str = CHROMIUM, timeout: float = 30,
                 window: tuple = (1280, 900)) -> None:
        self.binary = binary
        self.timeout = timeout
        self.window = window
        self.errors: List[str] = []
        self.console: List[str] = []
        self._process: Optional[subprocess.Popen] = None
        self._profile: Optional[str] = None
        self._loop = asyncio.new_event_loop()
        self._thread: Optional[threading.Thread] = None
        self._ws = None
        self._ids = itertools.count(1)
        self._pending: Dict[int, asyncio.Future] = {}
        self._waiters: List[tuple] = []  # (method, future) for the next such event
        self._reader: Optional[asyncio.Task] = None

    # lifecycle ------------------------------------------------------------------------
    def start(self) -> "Browser":
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise BrowserMissing(f"Chromium not found at {self.binary}: {INSTALL_HINT}")
        self._profile = tempfile.mkdtemp(prefix="hotro-chromium-")
        self._process = subprocess.Popen(
            [self.binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-extensions",
             "--disable-dev-shm-usage", "--metrics-recording-only", "--mute-audio",
             f"--window-size={self.window[0]},{self.window[1]}",
             f"--user-data-dir={self._profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        port = self._wait_port()
        target = self._page_target(port)
        self._thread = threading.Thread(target=self._loop.run_forever, name="cdp",
                                        daemon=True)
        self._thread.start()
        self._run(self._connect(target["webSocketDebuggerUrl"]))
        for domain in ("Page", "Runtime"):
            self.send(f"{domain}.enable")
        return self

    def _wait_port(self) -> int:
        active = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode(errors="replace")[-2000:]
                raise BrowserError(f"chromium exited with {self._process.returncode}:\n{stderr}")
            try:
                first = active.read_text().splitlines()[0]
                if first.strip():
                    return int(first)
            except (OSError, IndexError, ValueError):
                pass
            time.sleep(0.05)
        raise BrowserError(f"chromium wrote no DevToolsActivePort within {self.timeout:.0f}s")

    def _page_target(self, port: int) -> Dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                            timeout=5) as reply:
                    pages = [t for t in json.load(reply) if t.get("type") == "page"]
                if pages:
                    return pages[0]
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BrowserError("chromium has no page target")
            time.sleep(0.1)

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._run(self._ws.close(), timeout=5)
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        if self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        if not self._loop.is_running():
            if self._reader is not None:
                self._reader.cancel()
                self._loop.run_until_complete(asyncio.gather(self._reader,
                                                             return_exceptions=True))
            self._loop.close()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process is not None and self._process.stderr:
            self._process.stderr.close()
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # CDP plumbing -----------------------------------------------------------------------
    def _run(self, coro, timeout: Optional[float] = None) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout or self.timeout + 5)

    async def _connect(self, url: str) -> None:
        self._ws = await websockets.connect(url, max_size=64 * 1024 * 1024, ping_interval=None)
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                if "id" in message:
                    future = self._pending.pop(message["id"], None)
                    if future is not None and not future.done():
                        future.set_result(message)
                    continue
                self._on_event(message.get("method"), message.get("params") or {})
        except websockets.ConnectionClosed:
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(BrowserError("CDP connection closed"))

    def _on_event(self, method: str, params: Dict[str, Any]) -> None:
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails") or {}
            description = (details.get("exception") or {}).get("description")
            self.errors.append(description or details.get("text") or "exception")
        elif method == "Runtime.consoleAPICalled":
            args = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            self.console.append(f"{params.get('type')}: {' '.join(args)}")
        for waiter in list(self._waiters):
            if waiter[0] == method and not waiter[1].done():
                waiter[1].set_result(params)
                self._waiters.remove(waiter)

    async def _send(self, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        call_id = next(self._ids)
        future = self._loop.create_future()
        self._pending[call_id] = future
        await self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, self.timeout)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result") or {}

    def send(self, method: str, **params: Any) -> Dict[str, Any]:
        """One CDP command; returns its result."""
        return self._run(self._send(method, params))

    # page helpers -----------------------------------------------------------------------
    def navigate(self, url: str) -> None:
        """Loads `url` and waits for the load event (after any redirects)."""
        async def go() -> None:
            loaded = self._loop.create_future()
            self._waiters.append(("Page.loadEventFired", loaded))
            result = await self._send("Page.navigate", {"url": url})
            if result.get("errorText"):
                raise BrowserError(f"navigate {url}: {result['errorText']}")
            await asyncio.wait_for(loaded, self.timeout)
        self._run(go())

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (promises awaited)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True, userGesture=True)
        if result.get("exceptionDetails"):
            details = result["exceptionDetails"]
            raise BrowserError(f"{expression!r} threw: "
                               f"{(details.get('exception') or {}).get('description') or details}")
        return (result.get("result") or {}).get("value")

    def wait_for(self, expression: str, timeout: Optional[float] = None) -> Any:
        """Polls until the expression is truthy (a new page may be loading meanwhile)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        last: Any = None
        while True:
            try:
                last = self.evaluate(expression)
                if last:
                    return last
            except BrowserError as error:  # e.g. the context went away while navigating
                last = error
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {expression!r} (last: {last!r}); page "
                    f"{self.evaluate('location.href')}; error shown: {self.text('#error')!r}; "
                    f"JS errors: {self.errors}; "
                    f"console: {self.console[-10:]}")
            time.sleep(0.1)

    def _center(self, selector: str) -> tuple:
        box = self.wait_for(
            f"(() => {{ const e = {query_js(selector)};"
            f" if (!e) return null; e.scrollIntoView({{block: 'center'}});"
            f" const r = e.getBoundingClientRect();"
            f" if (!r.width || !r.height) return null;"
            f" const x = r.x + r.width / 2, y = r.y + r.height / 2;"
            # Only once nothing covers it and it is not moving (a part of the page loading
            # above it shifts it; a click at the old place would land elsewhere).
            f" const hit = e.getRootNode().elementFromPoint(x, y);"
            f" const at = [x, y].join();"
            f" const seen = window.__hotroAt = window.__hotroAt || new WeakMap();"
            f" const still = seen.get(e) === at; seen.set(e, at);"
            f" return hit && (hit === e || e.contains(hit)) && still ? [x, y] : null; }})()")
        return box[0], box[1]

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) in the middle of the element."""
        x, y = self._center(selector)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                      clickCount=1)

    def type_into(self, selector: str, text: str) -> None:
        """Focuses the element and types `text` as keyboard input would insert it. The
        click is repeated at the element's new place if the page moved under it (a part
        loaded meanwhile) and focus went elsewhere."""
        focused = (f"(() => {{ let a = document.activeElement;"
                   f" while (a && a.shadowRoot && a.shadowRoot.activeElement)"
                   f" a = a.shadowRoot.activeElement; return a === {query_js(selector)}; }})()")
        deadline = time.monotonic() + self.timeout
        while True:
            self.click(selector)
            try:
                self.wait_for(focused, timeout=2)
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
        self.send("Input.insertText", text=text)

    def text(self, selector: str) -> str:
        return self.evaluate(
            f"({query_js(selector)} || {{}}).textContent || ''")

    def screenshot(self, path: Optional[Path] = None, full_page: bool = True) -> bytes:
        """The page as PNG (DevTools `Page.captureScreenshot`), the whole page or the
        window; written to `path` when given."""
        params: Dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"],
                                "height": size["height"], "scale": 1})
        data = base64.b64decode(self.send("Page.captureScreenshot", **params)["data"])
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(data)
        return data
