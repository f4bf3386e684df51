"""Reading the events Rasa's SQL event broker wrote (endpoints.yml `event_broker`).

Rasa's SQLEventBroker (rasa/core/brokers/sql.py) keeps one row per event in the table
`events`: `id` (in publishing order), `sender_id`, `data` (the event's JSON, with
`sender_id`). A Kafka or RabbitMQ consumer reads the same JSON and can hand it to the same
functions.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import sqlalchemy

from bot.settings import PROJECT_DIR

log = logging.getLogger(__name__)

DEFAULT_EVENTS_DB = PROJECT_DIR / "var" / "events.db"  # bot/stack.py's default too
# Events no metric reads, skipped before parsing (half of a conversation's events). Rasa's
# broker writes json.dumps' default separators; inside a message text the quotes would be
# escaped, so a customer cannot make their message look like one of these.
UNUSED = ('"event": "action"', '"event": "slot"')


class EventsUnavailable(RuntimeError):
    """The broker's database or table cannot be read."""


def events_db_url(db: Optional[str] = None) -> str:
    """A SQLAlchemy URL for the broker's database: `db` or HOTRO_EVENTS_DB (a SQLite file
    path, or a URL such as postgresql://user:pass@host/events), else var/events.db."""
    db = db or os.environ.get("HOTRO_EVENTS_DB") or str(DEFAULT_EVENTS_DB)
    if "://" in db:
        return db
    path = Path(db)
    if not path.is_file():
        raise EventsUnavailable(
            f"Không có cơ sở dữ liệu sự kiện / no events database at {path} (is Rasa's "
            f"event broker configured in endpoints.yml, and has the bot had a conversation?)")
    return f"sqlite:///{path.resolve()}"


def _query(db: Optional[str], sql: str) -> List[Any]:
    """The rows of `sql` on the broker's database (EventsUnavailable when unreadable)."""
    url = events_db_url(db)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(sql)).all()
    except sqlalchemy.exc.SQLAlchemyError as error:
        raise EventsUnavailable(f"Không đọc được bảng sự kiện / cannot read the events table "
                                f"at {url}: {error.__class__.__name__}: {error}") from error
    finally:
        engine.dispose()


def latest_event_id(db: Optional[str] = None) -> Optional[int]:
    """The id of the last event published (None before the first): a cheap look for news."""
    return _query(db, "SELECT max(id) FROM events")[0][0]


def read_events(db: Optional[str] = None) -> List[Dict[str, Any]]:
    """The events in publishing order, but action and slot events (which no metric reads);
    a row whose JSON is unreadable is logged and skipped."""
    rows = _query(db, "SELECT id, sender_id, data FROM events ORDER BY id")
    events: List[Dict[str, Any]] = []
    for row_id, sender_id, data in rows:
        if isinstance(data, str) and any(unused in data for unused in UNUSED):
            continue
        try:
            event = json.loads(data)
        except (TypeError, ValueError):
            log.warning("analytics: event row %s is not JSON; skipped", row_id)
            continue
        if isinstance(event, dict):
            event.setdefault("sender_id", sender_id)
            events.append(event)
    return events
