"""Shared fixtures: the real hotro stack (Rasa server + action server) on free ports."""
from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests
import yaml

from bot.settings import PROJECT_DIR, load_settings
from bot.stack import Stack, free_port, latest_model


@pytest.fixture(scope="session")
def model() -> Path:
    found = latest_model(PROJECT_DIR / "models")
    if found is None:
        pytest.fail("no trained model in models/: `make test` trains one (hotro train)")
    return found


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hotro.yml for the test stack: a copy of the FAQ corpus that tests may edit."""
    var_dir = tmp_path_factory.mktemp("settings")
    corpus = var_dir / "knowledge_base"
    shutil.copytree(PROJECT_DIR / "knowledge_base", corpus)
    settings = dict(load_settings())
    settings["kb"] = {**settings["kb"], "corpus_dir": str(corpus),
                      "index_dir": str(var_dir / "kb_index")}
    settings["handoff"] = {**settings["handoff"],
                           "database_url": f"sqlite:///{var_dir / 'hotro.db'}"}
    # Round-the-clock office hours: tests must not depend on the time they run at.
    settings["support"] = {**settings["support"],
                           "office_hours": {"days": list(range(7)), "open": "00:00",
                                            "close": "24:00"}}
    path = var_dir / "hotro.yml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def stack(model: Path, stack_settings: Path, tmp_path_factory: pytest.TempPathFactory):
    """One running stack for the whole session; a failed start fails the tests."""
    var_dir = tmp_path_factory.mktemp("stack")
    running = Stack(model=model, var_dir=var_dir, rasa_port=free_port(),
                    action_port=free_port(), console_port=free_port(), extra_env={"HOTRO_CONFIG": str(stack_settings)})
    try:
        running.start()
        yield running
    finally:
        running.stop()  # also when start-up failed half-way


def rasa_log(stack: Stack) -> str:
    return (stack.var_dir / "logs" / "rasa.log").read_text(encoding="utf-8", errors="replace")


def wait_log_count(stack: Stack, marker: str, expected: int, timeout: float = 15) -> int:
    """How often `marker` is in the Rasa log once it is there `expected` times (the log
    is written line by line: allow a moment); fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (found := rasa_log(stack).count(marker)) < expected:
        assert time.monotonic() < deadline, f"{marker!r} logged {found} times, not {expected}"
        time.sleep(0.2)
    return found


class Customer:
    """One customer talking to the bot over the REST channel."""

    def __init__(self, stack: Stack, sender: str | None = None) -> None:
        self.stack = stack
        self.sender = sender or f"test-{uuid.uuid4().hex[:12]}"

    def post(self, body: Any, **kwargs: Any) -> requests.Response:
        return requests.post(f"{self.stack.rasa_url}/webhooks/rest/webhook", timeout=60,
                             json=body, **kwargs)

    def say(self, text: str) -> List[Dict[str, Any]]:
        reply = self.post({"sender": self.sender, "message": text})
        assert reply.status_code == 200, reply.text
        return reply.json()

    def says_text(self, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(text))

    def tracker(self) -> Dict[str, Any]:
        reply = requests.get(
            f"{self.stack.rasa_url}/conversations/{self.sender}/tracker", timeout=30)
        reply.raise_for_status()
        return reply.json()


@pytest.fixture
def customer(stack: Stack) -> Customer:
    return Customer(stack)


class SocketCustomer:
    """A customer on the widget's socket.io channel, as the widget script talks to it:
    replies, including an agent's, are pushed, so they can arrive at any time."""

    METADATA_KEY = "customData"  # credentials.yml: the widget channel's metadata_key

    def __init__(self, stack: Stack, session_id: Any = None) -> None:
        import socketio

        self.received: List[Dict[str, Any]] = []  # bot_uttered payloads, as sent
        self.meta: List[Dict[str, Any]] = []  # the hotro_meta of each, same order
        self.errors: List[Dict[str, Any]] = []  # hotro_error events
        self.confirmed: List[str] = []
        self._next_meta: Dict[str, Any] = {}
        self.client = socketio.Client(reconnection=False)
        self.client.on("hotro_meta", self._describe_next)
        self.client.on("bot_uttered", self._uttered)
        self.client.on("hotro_error", self.errors.append)
        self.client.on("session_confirm", self.confirmed.append)
        self.client.connect(stack.rasa_url, transports=["polling"], wait_timeout=30)
        self.client.emit("session_request", {"session_id": session_id})
        deadline = time.monotonic() + 30
        while not self.confirmed:
            assert time.monotonic() < deadline, "no session_confirm"
            time.sleep(0.05)
        self.session_id = self.confirmed[0]  # the server makes one if none or a bad one

    def _describe_next(self, meta: Dict[str, Any]) -> None:
        self._next_meta = meta

    def _uttered(self, payload: Dict[str, Any]) -> None:
        self.meta.append(self._next_meta)
        self._next_meta = {}
        self.received.append(payload)

    @classmethod
    def resume(cls, stack: Stack, session_id: str) -> "SocketCustomer":
        """The same customer coming back (the widget keeps its session id)."""
        return cls(stack, session_id)

    def send(self, text: str) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def say(self, message: Any, **metadata: Any) -> Any:
        """Sends and returns the server's acknowledgement (it comes after the bot answered)."""
        payload = {"session_id": self.session_id, "message": message}
        if metadata:
            payload[self.METADATA_KEY] = metadata
        return self.client.call("user_uttered", payload, timeout=60)

    def wait_for(self, fragment: str, timeout: float = 60) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.received:
                if fragment in (message.get("text") or ""):
                    return message
            time.sleep(0.2)
        raise AssertionError(f"never received {fragment!r}; got {self.received!r}")

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def socket_customer(stack: Stack):
    customer = SocketCustomer(stack)
    yield customer
    customer.close()


# --- PostgreSQL and Redis (scripts/services.sh) ----------------------------------------

def _service_url(name: str) -> str:
    """HOTRO_TEST_<name>_URL from the environment (`make test` sets it) or from the file
    scripts/services.sh writes. Missing or unreachable: a failure in CI or under `make
    test`, a skip when the tests are run by hand without the services."""
    import os

    variable = f"HOTRO_TEST_{name}_URL"
    url = os.environ.get(variable)
    required = bool(url) or bool(os.environ.get("CI"))
    if not url:
        env_file = PROJECT_DIR / "var" / "test-services.env"
        if env_file.exists():
            for line in env_file.read_text(encoding="utf-8").splitlines():
                key, _, value = line.partition("=")
                if key == variable:
                    url = value.strip()
    why = None
    if not url:
        why = f"{variable} is not set: start the services with scripts/services.sh"
    else:
        try:
            _ping(name, url)
        except Exception as exc:  # any driver error means "not reachable"
            why = f"{name.lower()} at {url} is not reachable ({exc}); run scripts/services.sh"
    if why:
        (pytest.fail if required else pytest.skip)(why)
    return url


def _ping(name: str, url: str) -> None:
    if name == "POSTGRES":
        import sqlalchemy

        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
        engine.dispose()
    else:
        import redis

        redis.Redis.from_url(url, socket_timeout=5).ping()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of the test PostgreSQL server's maintenance database."""
    return _service_url("POSTGRES")


@pytest.fixture(scope="session")
def new_postgres_database(postgres_server):
    """new_postgres_database() -> the URL of a fresh, empty database; all are dropped at the
    end of the session (each session and test gets its own: parallel runs never meet)."""
    from tests.production import PostgresDatabases

    databases = PostgresDatabases(postgres_server)
    yield databases.new
    databases.drop_all()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _service_url("REDIS")
