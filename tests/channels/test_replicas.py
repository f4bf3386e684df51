"""Two replicas of a channel, each its own process, on one database (PostgreSQL as in
production; SQLite too where it is cheap): an event delivered to both is handled once,
numbered choices one sent are read by the other, and two that find the Zalo access token
expired at once spend the single-use refresh token once and both deliver. And the handled
ids they share stay bounded."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, List

import pytest
import requests
from sqlalchemy import func, select

from bot.channels import state
from bot.channels.messenger import MessengerStore, signature_256
from bot.channels.zalo import ZaloStore, undelivered_messages, zalo_signature
from bot.db import engine_for
from bot.settings import PROJECT_DIR
from bot.stack import free_port
from tests.channels import replica
from tests.channels.conftest import fb_body, fb_text_event, new_id, zalo_event
from tests.standins.graph import GraphStandin
from tests.standins.zalo import TOKEN_PATH, ZaloStandin

TIMEOUT = 60


@pytest.fixture
def graph() -> Iterator[GraphStandin]:
    server = GraphStandin(replica.FB_PAGE_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def zalo() -> Iterator[ZaloStandin]:
    server = ZaloStandin(replica.ZALO_APP_ID, replica.ZALO_APP_SECRET,
                         replica.ZALO_ACCESS_TOKEN, replica.ZALO_REFRESH_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def processes() -> Iterator[List[subprocess.Popen]]:
    started: List[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return request.getfixturevalue("new_postgres_database")()


def start(processes: List[subprocess.Popen], url: str, *args: str,
          **popen) -> subprocess.Popen:
    """`python -m tests.channels.replica *args` on the database at `url`."""
    env = {**os.environ, "HOTRO_DATABASE_URL": url, "PYTHONPATH": str(PROJECT_DIR)}
    process = subprocess.Popen([sys.executable, "-m", "tests.channels.replica", *args],
                               cwd=PROJECT_DIR, env=env, stdin=subprocess.DEVNULL, **popen)
    processes.append(process)
    return process


class Server:
    """A channel replica serving its webhook; what it handed the bot is in `handled()`."""

    def __init__(self, processes, url: str, tmp_path: Path, channel: str, api: str) -> None:
        self.port = free_port()
        self.out = tmp_path / f"handled-{self.port}.jsonl"
        self.log = tmp_path / f"replica-{self.port}.log"
        with self.log.open("ab") as log:
            self.process = start(processes, url, "serve", channel, "--port",
                                 str(self.port), "--api", api, "--out", str(self.out),
                                 stdout=log, stderr=subprocess.STDOUT)
        name = "facebook" if channel == "messenger" else channel
        self.webhook = f"http://127.0.0.1:{self.port}/webhooks/{name}/webhook"
        self._wait_healthy(f"http://127.0.0.1:{self.port}/webhooks/{name}/")

    def _wait_healthy(self, health: str) -> None:
        for _ in range(TIMEOUT * 5):
            try:
                if requests.get(health, timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.2)
        raise AssertionError(f"replica did not start:\n{self.log.read_text()[-3000:]}")

    def handled(self) -> List[dict]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text(encoding="utf-8").splitlines()]


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_messenger_event_delivered_to_two_replicas_is_handled_once(
        new_postgres_database, graph, processes, tmp_path):
    url = new_postgres_database()
    one, two = (Server(processes, url, tmp_path, "messenger", graph.url) for _ in range(2))
    psid = new_id("p")
    bodies = [fb_body(fb_text_event(psid, f"tin nhắn {i}")) for i in range(20)]

    def deliver(target):  # Meta redelivers: the same signed body reaches both replicas
        server, body = target
        return requests.post(server.webhook, data=body, timeout=30, headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature_256(replica.FB_APP_SECRET, body)}).status_code
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(deliver, [(server, body) for i, body in enumerate(bodies)
                                           for server in ((one, two) if i % 2 else (two, one))]))
    assert statuses == [200] * 40

    wait_until(lambda: len(one.handled()) + len(two.handled()) >= 20, "events not handled")
    time.sleep(1)  # a second handling, if any, would have come by now
    texts = [m["text"] for m in one.handled() + two.handled()]
    assert sorted(texts) == sorted(f"tin nhắn {i}" for i in range(20))


def test_numbered_choices_sent_by_one_replica_are_read_by_another(
        new_postgres_database, zalo, processes, tmp_path):
    url = new_postgres_database()
    user = new_id("u")
    go = tmp_path / "go"
    go.touch()
    buttons = [{"title": "Gặp nhân viên", "payload": "/request_human"},
               {"title": "Không, cảm ơn", "payload": "/deny"}]
    sender = start(processes, url, "send-zalo", "--api", zalo.url, "--user", user,
                   "--text", "Bạn cần gì?", "--go", str(go), "--buttons", json.dumps(buttons),
                   stdout=subprocess.DEVNULL)
    assert sender.wait(TIMEOUT) == 0
    [sent] = zalo.delivered_to(user)
    assert "2. Không, cảm ơn" in sent.json["message"]["text"]

    other = Server(processes, url, tmp_path, "zalo", zalo.url)
    event = zalo_event(user, text="2")
    body = json.dumps(event).encode()
    reply = requests.post(other.webhook, data=body, timeout=30, headers={
        "Content-Type": "application/json",
        "X-ZEvent-Signature": zalo_signature(replica.ZALO_APP_ID, body, event["timestamp"],
                                             replica.ZALO_OA_SECRET)})
    assert reply.json() == {"status": "ok"}
    wait_until(other.handled, "the reply was not handed to the bot")
    assert other.handled() == [{"sender": user, "text": "/deny"}]


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_two_replicas_refreshing_at_once_spend_the_refresh_token_once(
        kind, zalo, processes, tmp_path, request):
    url = database(kind, tmp_path, request)
    zalo.expire_access_token()  # both replicas start with a dead access token
    go = tmp_path / "go"
    users = [new_id("u"), new_id("u")]
    senders = [start(processes, url, "send-zalo", "--api", zalo.url, "--user", user,
                     "--text", f"xin chào {user}", "--go", str(go),
                     stdout=subprocess.PIPE, text=True) for user in users]
    for sender in senders:
        assert sender.stdout.readline().strip() == "ready"
    go.touch()
    assert [sender.wait(TIMEOUT) for sender in senders] == [0, 0]

    for user in users:
        [delivered] = zalo.delivered_to(user)
        assert delivered.json["message"]["text"] == f"xin chào {user}"
        assert undelivered_messages(user, url) == []
    [refresh] = zalo.recorded(lambda r: r.path == TOKEN_PATH)
    assert refresh.form["refresh_token"] == replica.ZALO_REFRESH_TOKEN
    assert ZaloStore(engine_for(url)).tokens(replica.ZALO_APP_ID)["refresh_token"] == \
        zalo.valid_refresh_token != replica.ZALO_REFRESH_TOKEN


def test_the_handled_ids_stay_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "PRUNE_EVERY", 20)
    engine = engine_for(f"sqlite:///{tmp_path / 'seen.db'}")
    messenger, zalo = MessengerStore(engine, max_seen=5), ZaloStore(engine, max_seen=5)
    assert zalo.first_time("z-1")  # id 1
    assert all(messenger.first_time(f"m-{i}") for i in range(39))  # ids 2..40
    assert not messenger.first_time("m-38")  # a recent one is still known
    with engine.connect() as db:
        counts = dict(db.execute(select(state.SeenRow.channel, func.count())
                                 .group_by(state.SeenRow.channel)).all())
    assert counts == {"facebook": 5, "zalo": 1}  # another channel's ids are not pruned
