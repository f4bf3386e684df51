"""Internal notes on a ticket: what agents tell each other about it. The customer never
sees them: they live only in the ticket database (table `ticket_notes`, who and when),
are shown on the ticket page, and are never sent to Rasa or the customer's channel.

  GET  /api/tickets/{id}/notes   {"notes": [{"id", "author", "author_name", "text", "created_at"}]}
  POST /api/tickets/{id}/notes   {"text"}: agents, leads and admins (editors only read);
                                 1-2000 characters (400), an unknown ticket 404.
"""
from __future__ import annotations

import logging
import threading
import unicodedata
from datetime import datetime, timezone
from typing import Any, Dict, List

from aiohttp import web
from sqlalchemy import Column, DateTime, Integer, String, Text, select
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.console.tickets import Refused, check_exists, check_works_tickets
from bot.console.web import TICKETS, blocking, json_body, user_of
from bot.db import utcnow

log = logging.getLogger(__name__)

MAX_NOTE_CHARS = 2000
NotesBase = declarative_base()
NOTES = web.AppKey("notes", object)


class NoteRow(NotesBase):
    __tablename__ = "ticket_notes"
    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, index=True, nullable=False)
    author = Column(String(255), nullable=False)
    author_name = Column(String(255), nullable=False, default="")
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class NoteStore:
    def __init__(self, engine) -> None:
        self.engine = engine  # from engine_for: tables made by bot/migrations
        self.session = sessionmaker(engine, future=True, expire_on_commit=False)
        self._lock = threading.Lock()

    def add(self, ticket_id: int, author: str, author_name: str, text: str) -> Dict[str, Any]:
        with self._lock, self.session() as session, session.begin():
            row = NoteRow(ticket_id=ticket_id, author=author, author_name=author_name,
                          text=text, created_at=utcnow())
            session.add(row)
            session.flush()
            return _as_dict(row)

    def of_ticket(self, ticket_id: int) -> List[Dict[str, Any]]:
        with self.session() as session:
            rows = session.execute(select(NoteRow).where(NoteRow.ticket_id == ticket_id)
                                   .order_by(NoteRow.id)).scalars().all()
            return [_as_dict(r) for r in rows]


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")


def _as_dict(row: NoteRow) -> Dict[str, Any]:
    return {"id": row.id, "author": row.author, "author_name": row.author_name,
            "text": row.text, "created_at": _iso(row.created_at)}


def note_text(value: Any) -> str:
    """The note as kept (NFC, trimmed), or Refused 400."""
    if not isinstance(value, str) or not value.strip():
        raise Refused(400, "Ghi chú trống / Empty note")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    if len(text) > MAX_NOTE_CHARS:
        raise Refused(400, f"Ghi chú quá dài (tối đa {MAX_NOTE_CHARS} ký tự) / Note too long "
                           f"(max {MAX_NOTE_CHARS} characters)")
    return text


def _refusal(refused: Refused) -> web.Response:
    return web.json_response({"error": refused.message, **refused.extra},
                             status=refused.status)


async def api_notes(request: web.Request) -> web.Response:
    ticket_id = int(request.match_info["id"])
    try:
        check_exists(await blocking(request.app[TICKETS].get, ticket_id))
    except Refused as refused:
        return _refusal(refused)
    notes = await blocking(request.app[NOTES].of_ticket, ticket_id)
    return web.json_response({"notes": notes})


async def api_add_note(request: web.Request) -> web.Response:
    body = await json_body(request)
    user = user_of(request)
    ticket_id = int(request.match_info["id"])
    try:
        check_works_tickets(user)
        check_exists(await blocking(request.app[TICKETS].get, ticket_id))
        text = note_text(body.get("text") if isinstance(body, dict) else None)
    except Refused as refused:
        log.warning("console: note on ticket #%d by %s refused: %s", ticket_id, user.username,
                    refused.message)
        return _refusal(refused)
    note = await blocking(request.app[NOTES].add, ticket_id, user.username,
                          user.display_name or user.username, text)
    log.info("console: %s added a note to ticket #%d (%d chars)", user.username, ticket_id,
             len(text))
    return web.json_response({"note": note})


def add_routes(app: web.Application, engine) -> None:
    app[NOTES] = NoteStore(engine)
    app.router.add_get(r"/api/tickets/{id:\d+}/notes", api_notes)
    app.router.add_post(r"/api/tickets/{id:\d+}/notes", api_add_note)
