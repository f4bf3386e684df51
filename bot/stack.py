"""Starts, supervises and stops hotro's processes (action server, Rasa server, console).

`hotro run` uses it for the real thing and the test suite uses it to start the same
processes on free loopback ports, so both exercise one start-up path.

The action server starts first and the Rasa server only once it answers: the action
server loads (on a first start, builds) the FAQ index before it listens, so a customer
can reach the bot only when it can answer, and the index is built once, not by both.
`supervise()` restarts a process that died, with backoff; the others keep serving.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import yaml

from bot.settings import PROJECT_DIR

BIN = Path(sys.executable).parent
log = logging.getLogger("hotro.stack")
Waiting = Callable[["Service"], None]  # called while a service is not ready yet

# A crashed process is started again after 1, 2, 4 ... seconds, at most a minute apart;
# one that then runs for STABLE_AFTER seconds starts again at 1 s if it crashes again.
FIRST_BACKOFF, MAX_BACKOFF, STABLE_AFTER = 1.0, 60.0, 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def latest_model(models_dir: Path) -> Optional[Path]:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Service:
    name: str
    command: List[str]
    health_url: str
    log_path: Path
    env: Dict[str, str] = field(default_factory=dict)  # this service's own variables
    process: Optional[subprocess.Popen] = None
    started_at: float = 0.0
    crashes: int = 0  # in a row, without a stable run in between
    restart_at: Optional[float] = None  # when a crashed service is due to start again

    def start(self, env: Dict[str, str]) -> None:
        self.started_at = time.monotonic()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        # Own process group, so stopping the stack also stops what a service spawned.
        self.process = subprocess.Popen(
            self.command, cwd=PROJECT_DIR, env={**env, **self.env}, stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15) -> None:
        if not self.is_running():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def kill(self) -> None:
        """kill -9, as a crash would."""
        if self.is_running():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def write_ahead_logs(endpoints: Path, env: Dict[str, str]) -> None:
    """SQLite's write-ahead log for the files of the SQLite tracker store and event broker
    that `endpoints` configures (`db: ${VAR}` read from `env`). Rasa's stores commit every
    turn (Rasa's own broker: every event); in SQLite's default rollback journal a commit
    costs about 1 ms of fsyncs here, appending to the log 0.2 ms, as durable (synchronous
    stays FULL), and the console reads while Rasa writes. The mode is kept in the file, so Rasa's own connections use it."""
    config = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    for key in ("tracker_store", "event_broker"):
        section = config.get(key) or {}
        if section.get("dialect") != "sqlite" or not section.get("db"):
            continue
        path = Path(string.Template(str(section["db"])).safe_substitute(env))
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode=WAL")


@dataclass
class Stack:
    """The action server, Rasa server and agent console of one hotro deployment; without
    the console (`console=False`) it is one more replica of the first two beside a stack
    that has it, sharing its stores (deploy/endpoints.yml)."""

    model: Path
    var_dir: Path
    rasa_port: int = 5005
    action_port: int = 5055
    console_port: int = 5080
    host: str = "127.0.0.1"
    credentials: Path = PROJECT_DIR / "credentials.yml"
    endpoints: Path = PROJECT_DIR / "endpoints.yml"  # deploy/endpoints.yml: PostgreSQL, Redis
    extra_env: Dict[str, str] = field(default_factory=dict)
    console: bool = True
    services: List[Service] = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def console_url(self) -> str:
        return f"http://{self.host}:{self.console_port}"

    @property
    def action_url(self) -> str:
        # Always loopback: rasa-sdk's webhook has no authentication, and only the Rasa
        # server of this machine calls it.
        return f"http://{LOOPBACK}:{self.action_port}"

    def env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.setdefault("HOTRO_TRACKER_DB", str(self.var_dir / "tracker.db"))
        env.setdefault("HOTRO_EVENTS_DB", str(self.var_dir / "events.db"))  # event broker
        env["HOTRO_ACTION_URL"] = f"{self.action_url}/webhook"
        env["HOTRO_RASA_URL"] = self.rasa_url
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.update(self.extra_env)
        return env

    @property
    def api_token(self) -> str:
        """The Rasa HTTP API's token (HOTRO_RASA_TOKEN; the console sends it too), or "":
        then only the customer channels' webhooks, not the API, may face a network."""
        return self.extra_env.get("HOTRO_RASA_TOKEN") or os.environ.get("HOTRO_RASA_TOKEN", "")

    def build(self) -> None:
        logs = self.var_dir / "logs"
        token = self.api_token
        # Threads that wait by spinning burn the CPU other turns need (bench/faq_turn.md): a
        # turn's matrix products are small (a query against the FAQ's vectors), and on two
        # threads OpenBLAS's idle worker took 45 % of the Rasa server's CPU per FAQ turn; the
        # embedder's OpenMP threads spin 300,000 rounds after each text by default, 10,000
        # keep its speed at a fifth less CPU.
        turn_env = {name: os.environ.get(name, value)
                    for name, value in (("OPENBLAS_NUM_THREADS", "1"), ("GOMP_SPINCOUNT", "10000"))}
        self.services = [
            Service(
                "action server",
                [str(BIN / "rasa"), "run", "actions", "--actions", "actions",
                 "--port", str(self.action_port)],
                f"{self.action_url}/health", logs / "actions.log",
                # `rasa run actions` has no --interface: rasa-sdk binds SANIC_HOST,
                # else 0.0.0.0 (rasa_sdk/endpoint.py).
                env={"SANIC_HOST": LOOPBACK, **turn_env},
            ),
            Service(
                "rasa server",
                [str(BIN / "rasa"), "run", "--enable-api", "--cors", "*",
                 "--interface", self.host, "--port", str(self.rasa_port),
                 "--model", str(self.model), "--endpoints", str(self.endpoints),
                 "--credentials", str(self.credentials),
                 *(["--auth-token", token] if token else [])],
                f"{self.rasa_url}/status" + (f"?token={token}" if token else ""), logs / "rasa.log",
                env=turn_env,
            ),
        ]
        if self.console:
            self.services.append(Service(
                "console",
                [sys.executable, "-m", "bot.console", "--host", self.host,
                 "--port", str(self.console_port)],
                f"{self.console_url}/healthz", logs / "console.log",
            ))

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def start(self, timeout: float = 300, waiting: Optional[Waiting] = None) -> None:
        """Starts every service, the Rasa server once the action server is ready."""
        if not self.services:
            self.build()
        env = self.env()
        started = time.monotonic()
        rasa = self.service("rasa server")
        for service in self.services:
            if service is not rasa and not service.is_running():
                service.start(env)
        self.wait_ready([self.service("action server")], timeout, waiting)
        if not rasa.is_running():
            write_ahead_logs(self.endpoints, env)
            rasa.start(env)
        self.wait_ready(None, timeout - (time.monotonic() - started), waiting)

    def wait_ready(self, services: Optional[List[Service]] = None, timeout: float = 300,
                   waiting: Optional[Waiting] = None) -> None:
        """Until each of `services` (default: all) answers its health check. `waiting(service)`
        is called about once a second while one does not."""
        deadline = time.monotonic() + timeout
        for service in services or self.services:
            while not _ready(service.health_url):
                if waiting:
                    waiting(service)
                if not service.is_running():
                    raise RuntimeError(
                        f"{service.name} exited with code {service.process.returncode}; "
                        f"see {service.log_path}:\n{_tail(service.log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{service.name} not ready after {timeout:.0f}s; see {service.log_path}:\n"
                        f"{_tail(service.log_path)}"
                    )
                time.sleep(0.5)

    def supervise(self) -> None:
        """Starts again, with backoff, each service that exited; call it every second or so."""
        now = time.monotonic()
        for service in self.services:
            if service.is_running():
                if service.crashes and now - service.started_at >= STABLE_AFTER:
                    service.crashes = 0
                continue
            if service.restart_at is None:
                delay = min(FIRST_BACKOFF * 2 ** service.crashes, MAX_BACKOFF)
                service.crashes += 1
                service.restart_at = now + delay
                log.error("%s exited with code %s; starting it again in %g s (see %s)",
                          service.name, service.process.returncode if service.process else None,
                          delay, service.log_path)
            elif now >= service.restart_at:
                service.restart_at = None
                service.start(self.env())
                log.warning("%s started again (restart %d in a row)", service.name, service.crashes)

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
