"""What editors decided about unanswered messages and proposed phrasings, kept in the
console's database (table `unanswered_marks`, bot/db.py's engine) so every console replica
and every later view agrees: one row per message (its key from bot/analytics/unanswered.py),
with its text, so an ignored message keeps a newer similar message out of the list too.

Statuses: `ignored` (the group was ignored), `added` (made a phrasing of, or a new entry
from: `entry_id`), `dismissed` (a proposed phrasing the editor turned down).
"""
from __future__ import annotations

import logging
from typing import Dict, Iterable, List, Optional, Tuple

from sqlalchemy import Column, DateTime, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.db import utcnow

log = logging.getLogger(__name__)

IGNORED, ADDED, DISMISSED = "ignored", "added", "dismissed"
STATUSES = (IGNORED, ADDED, DISMISSED)
MarksBase = declarative_base()


class MarkRow(MarksBase):
    __tablename__ = "unanswered_marks"
    id = Column(Integer, primary_key=True)
    key = Column(String(40), nullable=False, unique=True)
    text = Column(Text, nullable=False)
    status = Column(String(16), nullable=False)
    entry_id = Column(String(200), nullable=True)
    marked_by = Column(String(255), nullable=False)
    marked_at = Column(DateTime, nullable=False, default=utcnow)


class MarkStore:
    def __init__(self, engine) -> None:
        self.engine = engine  # its table comes with the schema's migrations (bot/migrations)
        self.session = sessionmaker(engine, future=True, expire_on_commit=False)

    def mark(self, messages: Iterable[Tuple[str, str]], status: str, by: str,
             entry_id: Optional[str] = None) -> int:
        """Marks (key, text) messages; a message marked before keeps its first mark.
        Returns how many were newly marked."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        wanted = dict(messages)
        if not wanted:
            return 0
        with self.session() as session:
            known = set(session.execute(select(MarkRow.key).where(MarkRow.key.in_(list(wanted))))
                        .scalars().all())
        added = 0
        for key, text in wanted.items():
            if key in known:
                continue
            try:
                with self.session() as session, session.begin():
                    session.add(MarkRow(key=key, text=text, status=status, entry_id=entry_id,
                                        marked_by=by, marked_at=utcnow()))
                added += 1
            except IntegrityError:  # another editor marked it meanwhile
                continue
        log.info("console: %s marked %d message(s) %s%s", by, added, status,
                 f" ({entry_id})" if entry_id else "")
        return added

    def marks(self) -> Dict[str, str]:
        """key -> status of every marked message."""
        with self.session() as session:
            return dict(session.execute(select(MarkRow.key, MarkRow.status)).all())

    def ignored_texts(self, limit: int = 5000) -> List[str]:
        """The texts of the most recently ignored messages, distinct."""
        with self.session() as session:
            rows = session.execute(select(MarkRow.text).where(MarkRow.status == IGNORED)
                                   .order_by(MarkRow.id.desc()).limit(limit)).scalars().all()
        return list(dict.fromkeys(rows))
