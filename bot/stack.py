"""Starts and stops hotro's processes (action server, Rasa server, console) as one stack.

`hotro run` uses it for the real thing and the test suite uses it to start the same
processes on free loopback ports, so both exercise one start-up path.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import PROJECT_DIR

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def latest_model(models_dir: Path) -> Optional[Path]:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


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

    def start(self, env: Dict[str, str]) -> None:
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


@dataclass
class Stack:
    """The action server, Rasa server and agent console of one hotro deployment."""

    model: Path
    var_dir: Path
    rasa_port: int = 5005
    action_port: int = 5055
    console_port: int = 5080
    host: str = "127.0.0.1"
    credentials: Path = PROJECT_DIR / "credentials.yml"
    endpoints: Path = PROJECT_DIR / "endpoints.yml"  # deploy/endpoints.yml: PostgreSQL, Redis
    extra_env: Dict[str, str] = field(default_factory=dict)
    services: List[Service] = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def console_url(self) -> str:
        return f"http://{self.host}:{self.console_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"

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

    def build(self) -> None:
        logs = self.var_dir / "logs"
        self.services = [
            Service(
                "action server",
                [str(BIN / "rasa"), "run", "actions", "--actions", "actions",
                 "--port", str(self.action_port)],
                f"{self.action_url}/health", logs / "actions.log",
                # `rasa run actions` has no --interface: rasa-sdk binds SANIC_HOST,
                # else 0.0.0.0 (rasa_sdk/endpoint.py).
                env={"SANIC_HOST": self.host},
            ),
            Service(
                "rasa server",
                [str(BIN / "rasa"), "run", "--enable-api", "--cors", "*",
                 "--interface", self.host, "--port", str(self.rasa_port),
                 "--model", str(self.model), "--endpoints", str(self.endpoints),
                 "--credentials", str(self.credentials)],
                f"{self.rasa_url}/status", logs / "rasa.log",
            ),
            Service(
                "console",
                [sys.executable, "-m", "bot.console", "--host", self.host,
                 "--port", str(self.console_port)],
                f"{self.console_url}/healthz", logs / "console.log",
            ),
        ]

    def start(self, timeout: float = 300) -> None:
        if not self.services:
            self.build()
        env = self.env()
        for service in self.services:
            if not service.is_running():
                service.start(env)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        for service in self.services:
            while not _ready(service.health_url):
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

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
