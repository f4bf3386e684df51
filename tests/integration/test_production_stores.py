"""The stack on the production stores of deploy/endpoints.yml: Rasa's tracker store and
hotro's tables on PostgreSQL, Rasa's lock store on Redis (both started by
scripts/services.sh). A conversation handed to a person survives a restart of the whole
stack: the conversation, the ticket, its transcript and the agent's login."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy
import yaml
from sqlalchemy.engine import make_url

from bot.handoff.store import RESOLVED, TicketStore
from bot.schema import differences
from bot.settings import PROJECT_DIR
from bot.stack import Stack, free_port
from tests.conftest import SocketCustomer
from tests.integration.conftest import console_login


@pytest.fixture(scope="module")
def production(model, stack_settings, new_postgres_database, redis_url, tmp_path_factory):
    """A second stack, on PostgreSQL and Redis: (stack, its settings, hotro's database)."""
    database = new_postgres_database()  # hotro's tables and Rasa's tracker
    var_dir = tmp_path_factory.mktemp("production")
    settings = yaml.safe_load(stack_settings.read_text(encoding="utf-8"))
    settings["handoff"]["database_url"] = database
    reuse_faq_index(Path(settings["kb"]["index_dir"]), var_dir / "kb_index")
    settings["kb"]["index_dir"] = str(var_dir / "kb_index")
    settings_path = var_dir / "hotro.yml"
    settings_path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    redis = make_url(redis_url)
    stack = Stack(model=model, var_dir=var_dir, rasa_port=free_port(), action_port=free_port(),
                  console_port=free_port(), endpoints=PROJECT_DIR / "deploy" / "endpoints.yml",
                  extra_env={"HOTRO_CONFIG": str(settings_path),
                             "HOTRO_TRACKER_URL": database,
                             "HOTRO_EVENTS_DB": new_postgres_database(),
                             "HOTRO_REDIS_HOST": redis.host,
                             "HOTRO_REDIS_PORT": str(redis.port),
                             "HOTRO_REDIS_DB": redis.database or "0"})
    try:
        stack.start()
        yield stack, settings_path, database
    finally:
        stack.stop()


def reuse_faq_index(source: Path, target: Path) -> None:
    """A copy of the FAQ index the session's other stack built, if it did: this stack's
    store is seeded from the same corpus, so it finds the index up to date (or reuses its
    vectors) instead of embedding every entry again, minutes on this machine. Only what the
    manifest names is copied (data directories are immutable); no copy, a full build."""
    try:
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
        shutil.copytree(source / manifest["data_dir"], target / manifest["data_dir"])
        shutil.copy(source / "manifest.json", target / "manifest.json")
    except (OSError, ValueError, KeyError):
        shutil.rmtree(target, ignore_errors=True)


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


def stack_tracker(stack: Stack, sender: str):
    import requests

    reply = requests.get(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=30)
    reply.raise_for_status()
    return reply.json()
