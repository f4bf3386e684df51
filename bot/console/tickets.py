"""What the console adds to the ticket store: an atomic "take this ticket" and the JSON
shapes the pages get (inbox rows, transcript lines)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.handoff.store import OPEN, RESOLVED, Ticket, TicketRow, TicketStore, utcnow
from bot.handoff.transcript import build_transcript


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


def common_prefix(old: List[Any], new: List[Any]) -> int:
    n = 0
    for a, b in zip(old, new):
        if a != b:
            break
        n += 1
    return n
