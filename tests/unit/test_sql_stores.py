"""hotro's SQL tracker store and event broker (bot/sql_stores.py) keep the same rows as
Rasa's `type: SQL` pair: a conversation of several turns, one of them starting a new
session, leaves identical transcripts and identical event streams (the support metrics
read the stream) in both; an event stream no longer needs the stored tracker read back."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import List

from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, BotUttered, Event, SessionStarted, SlotSet,
                                     UserUttered)

from bot.sql_stores import CheckedSQLEventBroker, CheckedSQLTrackerStore

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [ask_question, greet]
slots:
  last_faq: {type: text, influence_conversation: false, mappings: [{type: custom}]}
""")


def turn(text: str, intent: str, reply: str, at: float) -> List[Event]:
    return [UserUttered(text, {"name": intent, "confidence": 0.93}, timestamp=at),
            ActionExecuted("action_answer_faq", timestamp=at + 0.1),
            SlotSet("last_faq", "phi-van-chuyen", timestamp=at + 0.1),
            BotUttered(reply, {"elements": None}, timestamp=at + 0.2),
            ActionExecuted("action_listen", timestamp=at + 0.3)]


def new_session(at: float) -> List[Event]:
    return [ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at),
            ActionExecuted("action_listen", timestamp=at)]


CONVERSATION = [  # what the Rasa server adds to the tracker, turn by turn
    new_session(1000.0) + turn("phí vận chuyển bao nhiêu", "ask_question", "Phí giao hàng 30.000đ", 1000.5),
    turn("ship ve ca mau mat may ngay", "ask_question", "2-4 ngày", 1010.0),
    turn("cảm ơn shop 👍", "greet", "Dạ không có gì ạ", 1020.0),
    new_session(90000.0) + turn("đơn của mình tới đâu rồi", "ask_question", "Bạn cho mình mã đơn", 90000.5),
    turn("DH12345", "ask_question", "Đơn DH12345 đang giao", 90010.0),
]


def play(store: SQLTrackerStore, sender: str) -> None:
    """Every turn of CONVERSATION: the stored tracker read, the turn added, saved."""
    async def run() -> None:
        for events in CONVERSATION:
            tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
            for event in events:
                tracker.update(event)
            await store.save(tracker)
    asyncio.run(run())


def rows(db: Path, query: str) -> list:
    with sqlite3.connect(db) as conn:
        return conn.execute(query).fetchall()


def stream(db: Path) -> list:
    return [(sender, json.loads(data)) for sender, data in rows(db, "SELECT sender_id, data FROM events ORDER BY id")]


def test_the_same_transcript_and_event_stream_as_rasas_sql_stores(tmp_path):
    ours_broker = CheckedSQLEventBroker(dialect="sqlite", db=str(tmp_path / "ours_events.db"))
    ours = CheckedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "ours.db"),
                                  event_broker=ours_broker)
    rasas_broker = SQLEventBroker(dialect="sqlite", db=str(tmp_path / "rasa_events.db"))
    rasas = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa.db"), event_broker=rasas_broker)
    play(ours, "khach-1")
    play(rasas, "khach-1")

    published = stream(tmp_path / "ours_events.db")
    assert published == stream(tmp_path / "rasa_events.db")
    sent = [e for events in CONVERSATION for e in events]
    assert [body["event"] for _, body in published] == [e.type_name for e in sent]  # each once, in order
    assert {sender for sender, _ in published} == {"khach-1"}
    transcript = "SELECT type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
    assert rows(tmp_path / "ours.db", transcript) == rows(tmp_path / "rasa.db", transcript)


def test_the_event_stream_does_not_read_the_stored_tracker_back(tmp_path, monkeypatch):
    broker = CheckedSQLEventBroker(dialect="sqlite", db=str(tmp_path / "events.db"))
    store = CheckedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"), event_broker=broker)
    reads = []
    retrieve = store.retrieve

    async def counted(sender_id):
        reads.append(sender_id)
        return await retrieve(sender_id)

    monkeypatch.setattr(store, "retrieve", counted)
    play(store, "khach-2")
    assert len(reads) == len(CONVERSATION)  # the turns' own reads only, none for the stream
    assert len(stream(tmp_path / "events.db")) == sum(len(t) for t in CONVERSATION)


def test_other_brokers_still_get_one_message_per_event(tmp_path):
    class Collecting:
        def __init__(self) -> None:
            self.bodies: list = []

        def publish(self, body) -> None:
            self.bodies.append(body)

    broker = Collecting()
    store = CheckedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"), event_broker=broker)
    play(store, "khach-3")
    assert [b["event"] for b in broker.bodies] == [e.type_name for t in CONVERSATION for e in t]
