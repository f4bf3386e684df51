"""One unresolved ticket per conversation, held by the database (a partial unique index),
so it holds across threads, processes and replicas, on SQLite and PostgreSQL."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot import migrations
from bot.handoff.store import RESOLVED, TicketStore
from bot.settings import PROJECT_DIR


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hotro.db'}"
    return request.getfixturevalue("new_postgres_database")()


def unresolved(store: TicketStore, conversation_id: str):
    with store.engine.connect() as connection:
        return connection.execute(text(
            "SELECT id FROM tickets WHERE conversation_id = :c AND status != 'resolved'"),
            {"c": conversation_id}).scalars().all()


def test_threads_racing_to_open_a_ticket_make_one(url):
    store = TicketStore(url)
    start = threading.Barrier(8)
    got, failed = [], []

    def open_ticket(n: int) -> None:
        start.wait()
        try:
            got.append(store.create("khach-1", "asked_human", [{"text": f"tin {n}"}]).id)
        except Exception as error:  # any failure is a customer left without a ticket
            failed.append(error)

    threads = [threading.Thread(target=open_ticket, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert len(set(got)) == 1 and unresolved(store, "khach-1") == got[:1]


RACER = """
import sys, time
from pathlib import Path
from bot.handoff.store import TicketStore
store = TicketStore(sys.argv[1])
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
ticket, opened = store.add_undelivered("khach-2", "zalo", "chào", "timeout", False, "undelivered")
print(ticket.id, opened)
"""


def test_processes_racing_to_open_a_ticket_make_one(url, tmp_path):
    TicketStore(url)  # the schema first: the race is about the ticket, not the migration
    go = tmp_path / "go"
    racers = [subprocess.Popen([sys.executable, "-c", RACER, url, str(go)], cwd=PROJECT_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(4)]
    time.sleep(3)  # all four started and waiting (importing bot takes a moment)
    go.touch()
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        results.append(out.split())
    ids = {ticket_id for ticket_id, _ in results}
    assert len(ids) == 1
    assert sorted(opened for _, opened in results) == ["False"] * 3 + ["True"]
    store = TicketStore(url)
    assert unresolved(store, "khach-2") == [int(ids.pop())]
    assert len(store.undelivered(unresolved(store, "khach-2")[0])) == 4  # none lost


def test_the_database_refuses_a_second_unresolved_ticket_but_keeps_resolved_ones(url):
    store = TicketStore(url)
    first = store.create("khach-3", "asked_human", [])
    insert = text("INSERT INTO tickets (conversation_id, channel, language, reason, status, "
                  "created_at, transcript_json) VALUES ('khach-3', '', 'vi', 'x', :status, "
                  "CURRENT_TIMESTAMP, '[]')")
    with pytest.raises(IntegrityError):
        with store.engine.begin() as connection:
            connection.execute(insert, {"status": "open"})
    store.resolve(first.id)
    with store.engine.begin() as connection:
        connection.execute(insert, {"status": RESOLVED})
    assert store.create("khach-3", "asked_human", []).id != first.id  # a new one may open


def test_duplicates_from_before_the_index_are_resolved_not_lost(url):
    engine = sqlalchemy.create_engine(url)
    migrations.upgrade(engine, "0001")  # as a database was before this revision
    with engine.begin() as connection:
        for status in ("open", "waiting", "waiting"):
            connection.execute(text(
                "INSERT INTO tickets (conversation_id, channel, language, reason, status, "
                "created_at, transcript_json) VALUES ('khach-4', '', 'vi', 'x', :s, "
                "CURRENT_TIMESTAMP, '[]')"), {"s": status})
    migrations.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id, status FROM tickets ORDER BY id")).all()
    engine.dispose()
    assert [status for _, status in rows] == ["open", "resolved", "resolved"]  # the agent's
