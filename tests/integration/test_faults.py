"""kill -9 during a load run: no customer message is lost, and nothing a person saved.

While customers write at a steady rate (tests/integration/load.py), one part of hotro is
killed with SIGKILL: the Rasa server, the action server or the console under `hotro run`
(which starts it again), or PostgreSQL or Redis under the stack on the production stores
(throwaway servers of the test's own, started again as systemd would). Afterwards every
message sent was either answered, or is in its conversation's tracker and in the console's
transcript of its ticket; the count of lost messages is zero, and every message answered is
in its conversation's tracker too (the transcript lost none). A ticket opened, its
transcript and an FAQ edit saved before the fault are all still there.

The same holds for Messenger and Zalo customers (signed webhooks, replies to the Graph API's
and Zalo OpenAPI's stand-ins) writing while PostgreSQL or Redis is down: a webhook is
acknowledged before its message is handled, so nothing resends it; the channel does.

Each test prints its counts (pytest -s or -rP shows them); the last run's table is written
to bench/results/faults.md.
"""
from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List

import pytest
import requests
import yaml

from bot.handoff.store import TicketStore
from bot.settings import PROJECT_DIR
from bot.stack import Stack, _ready
from tests.channels.conftest import (channel_env, fb_body, fb_post, fb_text_event, new_id,
                                     standin_servers, zalo_event, zalo_post)
from tests.conftest import Customer
from tests.integration.conftest import console_login, hotro_running
from tests.integration.load import TEXTS, Load, Message, count, table
from tests.own_services import OwnPostgres, OwnRedis
from tests.production import production_stacks
from tests.standins.graph import GraphStandin
from tests.standins.zalo import ZaloStandin

COUNTS: Dict[str, Dict[str, int]] = {}  # fault -> counts, for bench/results/faults.md


class Kept:
    """What people saved before the faults: a ticket with its transcript, an FAQ edit."""

    def __init__(self, stack: Stack, settings: Path, tickets: TicketStore) -> None:
        wait_for(lambda: _answers(stack), "the bot's first answer")  # a busy machine's first is slow
        self.console = stack.console_url
        self.username = f"an-{uuid.uuid4().hex[:6]}"
        self.admin = console_login(stack, settings, self.username, "admin")
        customer = Customer(stack)
        customer.say("cho mình gặp nhân viên tư vấn")
        customer.say("mã đơn của mình là DH24680 nhé")
        self.ticket = tickets.latest_ticket_for(customer.sender)
        assert self.ticket is not None
        self.transcript = self.transcript_now()
        assert ("customer", "mã đơn của mình là DH24680 nhé") in self.transcript

        entry_id = self.admin.get(f"{self.console}/api/faq/entries",
                                  timeout=30).json()["entries"][0]["id"]
        current = self.admin.get(f"{self.console}/api/faq/entries/{entry_id}", timeout=30).json()
        edit = {**current["entry"], "answer_vi": current["entry"]["answer_vi"] + " Cảm ơn bạn!",
                "base_version": current["version"]}
        saved = self.admin.post(f"{self.console}/api/faq/entries/{entry_id}", json=edit, timeout=30)
        assert saved.status_code == 200, saved.text
        self.faq = (entry_id, saved.json()["version"], edit["answer_vi"])

    def transcript_now(self) -> List[tuple]:
        view = self.admin.get(f"{self.console}/api/tickets/{self.ticket.id}", timeout=60)
        assert view.status_code == 200, view.text
        return [(line["role"], line["text"]) for line in view.json()["transcript"]]

    def check(self) -> None:
        assert self.transcript_now()[:len(self.transcript)] == self.transcript
        entry_id, version, answer = self.faq
        history = self.admin.get(f"{self.console}/api/faq/entries/{entry_id}/history",
                                 timeout=60).json()["versions"]
        assert any(v["version"] == version and v["author"] == self.username and
                   v["entry"]["answer_vi"] == answer for v in history), history[:3]


def tracker_events(stack: Stack, sender: str) -> List[dict]:
    reply = requests.get(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=60,
                         params={"token": stack.api_token} if stack.api_token else None)
    reply.raise_for_status()
    return reply.json()["events"]


def tracker_texts(stack: Stack, sender: str) -> List[str]:
    return [e.get("text") for e in tracker_events(stack, sender) if e["event"] == "user"]


def account(fault: str, messages: List[Message], stack: Stack, kept: Kept,
            tickets: TicketStore) -> Dict[str, int]:
    """The counts of one fault's load run, printed; fails on a lost message."""
    trackers: Dict[str, List[str]] = {}  # sender -> the customer's texts in its tracker
    shown: Dict[str, List[str]] = {}  # sender -> the customer's lines in its ticket's view

    def in_tracker(message: Message) -> bool:
        if message.sender not in trackers:
            trackers[message.sender] = tracker_texts(stack, message.sender)
        return message.text in trackers[message.sender]

    def shown_to_agent(message: Message) -> bool:
        if message.sender not in shown:
            ticket = tickets.latest_ticket_for(message.sender)
            lines = []
            if ticket is not None:
                view = kept.admin.get(f"{kept.console}/api/tickets/{ticket.id}", timeout=60)
                view.raise_for_status()
                lines = [line["text"] for line in view.json()["transcript"]
                         if line["role"] == "customer"]
            shown[message.sender] = lines
        return message.text in shown[message.sender]

    counts, lost = count(messages, in_tracker, shown_to_agent)
    COUNTS[fault] = counts
    print(f"\n{table({fault: counts})}")
    write_results()
    assert counts["sent"] > 0 and lost == [], lost
    return counts


def write_results() -> None:
    results = PROJECT_DIR / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "faults.md").write_text(
        table(COUNTS, "kill -9 under load (tests/integration/test_faults.py)") + "\n",
        encoding="utf-8")


def wait_for(condition, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not after {timeout:.0f} s"
        time.sleep(0.5)


def under_load(stack: Stack, fault, recovered, customers: int = 4) -> List[Message]:
    """The messages of a load run during which `fault()` happens; the load goes on until
    `recovered()` and a few answers more."""
    load = Load(stack.rasa_url, customers=customers).start()
    try:
        load.wait_answered(customers)
        fault()
        wait_for(recovered, "recovery")
        load.wait_answered(customers)
    except BaseException:
        load.stop(abandon=True)
        raise
    return load.stop()


# --- the Rasa server, the action server, the console under `hotro run` (SQLite) ----------

@pytest.fixture(scope="class")
def supervised(stack_settings, tmp_path_factory, tickets):
    with hotro_running(stack_settings, tmp_path_factory.mktemp("faults")) as run:
        yield run, Kept(run.stack, stack_settings, tickets)


class TestUnderHotroRun:
    @pytest.mark.parametrize("service", ["action server", "rasa server", "console"])
    def test_kill_9_loses_no_message(self, service, supervised, tickets):
        run, kept = supervised
        old = run.pid_of(service)
        if not run.stack.services:
            run.stack.build()  # only for the health URLs
        health = run.stack.service(service).health_url

        def restarted() -> bool:
            try:
                return run.pid_of(service) != old and _ready(health)
            except AssertionError:  # not started again yet
                return False

        messages = under_load(run.stack, lambda: os.kill(old, signal.SIGKILL), restarted)
        assert f"{service} exited with code -9" in run.printed()
        counts = account(f"kill -9 {service}", messages, run.stack, kept, tickets)
        if service == "rasa server":  # customers wrote while it was down
            assert counts["resent"] > 0
        kept.check()


# --- PostgreSQL and Redis under the stack on the production stores -------------------------

@pytest.fixture(scope="class")
def stores():
    with OwnPostgres() as postgres, OwnRedis() as redis:
        yield postgres, redis


@pytest.fixture(scope="class")
def standins():
    """The Graph API's and Zalo OpenAPI's stand-ins, for the stack's webhook channels."""
    with standin_servers() as servers:
        yield servers


@pytest.fixture(scope="class")
def on_stores(model, stack_settings, stores, standins, tmp_path_factory):
    """(stack, its tickets, what was kept) on our own PostgreSQL and Redis, supervised; its
    Messenger and Zalo channels talk to the stand-ins."""
    postgres, redis = stores
    database = postgres.new_database()
    (stack,) = production_stacks(model, yaml.safe_load(stack_settings.read_text(encoding="utf-8")),
                                 database, postgres.new_database(),
                                 f"redis://127.0.0.1:{redis.port}/0", tmp_path_factory.mktemp("stores"))
    stack.extra_env.update(channel_env(*standins))
    settings = stack.var_dir / "hotro.yml"
    stopping = threading.Event()
    supervisor = threading.Thread(target=_supervise, args=(stack, stopping), daemon=True)
    try:
        stack.start()
        supervisor.start()
        tickets = TicketStore(database)
        yield stack, tickets, Kept(stack, settings, tickets)
    finally:
        stopping.set()
        if supervisor.is_alive():
            supervisor.join(30)
        stack.stop()


def _supervise(stack: Stack, stopping: threading.Event) -> None:
    while not stopping.wait(1):  # as `hotro run` does
        stack.supervise()


def _answers(stack: Stack) -> bool:
    try:
        reply = Customer(stack).post({"sender": f"probe-{uuid.uuid4().hex[:8]}",
                                      "message": "chào shop"})
    except requests.RequestException:
        return False
    return reply.status_code == 200 and bool(reply.json())


class TestOnProductionStores:
    def test_kill_9_of_postgresql_loses_nothing(self, stores, on_stores):
        postgres, _ = stores
        stack, tickets, kept = on_stores

        def crash_and_restart() -> None:
            postgres.kill()
            time.sleep(5)  # down for a while: messages arrive meanwhile
            postgres.start()

        messages = under_load(stack, crash_and_restart, lambda: _answers(stack))
        counts = account("kill -9 PostgreSQL", messages, stack, kept, tickets)
        assert counts["resent"] > 0  # customers wrote while it was down
        kept.check()

    def test_kill_9_of_redis_loses_nothing(self, stores, on_stores):
        _, redis = stores
        stack, tickets, kept = on_stores

        def crash_and_restart() -> None:
            redis.kill()
            time.sleep(5)
            redis.start()

        messages = under_load(stack, crash_and_restart, lambda: _answers(stack))
        counts = account("kill -9 Redis", messages, stack, kept, tickets)
        assert counts["resent"] > 0  # customers wrote while it was down
        kept.check()

    @pytest.mark.parametrize("store", ["Redis", "PostgreSQL"])
    def test_kill_9_loses_no_webhook_message(self, store, stores, on_stores, standins):
        """Messenger and Zalo customers of the same stack write while the store is down."""
        postgres, redis = stores
        server = redis if store == "Redis" else postgres
        stack, tickets, kept = on_stores
        webhooks = Webhooks(stack, *standins)
        webhooks.send_round()  # every customer answered once before the fault
        assert webhooks.wait_answered(120), webhooks.messages
        server.kill()
        started = time.monotonic()
        for _ in range(2):  # customers write while it is down
            webhooks.send_round()
            time.sleep(1)
        time.sleep(max(0.0, 5 - (time.monotonic() - started)))
        server.start()
        webhooks.wait_answered(180)  # else the counts tell which were lost
        for channel, messages in webhooks.messages.items():
            account(f"kill -9 {store} ({channel} webhooks)", messages, stack, kept, tickets)
        kept.check()


class Webhooks:
    """Messenger and Zalo customers writing through signed webhooks, each message sent in a
    thread of its own and sent again after a 503 or a refused connection, as the platforms
    do (Meta resends a webhook it got no 200 for); a 200 takes the message. A message is
    answered when a reply that follows it in its conversation's tracker reached the
    customer through the stand-in."""

    def __init__(self, stack: Stack, graph: GraphStandin, zalo: ZaloStandin,
                 customers: int = 3) -> None:
        self.stack, self.graph, self.zalo = stack, graph, zalo
        self.senders = {"Messenger": [new_id("psid") for _ in range(customers)],
                        "Zalo": [new_id("u") for _ in range(customers)]}
        self.messages: Dict[str, List[Message]] = {channel: [] for channel in self.senders}
        self._threads: List[threading.Thread] = []

    def send_round(self) -> None:
        """One message more from every customer."""
        for channel, senders in self.senders.items():
            for i, sender in enumerate(senders):
                n = len(self.messages[channel]) // len(senders) + 1
                message = Message(sender, f"{TEXTS[(i + n) % len(TEXTS)]} {n}", outcome="taken")
                self.messages[channel].append(message)
                thread = threading.Thread(target=self._send, args=(channel, message), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _send(self, channel: str, message: Message) -> None:
        if channel == "Messenger":
            body = fb_body(fb_text_event(message.sender, message.text))
            post = lambda: fb_post(self.stack, body)  # noqa: E731 - the same event every time
        else:
            event = zalo_event(message.sender, text=message.text)
            post = lambda: zalo_post(self.stack, event)  # noqa: E731
        deadline = time.monotonic() + 120
        while True:
            try:
                reply = post()
                if reply.status_code != 503:
                    if reply.status_code != 200:
                        message.outcome = f"HTTP {reply.status_code}"
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                message.outcome = "unsent"
                return
            message.resends += 1
            time.sleep(2)

    def delivered(self, channel: str, sender: str) -> List[str]:
        standin = self.graph if channel == "Messenger" else self.zalo
        return [r.json["message"].get("text") or "" for r in standin.delivered_to(sender)]

    def update_answered(self) -> bool:
        """Marks the messages answered by now; True when all are."""
        for channel, messages in self.messages.items():
            for sender in {m.sender for m in messages if m.outcome != "answered"}:
                replies = replies_in_tracker(self.stack, sender)
                delivered = self.delivered(channel, sender)
                for m in messages:
                    if m.sender == sender and any(reply[:40] in text for reply in replies.get(m.text, [])
                                                  for text in delivered):
                        m.outcome = "answered"
        return all(m.outcome == "answered" for ms in self.messages.values() for m in ms)

    def wait_answered(self, timeout: float) -> bool:
        """Until every message sent is taken and answered (True), or `timeout`."""
        for thread in self._threads:
            thread.join(timeout)
        deadline = time.monotonic() + timeout
        while not self.update_answered():
            if time.monotonic() > deadline:
                return False
            time.sleep(1)
        return True


def replies_in_tracker(stack: Stack, sender: str) -> Dict[str, List[str]]:
    """Each customer text of the conversation -> the bot's texts that followed it."""
    replies: Dict[str, List[str]] = {}
    last = None
    for event in tracker_events(stack, sender):
        if event["event"] == "user":
            last = replies.setdefault(event.get("text") or "", [])
        elif event["event"] == "bot" and last is not None and event.get("text"):
            last.append(event["text"])
    return replies
