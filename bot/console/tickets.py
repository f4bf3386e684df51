"""Ticket rules of the console, as plain functions: who may take, reply to and resolve a
ticket, and when the answer is a refusal (403, 404, 409, 400). No HTTP here: the handlers
(bot/console/ticket_views.py) turn a `Refused` into a JSON error. Also what the console
adds to the ticket store: an atomic "take this ticket", and the JSON shapes the pages get.

The rules:
- only agents, leads and admins work tickets (editors only look): 403;
- a ticket another agent holds: only a lead or an admin may take it over, reply to it or
  resolve it; anyone else gets 409 with who holds it;
- a resolved ticket cannot be taken or replied to (409); resolving it again only retries
  resuming the bot when that failed the first time, else 409 (the customer would be asked
  for a rating twice);
- replying to an unassigned ticket takes it; two agents taking one at once: one gets it,
  the other 409;
- a reply is non-empty text of at most MAX_MESSAGE_CHARS characters (400), kept in NFC.
"""
from __future__ import annotations

import unicodedata
from typing import Any, Dict, List, Optional

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.console.auth import User
from bot.db import utcnow
from bot.handoff.store import OPEN, RESOLVED, Ticket, TicketRow, TicketStore
from bot.handoff.transcript import build_transcript
from bot.limits import MAX_MESSAGE_CHARS

NO_SUCH_TICKET = "Không có yêu cầu này / No such ticket"
ALREADY_RESOLVED = "Yêu cầu đã được giải quyết / Ticket already resolved"

# What assigning does.
TAKE_OVER = "take_over"  # a lead or admin takes a ticket another agent holds
CLAIM = "claim"          # nobody holds it: take it unless someone is quicker
KEEP = "keep"            # the user holds it already
# What resolving does.
RESOLVE = "resolve"                 # close it, resume the bot, ask for a rating
RETRY_RESUME = "retry_resume"       # closed before but the bot was not resumed: retry that


class Refused(Exception):
    """The rules say no: an HTTP status, a message in both languages, extra JSON fields."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def check_works_tickets(user: User) -> None:
    if not user.works_tickets:
        raise Refused(403, "Vai trò này không xử lý yêu cầu / This role does not work tickets")


def check_exists(ticket: Optional[Ticket]) -> Ticket:
    if ticket is None:
        raise Refused(404, NO_SUCH_TICKET)
    return ticket


def check_not_held_by_other(user: User, ticket: Ticket) -> None:
    """409 when another agent holds the ticket and `user` is not a lead or admin."""
    if ticket.assigned_to and ticket.assigned_to != user.username and not user.supervises:
        raise Refused(409, f"Yêu cầu đang do {ticket.assigned_to} xử lý / "
                           f"Ticket is handled by {ticket.assigned_to}",
                      assigned_to=ticket.assigned_to)


def assignment(user: User, ticket: Ticket) -> str:
    """TAKE_OVER, CLAIM or KEEP for "assign to me"; Refused when it may not."""
    if ticket.status == RESOLVED:
        raise Refused(409, ALREADY_RESOLVED)
    if ticket.assigned_to and ticket.assigned_to != user.username:
        check_not_held_by_other(user, ticket)
        return TAKE_OVER
    return KEEP if ticket.assigned_to else CLAIM


def check_claimed(user: User, ticket: Optional[Ticket]) -> Ticket:
    """After `claim` for "assign to me": the ticket, now the user's, or Refused (someone
    else was quicker, or it was resolved meanwhile)."""
    ticket = check_exists(ticket)
    if ticket.assigned_to != user.username:
        check_not_held_by_other(user, ticket)
        raise Refused(409, "Yêu cầu đã thay đổi / Ticket changed")
    return ticket


def reply_text(value: Any) -> str:
    """The agent's reply as it will be sent (NFC, trimmed), or Refused 400."""
    if not isinstance(value, str) or not value.strip():
        raise Refused(400, "Tin nhắn trống / Empty message")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    if len(text) > MAX_MESSAGE_CHARS:
        raise Refused(400, f"Tin nhắn quá dài (tối đa {MAX_MESSAGE_CHARS} ký tự) / "
                           f"Message too long (max {MAX_MESSAGE_CHARS} characters)")
    return text


def check_may_reply(user: User, ticket: Ticket) -> None:
    if ticket.status == RESOLVED:
        raise Refused(409, ALREADY_RESOLVED)
    check_not_held_by_other(user, ticket)


def resolution(user: User, ticket: Ticket, resume_pending: bool) -> str:
    """RESOLVE or RETRY_RESUME; Refused when it may not (held by another, or resolved and
    the bot resumed already: the customer would be asked for a rating twice)."""
    check_not_held_by_other(user, ticket)
    if ticket.status != RESOLVED:
        return RESOLVE
    if resume_pending:
        return RETRY_RESUME
    raise Refused(409, ALREADY_RESOLVED, ticket=summary(ticket))


def claim(store: TicketStore, ticket_id: int, agent: str) -> Optional[Ticket]:
    """Assigns an unresolved, unassigned ticket to `agent` in one conditional UPDATE, so two
    agents clicking at once cannot both get it. Returns the ticket as it is afterwards
    (check `assigned_to`); None if there is no such ticket."""
    with Session(store.engine, future=True) as session, session.begin():
        session.execute(
            update(TicketRow)
            .where(TicketRow.id == ticket_id, TicketRow.status != RESOLVED,
                   TicketRow.assigned_to.is_(None))
            .values(assigned_to=agent, assigned_at=utcnow(), status=OPEN)
            .execution_options(synchronize_session=False))
    return store.get(ticket_id)


def summary(ticket: Ticket) -> Dict[str, Any]:
    """A ticket without its transcript (inbox rows, ticket header)."""
    data = ticket.as_dict()
    data.pop("transcript", None)
    return data


def snapshot_lines(ticket: Ticket) -> List[Dict[str, Any]]:
    """The transcript stored with the ticket at handoff (lines; raw events are converted)."""
    stored = [item for item in ticket.transcript or [] if isinstance(item, dict)]
    if stored and all("event" in item for item in stored):
        return build_transcript(stored)
    return stored
