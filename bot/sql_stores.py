"""Rasa's SQL tracker store and event broker, whose pooled connections are checked before use.

Rasa makes their engines without `pool_pre_ping`: after PostgreSQL restarts, each pooled
connection fails once ("server closed the connection unexpectedly"), and Rasa's
FailSafeTrackerStore swallows that error: the turn's reply goes out but the turn is kept only
in memory, missing from the transcript (tests/integration/test_faults.py lost one Zalo
message so). Checked connections are replaced by new ones instead. Same tables, same
settings as Rasa's `type: SQL`.

endpoints.yml:  tracker_store: {type: bot.sql_stores.CheckedSQLTrackerStore, dialect: postgresql, url: ...}
                event_broker:  {type: bot.sql_stores.CheckedSQLEventBroker, dialect: postgresql, url: ...}
"""
from __future__ import annotations

from typing import Any

import sqlalchemy
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from sqlalchemy.orm import sessionmaker


def _checked(store: Any, **kwargs: Any) -> None:
    """`store`'s engine made again with pre-ping, its sessions bound to it."""
    url = store.engine.url
    store.engine.dispose()
    store.engine = sqlalchemy.create_engine(url, pool_pre_ping=True, **kwargs)
    store.sessionmaker = sessionmaker(bind=store.engine)


class CheckedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _checked(self, **create_engine_kwargs(self.engine.url))


class CheckedSQLEventBroker(SQLEventBroker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _checked(self)
