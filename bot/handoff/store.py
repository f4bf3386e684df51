"""Tickets: conversations handed to a person, kept in SQL (SQLite or PostgreSQL).

A ticket is `waiting` until an agent takes it (`open`), then `resolved`. A conversation
has at most one unresolved ticket; asking for a person again reuses it. Every change
is committed before the call returns, so a crash loses nothing already acknowledged.
Messages a channel could not deliver to the customer are kept on the conversation's
ticket (`add_undelivered`), so a person sees them. A ticket also keeps the order number
the customer mentioned (`order_id`, from the NLU's order_id entity), if any.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Text, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.db import database_url, engine_for, utcnow

Base = declarative_base()

WAITING, OPEN, RESOLVED = "waiting", "open", "resolved"


class TicketRow(Base):
    __tablename__ = "tickets"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), index=True, nullable=False)
    channel = Column(String(64), nullable=False, default="")
    customer_name = Column(String(255))
    language = Column(String(8), nullable=False, default="vi")
    reason = Column(String(64), nullable=False)
    status = Column(String(16), index=True, nullable=False, default=WAITING)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    assigned_to = Column(String(255))
    assigned_at = Column(DateTime)
    resolved_at = Column(DateTime)
    contact = Column(String(255))
    order_id = Column(String(64))  # added after the first release (migration 0001 adopts it)
    transcript_json = Column(Text, nullable=False, default="[]")

    # One unresolved ticket per conversation, kept by the database itself: it holds across
    # threads, processes and replicas (a partial unique index, on SQLite and PostgreSQL).
    __table_args__ = (Index("uq_tickets_one_unresolved", "conversation_id", unique=True,
                            sqlite_where=sql_text(f"status != '{RESOLVED}'"),
                            postgresql_where=sql_text(f"status != '{RESOLVED}'")),)


class AgentPresenceRow(Base):
    """When each agent was last seen in the console; "online" means seen recently."""
    __tablename__ = "agent_presence"
    username = Column(String(255), primary_key=True)
    last_seen = Column(DateTime, nullable=False)


class AgentAwayRow(Base):
    """An agent who set themselves away in the console: not counted online (the handoff
    decision and the queue estimate) until they set themselves available again."""
    __tablename__ = "agent_away"
    username = Column(String(255), primary_key=True)
    since = Column(DateTime, nullable=False)


class RatingRow(Base):
    __tablename__ = "csat_ratings"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), index=True, nullable=False)
    ticket_id = Column(Integer)
    rating = Column(Integer, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class UndeliveredRow(Base):
    """A bot or agent message the customer's channel refused (e.g. messaging window closed)."""
    __tablename__ = "undelivered_messages"
    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, index=True, nullable=False)
    conversation_id = Column(String(255), nullable=False)
    channel = Column(String(64), nullable=False, default="")
    text = Column(Text, nullable=False)
    error = Column(Text)
    error_code = Column(String(64))  # the channel API's code, "network", "http 503"...
    window_closed = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


def _iso(value: Optional[datetime]) -> Optional[str]:
    return None if value is None else \
        value.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Ticket:
    id: int
    conversation_id: str
    channel: str
    customer_name: Optional[str]
    language: str
    reason: str
    status: str
    created_at: datetime
    assigned_to: Optional[str]
    assigned_at: Optional[datetime]
    resolved_at: Optional[datetime]
    contact: Optional[str]
    order_id: Optional[str]
    transcript: List[Dict[str, Any]]

    @classmethod
    def of(cls, row: TicketRow) -> "Ticket":
        return cls(row.id, row.conversation_id, row.channel, row.customer_name, row.language,
                   row.reason, row.status, row.created_at, row.assigned_to, row.assigned_at,
                   row.resolved_at, row.contact, row.order_id,
                   json.loads(row.transcript_json or "[]"))

    def as_dict(self) -> Dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("created_at", "assigned_at", "resolved_at"):
            out[key] = _iso(out[key])
        return out


class TicketStore:
    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)  # tables made by bot/migrations
        self.session = sessionmaker(self.engine, future=True, expire_on_commit=False)
        self._lock = threading.Lock()  # one writer at a time within a process

    def _unresolved_or_new(self, session, conversation_id: str,
                           **new: Any) -> Tuple[TicketRow, bool]:
        """The conversation's unresolved ticket, or a new waiting one made of `new`.
        (row, whether it is new). The unique index refuses a second unresolved ticket:
        IntegrityError if another thread or process opened one meanwhile."""
        row = session.execute(
            select(TicketRow).where(TicketRow.conversation_id == conversation_id,
                                    TicketRow.status != RESOLVED)).scalars().first()
        if row is not None:
            return row, False
        row = TicketRow(conversation_id=conversation_id, status=WAITING, created_at=utcnow(),
                        **new)
        session.add(row)
        session.flush()
        return row, True

    def _in_transaction(self, work: Callable[[Any], Any]) -> Any:
        """work(session) in one transaction; once more if it lost the race to open the
        conversation's ticket (the second time it finds the winner's)."""
        try:
            with self.session() as session, session.begin():
                return work(session)
        except IntegrityError:
            with self.session() as session, session.begin():
                return work(session)

    def open_ticket_for(self, conversation_id: str) -> Optional[Ticket]:
        with self.session() as session:
            row = session.execute(
                select(TicketRow).where(TicketRow.conversation_id == conversation_id,
                                        TicketRow.status != RESOLVED)
                .order_by(TicketRow.id.desc())).scalars().first()
            return Ticket.of(row) if row else None

    def create(self, conversation_id: str, reason: str, transcript: List[Dict[str, Any]],
               channel: str = "", customer_name: Optional[str] = None,
               language: str = "vi", order_id: Optional[str] = None) -> Ticket:
        """A new waiting ticket, or the conversation's unresolved one with a fresh transcript
        (and the order number, when the conversation mentioned one)."""
        def work(session) -> Ticket:
            row, _ = self._unresolved_or_new(
                session, conversation_id, reason=reason, channel=channel or "",
                customer_name=customer_name, language=language)
            row.transcript_json = json.dumps(transcript, ensure_ascii=False)
            if order_id:
                row.order_id = order_id
            session.flush()
            return Ticket.of(row)
        return self._in_transaction(work)

    def add_undelivered(self, conversation_id: str, channel: str, text: str,
                        error: Optional[str], window_closed: bool,
                        reason: str, error_code: Optional[str] = None) -> Tuple[Ticket, bool]:
        """Keeps an undelivered message on the conversation's unresolved ticket, opening one
        with `reason` if there is none. Returns (ticket, whether it was opened here)."""
        def work(session) -> Tuple[Ticket, bool]:
            row, opened = self._unresolved_or_new(session, conversation_id, reason=reason,
                                                  channel=channel or "", transcript_json="[]")
            session.add(UndeliveredRow(ticket_id=row.id, conversation_id=conversation_id,
                                       channel=channel or "", text=text, error=error,
                                       error_code=error_code,
                                       window_closed=bool(window_closed), created_at=utcnow()))
            return Ticket.of(row), opened
        return self._in_transaction(work)

    def undelivered(self, ticket_id: int) -> List[Dict[str, Any]]:
        """The ticket's undelivered messages, oldest first."""
        with self.session() as session:
            rows = session.execute(select(UndeliveredRow)
                                   .where(UndeliveredRow.ticket_id == ticket_id)
                                   .order_by(UndeliveredRow.id)).scalars().all()
            return [{"channel": r.channel, "text": r.text, "error": r.error,
                     "window_closed": r.window_closed, "created_at": _iso(r.created_at)}
                    for r in rows]

    def undelivered_to(self, channel: str, conversation_id: str) -> List[Dict[str, Any]]:
        """What `channel` could not deliver to this customer, on any of their tickets,
        oldest first."""
        with self.session() as session:
            rows = session.execute(select(UndeliveredRow)
                                   .where(UndeliveredRow.channel == channel,
                                          UndeliveredRow.conversation_id == conversation_id)
                                   .order_by(UndeliveredRow.id)).scalars().all()
            return [{"sender": r.conversation_id, "text": r.text, "error_code": r.error_code,
                     "error": r.error, "window_closed": r.window_closed,
                     "ticket_id": r.ticket_id, "created_at": _iso(r.created_at)}
                    for r in rows]

    def get(self, ticket_id: int) -> Optional[Ticket]:
        with self.session() as session:
            row = session.get(TicketRow, ticket_id)
            return Ticket.of(row) if row else None

    def list(self, statuses: tuple[str, ...] = (WAITING, OPEN)) -> List[Ticket]:
        with self.session() as session:
            rows = session.execute(select(TicketRow).where(TicketRow.status.in_(statuses))
                                   .order_by(TicketRow.created_at)).scalars().all()
            return [Ticket.of(r) for r in rows]

    def _update(self, ticket_id: int, **changes: Any) -> Optional[Ticket]:
        with self._lock, self.session() as session, session.begin():
            row = session.get(TicketRow, ticket_id)
            if row is None:
                return None
            for key, value in changes.items():
                setattr(row, key, value)
            session.flush()
            return Ticket.of(row)

    def assign(self, ticket_id: int, agent: str) -> Optional[Ticket]:
        return self._update(ticket_id, assigned_to=agent, assigned_at=utcnow(), status=OPEN)

    def release(self, ticket_id: int) -> Optional[Ticket]:
        """Back to the queue, held by nobody (an agent handed the conversation back to the
        bot without resolving it)."""
        return self._update(ticket_id, assigned_to=None, assigned_at=None, status=WAITING)

    def resolve(self, ticket_id: int) -> Optional[Ticket]:
        return self._update(ticket_id, status=RESOLVED, resolved_at=utcnow())

    def set_contact(self, ticket_id: int, contact: str) -> Optional[Ticket]:
        return self._update(ticket_id, contact=contact)

    def set_order_id(self, ticket_id: int, order_id: str) -> Optional[Ticket]:
        return self._update(ticket_id, order_id=order_id)

    def latest_ticket_for(self, conversation_id: str) -> Optional[Ticket]:
        with self.session() as session:
            row = session.execute(
                select(TicketRow).where(TicketRow.conversation_id == conversation_id)
                .order_by(TicketRow.id.desc())).scalars().first()
            return Ticket.of(row) if row else None

    def touch_agent(self, username: str) -> None:
        with self._lock, self.session() as session, session.begin():
            row = session.get(AgentPresenceRow, username)
            if row is None:
                session.add(AgentPresenceRow(username=username, last_seen=utcnow()))
            else:
                row.last_seen = utcnow()

    def online_usernames(self, within_seconds: int = 120) -> List[str]:
        """Agents seen in the console recently (away or not)."""
        since = utcnow() - timedelta(seconds=within_seconds)
        with self.session() as session:
            return list(session.execute(select(AgentPresenceRow.username)
                                        .where(AgentPresenceRow.last_seen >= since)).scalars())

    def agents_online(self, within_seconds: int = 120) -> int:
        """Agents seen in the console recently and not away: who can take a conversation."""
        since = utcnow() - timedelta(seconds=within_seconds)
        with self.session() as session:
            return len(session.execute(
                select(AgentPresenceRow.username)
                .where(AgentPresenceRow.last_seen >= since,
                       AgentPresenceRow.username.not_in(select(AgentAwayRow.username)))).all())

    def set_available(self, username: str, available: bool) -> None:
        with self._lock, self.session() as session, session.begin():
            row = session.get(AgentAwayRow, username)
            if available and row is not None:
                session.delete(row)
            elif not available and row is None:
                session.add(AgentAwayRow(username=username, since=utcnow()))

    def away_usernames(self) -> List[str]:
        with self.session() as session:
            return list(session.execute(select(AgentAwayRow.username)).scalars())

    def add_rating(self, conversation_id: str, rating: int,
                   ticket_id: Optional[int] = None) -> None:
        with self._lock, self.session() as session, session.begin():
            session.add(RatingRow(conversation_id=conversation_id, rating=rating,
                                  ticket_id=ticket_id, created_at=utcnow()))

    def ratings(self, conversation_id: str) -> List[int]:
        with self.session() as session:
            return list(session.execute(
                select(RatingRow.rating).where(RatingRow.conversation_id == conversation_id)
                .order_by(RatingRow.id)).scalars().all())


_stores: Dict[str, TicketStore] = {}
_stores_lock = threading.Lock()


def ticket_store(url: Optional[str] = None) -> TicketStore:
    """The process's store for `url` (default: hotro.yml handoff.database_url)."""
    url = url or database_url()
    with _stores_lock:
        if url not in _stores:
            _stores[url] = TicketStore(url)
        return _stores[url]
