"""The stack on the production stores of deploy/endpoints.yml: Rasa's tracker store and
hotro's tables on PostgreSQL, Rasa's lock store on Redis (both started by
scripts/services.sh). A conversation handed to a person survives a restart of the whole
stack: the conversation, the ticket, its transcript and the agent's login."""
from __future__ import annotations

import subprocess
import time
import uuid

import pytest
import sqlalchemy
import yaml

from bot.handoff.store import RESOLVED, TicketStore
from bot.schema import differences
from bot.stack import Stack
from tests.conftest import Customer, SocketCustomer
from tests.integration.conftest import console_login
from tests.production import production_stacks, running


@pytest.fixture(scope="module")
def production(model, stack_settings, new_postgres_database, redis_url, tmp_path_factory):
    """A second stack, on PostgreSQL and Redis: (stack, its settings, hotro's database)."""
    database = new_postgres_database()  # hotro's tables and Rasa's tracker
    settings = yaml.safe_load(stack_settings.read_text(encoding="utf-8"))
    stacks = production_stacks(model, settings, database, new_postgres_database(), redis_url,
                               tmp_path_factory.mktemp("production"))
    with running(stacks) as (stack,):
        yield stack, stack.var_dir / "hotro.yml", database


class RedisMonitor:
    """The commands Redis receives meanwhile (redis-cli monitor)."""

    def __init__(self, redis_url: str) -> None:
        self.process = subprocess.Popen(["redis-cli", "-u", redis_url, "monitor"],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "OK"  # listening from here on

    def stop(self) -> str:
        self.process.terminate()
        return self.process.communicate(timeout=30)[0]


def user_texts(tracker):
    return [e.get("text") for e in tracker["events"] if e["event"] == "user"]


def test_a_handed_off_conversation_survives_a_restart_on_postgresql_and_redis(
        production, redis_url):
    stack, settings_path, database = production
    console = stack.console_url
    agent = console_login(stack, settings_path, f"lan-{uuid.uuid4().hex[:6]}", "agent")
    agent.get(f"{console}/", timeout=30).raise_for_status()  # the agent is online
    customer = SocketCustomer(stack)
    customer.send("chào shop")
    customer.wait_for("Xin chào")

    monitor = RedisMonitor(redis_url)
    customer.send("cho tôi gặp nhân viên")
    customer.wait_for("đã chuyển bạn đến nhân viên")
    locks = monitor.stop()
    # Rasa's RedisLockStore took and released the conversation's lock in Redis.
    assert f'"lock:{customer.session_id}"' in locks, locks[-2000:]

    tickets = TicketStore(database)
    ticket = tickets.latest_ticket_for(customer.session_id)
    assert ticket is not None and ticket.status != RESOLVED
    customer.send("mã đơn của mình là DH12345")
    agent.post(f"{console}/api/tickets/{ticket.id}/reply", json={"text": "Mình xem ngay nhé."},
               timeout=30).raise_for_status()
    customer.wait_for("Mình xem ngay")
    customer.close()

    stack.stop()
    stack.start()

    tracker = stack_tracker(stack, customer.session_id)
    assert {"chào shop", "cho tôi gặp nhân viên", "mã đơn của mình là DH12345"} <= set(
        user_texts(tracker))
    assert any(e["event"] == "bot" and e.get("text") == "Mình xem ngay nhé."
               for e in tracker["events"])
    view = agent.get(f"{console}/api/tickets/{ticket.id}", timeout=30)  # same login
    assert view.status_code == 200, view.text
    assert view.json()["ticket"]["status"] == tickets.get(ticket.id).status != RESOLVED
    lines = [(line["role"], line["text"]) for line in view.json()["transcript"]]
    assert ("customer", "mã đơn của mình là DH12345") in lines
    assert ("agent", "Mình xem ngay nhé.") in lines

    # The conversation goes on where it was: still with the person.
    customer = SocketCustomer.resume(stack, customer.session_id)
    customer.send("shop ơi còn đó không")
    deadline = time.monotonic() + 30
    while "shop ơi còn đó không" not in user_texts(stack_tracker(stack, customer.session_id)):
        assert time.monotonic() < deadline, "the message after the restart never arrived"
        time.sleep(0.5)
    agent.post(f"{console}/api/tickets/{ticket.id}/reply", json={"text": "Dạ còn ạ."},
               timeout=30).raise_for_status()
    customer.wait_for("Dạ còn ạ")
    customer.close()

    # It is all in PostgreSQL, not in a file somewhere; Rasa's tracker table beside hotro's
    # does not confuse the schema check.
    engine = sqlalchemy.create_engine(database)
    with engine.connect() as connection:
        stored = connection.execute(sqlalchemy.text(
            "SELECT count(*) FROM events WHERE sender_id = :s"), {"s": customer.session_id})
        assert stored.scalar() >= 4
    assert differences(engine) == []
    engine.dispose()
    assert not (stack.var_dir / "tracker.db").exists()


def test_a_message_whose_conversation_cannot_be_kept_is_refused_then_handled_when_sent_again(production):
    """Rasa would answer it on an empty tracker and keep the turn in memory only: a reply the
    transcript never shows (bot/channels/tracker_errors.py). Here the tracker table is away,
    as in a database that lost its connection mid-conversation."""
    stack, _, database = production
    customer, widget = Customer(stack), SocketCustomer(stack)
    assert "Xin chào" in customer.says_text("chào shop")
    engine = sqlalchemy.create_engine(database)
    question = "phí vận chuyển bao nhiêu vậy shop"
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("ALTER TABLE events RENAME TO events_away"))
        refused = customer.post({"sender": customer.sender, "message": question})
        assert refused.status_code == 503 and refused.headers.get("Retry-After"), refused.text
        assert "gửi lại" in refused.json()["error"]
        assert widget.say(question, client_id="m-1") == {"ok": False, "error": "not_handled"}
        assert widget.errors[-1]["code"] == "not_handled" and "send it again" in widget.errors[-1]["text"]
    finally:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("ALTER TABLE events_away RENAME TO events"))
        engine.dispose()
    assert "20.000đ" in customer.says_text(question)  # the client sends it again
    # the conversation was read, not started anew: the greeting, then the question once
    assert user_texts(customer.tracker())[-2:] == ["chào shop", question]
    assert widget.say(question, client_id="m-1") == {"ok": True}  # not taken for a duplicate
    widget.wait_for("20.000đ")
    assert user_texts(stack_tracker(stack, widget.session_id)).count(question) == 1
    widget.close()


def stack_tracker(stack: Stack, sender: str):
    import requests

    reply = requests.get(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=30)
    reply.raise_for_status()
    return reply.json()
