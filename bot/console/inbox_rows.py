"""What the inbox shows about each ticket's customer: who they are (a name, else a phone or
email from their profile, bot/handoff/profiles.py, or the call-back contact; never the
session id) and their latest message.

The latest message comes from Rasa's tracker state without its events
(`include_events=NONE`), fetched at most every PREVIEW_SECONDS per conversation, so the
inbox watcher (live.py, every poll) does not ask Rasa for every ticket every second. When
Rasa cannot be reached, or the session has no customer message yet, the last customer
line of the ticket's snapshot is shown.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from bot.console.rasa import RasaError
from bot.console.tickets import snapshot_lines
from bot.console.web import PROFILES, RASA, blocking
from bot.handoff.profiles import phone_key, email_key
from bot.handoff.store import Ticket

PREVIEW_SECONDS = 5.0
PREVIEW_CHARS = 200  # the inbox shows the start of a long message
PREVIEWS = web.AppKey("inbox_previews", dict)  # conversation id -> (fetched at, text)


def customer_of(ticket: Ticket, contacts: Optional[Dict[str, List[str]]]) -> Dict[str, Any]:
    """{"name", "phone", "email", "label"}: the label is the name, else the phone, else
    the email, else None (the page then says "unknown customer")."""
    contacts = contacts or {}
    phones = list(contacts.get("phone") or [])
    emails = list(contacts.get("email") or [])
    given = ticket.contact or ""
    if phone_key(given) and phone_key(given) not in phones:
        phones.append(phone_key(given))
    elif email_key(given) and email_key(given) not in emails:
        emails.append(email_key(given))
    phone = phones[-1] if phones else None  # the most recent one given
    email = emails[-1] if emails else None
    name = (ticket.customer_name or "").strip() or None
    return {"name": name, "phone": phone, "email": email, "label": name or phone or email}


def latest_snapshot_text(ticket: Ticket) -> Optional[str]:
    for line in reversed(snapshot_lines(ticket)):
        if line.get("role") == "customer" and line.get("text"):
            return line["text"]
    return None


def preview(text: Optional[str]) -> Optional[str]:
    if not text:
        return None
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


async def _latest_text(app: web.Application, ticket: Ticket, fresh: bool) -> Optional[str]:
    cache = app[PREVIEWS]
    cached = cache.get(ticket.conversation_id)
    if not fresh and cached and time.monotonic() - cached[0] < PREVIEW_SECONDS:
        return cached[1]
    try:
        text = await app[RASA].latest_message(ticket.conversation_id)
    except RasaError:
        text = None
    text = text or (cached[1] if cached else None) or latest_snapshot_text(ticket)
    cache[ticket.conversation_id] = (time.monotonic(), text)
    return text


async def inbox_rows(app: web.Application, tickets: List[Ticket],
                     summaries: List[Dict[str, Any]], live: bool = True,
                     fresh: bool = False) -> List[Dict[str, Any]]:
    """`summaries` (tickets.summary of each ticket) with `customer` and `last_message`.
    Without `live`, the latest message is the snapshot's (lists of resolved tickets);
    `fresh` asks Rasa now (a page load) instead of using a preview fetched recently."""
    identities: List[Tuple[str, str]] = [(t.channel, t.conversation_id) for t in tickets]
    contacts = await blocking(app[PROFILES].contacts_of, identities)
    if live:
        texts = await asyncio.gather(*(_latest_text(app, t, fresh) for t in tickets))
    else:
        texts = [latest_snapshot_text(t) for t in tickets]
    return [{**row, "customer": customer_of(t, contacts.get((t.channel or "", t.conversation_id))),
             "last_message": preview(text)}
            for t, row, text in zip(tickets, summaries, texts)]


def setup(app: web.Application) -> None:
    app[PREVIEWS] = {}


def forget_previews(app: web.Application, keep: List[str]) -> None:
    """Drops cached previews of conversations no longer in the inbox."""
    cache = app.get(PREVIEWS)
    if cache:
        for cid in set(cache) - set(keep):
            cache.pop(cid, None)
