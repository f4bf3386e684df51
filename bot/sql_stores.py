"""Rasa's SQL tracker store and event broker: pooled connections checked before use, and a
turn's events published in one commit.

Checked connections: Rasa makes their engines without `pool_pre_ping`; after PostgreSQL
restarts, each pooled connection fails once ("server closed the connection unexpectedly"),
and Rasa's FailSafeTrackerStore swallows that error: the turn's reply goes out but the turn
is kept only in memory, missing from the transcript (tests/integration/test_faults.py lost
one Zalo message so). Checked connections are replaced by new ones instead.

One commit a turn: to find a turn's new events for the broker, Rasa's store reads the whole
conversation back from the database and rebuilds its tracker, then the broker commits each
event on its own (a FAQ turn has about ten): a third of the Rasa server's CPU in a profile
under load (Rasa CPU per FAQ turn 113 ms before, 66 after: bench/faq_turn.md). Here the new events are the ones the store is about to write
(counted, not rebuilt), and the broker writes them in one transaction. Same tables, same
rows, same settings as Rasa's `type: SQL`.

endpoints.yml:  tracker_store: {type: bot.sql_stores.CheckedSQLTrackerStore, dialect: ..., db: ...}
                event_broker:  {type: bot.sql_stores.CheckedSQLEventBroker, dialect: ..., db: ...}
"""
from __future__ import annotations

import json
from typing import Any, Dict, List

import sqlalchemy
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker


def _checked(store: Any, **kwargs: Any) -> None:
    """`store`'s engine made again with pre-ping, its sessions bound to it."""
    url = store.engine.url
    store.engine.dispose()
    store.engine = sqlalchemy.create_engine(url, pool_pre_ping=True, **kwargs)
    store.sessionmaker = sessionmaker(bind=store.engine)


class CheckedSQLEventBroker(SQLEventBroker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _checked(self)

    def publish_many(self, events: List[Dict[str, Any]]) -> None:
        """`publish` for each of `events`, in one transaction: all or none are kept."""
        with self.session_scope() as session:
            session.add_all([self.SQLBrokerEvent(sender_id=e.get("sender_id"), data=json.dumps(e))
                             for e in events])
            session.commit()


class CheckedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _checked(self, **create_engine_kwargs(self.engine.url))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save: the turn's new events to the broker, then into the table. The new
        events are the ones Rasa's diff of the stored tracker finds: both count the stored
        events of the latest session."""
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
            self._publish(tracker.sender_id, new_events)
            for event in new_events:  # the row Rasa's SQLTrackerStore.save writes
                data = event.as_dict()
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"), data=json.dumps(data)))
            session.commit()

    def _publish(self, sender_id: str, events: List[Event]) -> None:
        if self.event_broker is None or not events:
            return
        bodies = [{"sender_id": sender_id, **event.as_dict()} for event in events]
        if isinstance(self.event_broker, CheckedSQLEventBroker):
            self.event_broker.publish_many(bodies)
        else:  # Kafka, Pika, ...: one message per event, as Rasa sends them
            for body in bodies:
                self.event_broker.publish(body)
