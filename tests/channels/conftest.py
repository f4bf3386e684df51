"""A hotro stack whose Messenger and Zalo channels talk to stand-in servers.

One stack for the whole tests/channels package (package scope: it stops before the
next package's tests start, so the suite never runs two Rasa servers at once). The
credentials file is the shape credentials.yml documents, with the secrets as quoted
"${ENV}" references filled from the stack's environment.
"""
from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

import pytest
import requests
import yaml
from sqlalchemy import text

from bot.channels.messenger import signature_256
from bot.channels.zalo import zalo_signature
from bot.db import engine_for
from bot.handoff.store import TicketStore, ticket_store
from bot.settings import PROJECT_DIR, load_settings
from bot.stack import Stack, free_port
from tests.conftest import rasa_log  # noqa: F401 - the channel tests import it from here
from tests.standins.graph import GraphStandin
from tests.standins.zalo import ZaloStandin

FB_PAGE_TOKEN = "page-token-standin"
FB_APP_SECRET = "fb-app-secret-standin"
FB_VERIFY_TOKEN = "verify-me-standin"
ZALO_APP_ID = "3608465248940903967"
ZALO_APP_SECRET = "zalo-app-secret-standin"
ZALO_OA_SECRET = "zalo-oa-secret-standin"
ZALO_ACCESS_TOKEN = "at-initial"
ZALO_REFRESH_TOKEN = "rt-initial"

CREDENTIALS = """\
bot.channels.rest.CheckedRestInput:
  max_message_chars: 4000

bot.channels.messenger.MessengerInput:
  verify: "${{FB_VERIFY_TOKEN}}"
  secret: "${{FB_APP_SECRET}}"
  page-access-token: "${{FB_PAGE_ACCESS_TOKEN}}"
  graph_url: "{graph_url}/v19.0"
  retry_backoff: 0.05

bot.channels.zalo.ZaloInput:
  app_id: "${{ZALO_APP_ID}}"
  app_secret: "${{ZALO_APP_SECRET}}"
  oa_secret_key: "${{ZALO_OA_SECRET_KEY}}"
  access_token: "${{ZALO_ACCESS_TOKEN}}"
  refresh_token: "${{ZALO_REFRESH_TOKEN}}"
  openapi_url: "{zalo_url}"
  oauth_url: "{zalo_url}"
  retry_backoff: 0.05
"""


@pytest.fixture(autouse=True)
def ticket_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Channels run in this process put undelivered messages on handoff tickets, in the
    store hotro.yml names: a copy of hotro.yml (HOTRO_CONFIG) names a temporary one."""
    settings = dict(load_settings(str(PROJECT_DIR / "hotro.yml")))
    db = tmp_path / "tickets" / "hotro.db"
    settings["handoff"] = {**settings["handoff"], "database_url": f"sqlite:///{db}"}
    path = tmp_path / "tickets" / "hotro.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("HOTRO_CONFIG", str(path))
    load_settings.cache_clear()
    yield db
    load_settings.cache_clear()


@pytest.fixture(scope="package")
def graph() -> Iterator[GraphStandin]:
    server = GraphStandin(FB_PAGE_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def zalo() -> Iterator[ZaloStandin]:
    server = ZaloStandin(ZALO_APP_ID, ZALO_APP_SECRET, ZALO_ACCESS_TOKEN,
                         ZALO_REFRESH_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def channel_stack(model: Path, stack_settings: Path, graph: GraphStandin, zalo: ZaloStandin,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("channel_stack")
    credentials = var_dir / "credentials.yml"
    credentials.write_text(CREDENTIALS.format(graph_url=graph.url, zalo_url=zalo.url),
                           encoding="utf-8")
    running = Stack(model=model, var_dir=var_dir, rasa_port=free_port(),
                    action_port=free_port(), console_port=free_port(), credentials=credentials,
                    extra_env={"HOTRO_CONFIG": str(stack_settings), **channel_env(graph, zalo)})
    try:
        running.start()
        yield running
    finally:
        running.stop()


@contextmanager
def standin_servers() -> Iterator[Tuple[GraphStandin, ZaloStandin]]:
    """The Graph API's and Zalo OpenAPI's stand-ins, running, for stacks of a test's own
    (their environment: channel_env)."""
    graph = GraphStandin(FB_PAGE_TOKEN).start()
    zalo = ZaloStandin(ZALO_APP_ID, ZALO_APP_SECRET, ZALO_ACCESS_TOKEN, ZALO_REFRESH_TOKEN).start()
    try:
        yield graph, zalo
    finally:
        graph.stop()
        zalo.stop()


def channel_env(graph: GraphStandin, zalo: ZaloStandin) -> Dict[str, str]:
    """A stack's environment for Messenger and Zalo against the stand-ins: the secrets, and
    the API URLs that the project's credentials.yml reads."""
    return {"FB_VERIFY_TOKEN": FB_VERIFY_TOKEN, "FB_APP_SECRET": FB_APP_SECRET,
            "FB_PAGE_ACCESS_TOKEN": FB_PAGE_TOKEN, "FB_GRAPH_URL": f"{graph.url}/v19.0",
            "ZALO_APP_ID": ZALO_APP_ID, "ZALO_APP_SECRET": ZALO_APP_SECRET,
            "ZALO_OA_SECRET_KEY": ZALO_OA_SECRET, "ZALO_ACCESS_TOKEN": ZALO_ACCESS_TOKEN,
            "ZALO_REFRESH_TOKEN": ZALO_REFRESH_TOKEN, "ZALO_OPENAPI_URL": zalo.url,
            "ZALO_OAUTH_URL": zalo.url}


def stack_database_url(stack: Stack) -> str:
    """The database of the stack's processes (its HOTRO_CONFIG's): tickets and channel state."""
    settings = yaml.safe_load(Path(stack.extra_env["HOTRO_CONFIG"]).read_text(encoding="utf-8"))
    return settings["handoff"]["database_url"]


def stack_tickets(stack: Stack) -> TicketStore:
    return ticket_store(stack_database_url(stack))


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().int % 10**16:016d}"


# ---------------------------------------------------------------- Messenger requests

def fb_text_event(psid: str, text: str, mid: Optional[str] = None,
                  quick_reply: Optional[str] = None) -> Dict[str, Any]:
    message: Dict[str, Any] = {"mid": mid or new_id("m_"), "text": text}
    if quick_reply is not None:
        message["quick_reply"] = {"payload": quick_reply}
    return {"sender": {"id": psid}, "recipient": {"id": "PAGE_ID"},
            "timestamp": int(time.time() * 1000), "message": message}


def fb_body(*events: Dict[str, Any]) -> bytes:
    return json.dumps({"object": "page", "entry": [
        {"id": "PAGE_ID", "time": int(time.time() * 1000), "messaging": list(events)}]},
        ensure_ascii=False).encode("utf-8")


def fb_post(stack: Stack, body: bytes, signature: Optional[str] = "sign",
            session: Optional[requests.Session] = None, **headers: str) -> requests.Response:
    """POSTs to the Messenger webhook; signature "sign" = the correct X-Hub-Signature-256."""
    all_headers = {"Content-Type": "application/json", **headers}
    if signature == "sign":
        signature = signature_256(FB_APP_SECRET, body)
    if signature is not None:
        all_headers["X-Hub-Signature-256"] = signature
    return (session or requests).post(f"{stack.rasa_url}/webhooks/facebook/webhook",
                                      data=body, headers=all_headers, timeout=30)


# ---------------------------------------------------------------- Zalo requests

def zalo_event(user: str, event_name: str = "user_send_text", text: Optional[str] = None,
               msg_id: Optional[str] = None, **message: Any) -> Dict[str, Any]:
    body_message: Dict[str, Any] = {"msg_id": msg_id or uuid.uuid4().hex[:20], **message}
    if text is not None:
        body_message["text"] = text
    if event_name.startswith("oa_send_"):
        sender, recipient = {"id": "388613280878808645", "admin_id": "1"}, {"id": user}
    else:
        sender, recipient = {"id": user}, {"id": "388613280878808645"}
    return {"app_id": ZALO_APP_ID, "sender": sender, "recipient": recipient,
            "user_id_by_app": "552177279717587730", "event_name": event_name,
            "message": body_message, "timestamp": str(int(time.time() * 1000))}


def zalo_post(stack: Stack, event: Any = None, body: Optional[bytes] = None,
              signature: Optional[str] = "sign", session: Optional[requests.Session] = None,
              timestamp: Optional[str] = None) -> requests.Response:
    """POSTs to the Zalo webhook; signature "sign" = the correct X-ZEvent-Signature."""
    if body is None:
        body = json.dumps(event, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        if timestamp is None:
            timestamp = str(event.get("timestamp")) if isinstance(event, dict) else ""
        signature = zalo_signature(ZALO_APP_ID, body, timestamp, ZALO_OA_SECRET)
    if signature is not None:
        headers["X-ZEvent-Signature"] = signature
    return (session or requests).post(f"{stack.rasa_url}/webhooks/zalo/webhook", data=body,
                                      headers=headers, timeout=30)


def last_user_intent(stack: Stack, sender: str) -> Optional[str]:
    tracker = requests.get(f"{stack.rasa_url}/conversations/{sender}/tracker",
                           timeout=30).json()
    users = [e for e in tracker.get("events", []) if e.get("event") == "user"]
    return users[-1]["parse_data"]["intent"]["name"] if users else None


def db_rows(stack: Stack, sql: str, **params: Any):
    """Runs `sql` (":name" parameters) on the stack's database; its rows as tuples."""
    with engine_for(stack_database_url(stack)).begin() as db:
        result = db.execute(text(sql), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def wait_for_intent(stack: Stack, sender: str, intent: str, timeout: float = 60) -> None:
    """Waits until the conversation's latest user message was understood as `intent`."""
    deadline = time.monotonic() + timeout
    while last_user_intent(stack, sender) != intent:
        assert time.monotonic() < deadline, (
            f"{sender}: last intent {last_user_intent(stack, sender)!r}, not {intent!r}")
        time.sleep(0.2)
