"""Tickets resolved whose bot was not resumed yet (Rasa failed), kept in the console's
database (table `resume_pending`, bot/db.py's engine) so a restarted console, or another
console replica, still lets the agent retry the resume instead of refusing "already
resolved" while the customer's bot stays paused.

A retry claims the row by deleting it, so two agents pressing Resolve at once on two
replicas resume the bot (and ask for a rating) once.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base

from bot.db import utcnow

ResumesBase = declarative_base()


class PendingResumeRow(ResumesBase):
    __tablename__ = "resume_pending"
    ticket_id = Column(Integer, primary_key=True, autoincrement=False)
    since = Column(DateTime, nullable=False, default=utcnow)


class PendingResumes:
    def __init__(self, engine) -> None:
        self.engine = engine  # its table comes with the schema's migrations (bot/migrations)

    def add(self, ticket_id: int) -> None:
        try:
            with self.engine.begin() as db:
                db.execute(PendingResumeRow.__table__.insert().values(
                    ticket_id=ticket_id, since=utcnow()))
        except IntegrityError:
            pass  # pending already

    def has(self, ticket_id: int) -> bool:
        with self.engine.connect() as db:
            return db.execute(select(PendingResumeRow.ticket_id)
                              .where(PendingResumeRow.ticket_id == ticket_id)).first() is not None

    def claim(self, ticket_id: int) -> bool:
        """Takes the ticket's pending resume for this caller to retry; False when there is
        none (resumed already, or another agent is retrying it)."""
        with self.engine.begin() as db:
            return db.execute(delete(PendingResumeRow)
                              .where(PendingResumeRow.ticket_id == ticket_id)).rowcount == 1

    def discard(self, ticket_id: int) -> None:
        self.claim(ticket_id)
