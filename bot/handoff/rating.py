"""CSAT: the customer's 1-5 rating after a person resolved their conversation."""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Optional

from bot.handoff.store import ticket_store

_DIGIT = re.compile(r"(?<!\d)[1-5](?!\d)")


def rating_of(text: str, entities: Iterable[Dict[str, Any]] = ()) -> Optional[int]:
    """The rating a message gives: the `rating` entity of a star button, else the first
    lone digit 1-5 typed ("5", "cho 4 sao"); None when there is none."""
    for entity in entities or ():
        if isinstance(entity, dict) and entity.get("entity") == "rating":
            value = str(entity.get("value") or "").strip()
            return int(value) if value in {"1", "2", "3", "4", "5"} else None
    match = _DIGIT.search(text or "")
    return int(match.group()) if match else None


def record_rating(conversation_id: str, value: int) -> None:
    """Keeps the rating, on the conversation's latest ticket."""
    store = ticket_store()
    ticket = store.latest_ticket_for(conversation_id)
    store.add_rating(conversation_id, value, ticket.id if ticket else None)
