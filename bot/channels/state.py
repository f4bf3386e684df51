"""The channels' state, in hotro's database (bot/db.py: the tickets' URL, SQLite by default,
PostgreSQL by URL), so every Rasa replica sees the same: the event ids already handled
(`channel_seen`, bounded), Messenger's last inbound time per customer, Zalo's rotating
token pair and its numbered choices per customer. Tables made by bot/migrations.

`ChannelStore` is the base of each channel's store: the engine, opened at first use (a
channel that is never used needs no database), and the shared dedupe.
Undelivered messages are not here: they live once, on the conversation's handoff ticket
(bot/handoff/store.py `undelivered_messages`).
"""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

from sqlalchemy import (Column, Float, Integer, String, Text, UniqueConstraint, delete, insert,
                        update)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base

from bot.db import engine_for

ChannelBase = declarative_base()

MAX_SEEN_IDS = 20000
PRUNE_EVERY = 500  # inserts between two prunings of the dedupe table


class SeenRow(ChannelBase):
    """An inbound event a channel has handled (Messenger mid, Zalo msg_id, widget
    session:client_id); the unique key makes a redelivery lose, whichever replica got it."""
    __tablename__ = "channel_seen"
    id = Column(Integer, primary_key=True, autoincrement=True)
    channel = Column(String(32), nullable=False)
    event_key = Column(String(320), nullable=False)
    at = Column(Float, nullable=False)
    __table_args__ = (UniqueConstraint("channel", "event_key", name="uq_channel_seen"),)


class MessengerInboundRow(ChannelBase):
    """When a Messenger customer last wrote (the 24-hour window for agent messages)."""
    __tablename__ = "messenger_last_inbound"
    sender = Column(String(255), primary_key=True)
    at = Column(Float, nullable=False)


class ZaloTokensRow(ChannelBase):
    """The OA's current token pair; `seed_refresh_token`: the credentials' refresh token
    it descends from (a different one in the credentials means an admin authorized again)."""
    __tablename__ = "zalo_tokens"
    app_id = Column(String(64), primary_key=True)
    access_token = Column(Text, nullable=False)
    refresh_token = Column(Text, nullable=False)
    expires_at = Column(Float)
    seed_refresh_token = Column(Text)
    updated_at = Column(Float, nullable=False)


class ZaloChoicesRow(ChannelBase):
    """The numbered choices last sent to a Zalo customer, as JSON: "2" picks the second."""
    __tablename__ = "zalo_choices"
    sender = Column(String(255), primary_key=True)
    choices = Column(Text, nullable=False)
    at = Column(Float, nullable=False)


class ChannelStore:
    """What every channel's store shares. Subclasses set `channel` (the name its rows and
    tickets carry)."""

    channel: str = ""

    def __init__(self, engine: Optional[Engine] = None, max_seen: int = MAX_SEEN_IDS) -> None:
        self._engine = engine
        self.max_seen = max_seen

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = engine_for()
        return self._engine

    def first_time(self, event_key: str) -> bool:
        """Records `event_key`; False when it was already recorded (a redelivery, to this
        replica or another)."""
        try:
            with self.engine.begin() as db:
                new_id = db.execute(insert(SeenRow).values(
                    channel=self.channel, event_key=event_key,
                    at=time.time())).inserted_primary_key[0]
                if new_id % PRUNE_EVERY == 0:  # bounded: ids increase, drop the oldest
                    db.execute(delete(SeenRow).where(SeenRow.channel == self.channel,
                                                     SeenRow.id <= new_id - self.max_seen))
        except IntegrityError:
            return False
        return True

    def forget(self, event_key: str) -> None:
        """Undoes `first_time`: the event was not handled after all, its redelivery must be."""
        with self.engine.begin() as db:
            db.execute(delete(SeenRow).where(SeenRow.channel == self.channel,
                                             SeenRow.event_key == event_key))


def upsert(engine: Engine, model: Any, key: Dict[str, Any], values: Dict[str, Any],
           changes: Optional[Dict[str, Any]] = None) -> None:
    """The row of `model` at `key` set to `values` (`changes` for an existing row, default
    `values`), whichever replica races for it: update, else insert, else (another replica
    inserted it meanwhile) update."""
    def update_row() -> int:
        with engine.begin() as db:
            return db.execute(update(model).filter_by(**key)
                              .values(**(changes or values))).rowcount
    if update_row():
        return
    try:
        with engine.begin() as db:
            db.execute(insert(model).values(**key, **values))
    except IntegrityError:
        update_row()
