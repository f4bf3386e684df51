"""A ticket's conversation as the console shows it: live from Rasa's tracker, or the
snapshot kept with the ticket at handoff when Rasa cannot be reached; and the customer's
conversations on their other channels (same phone or email, bot/handoff/profiles.py)."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from aiohttp import web

from bot.console.rasa import RasaError
from bot.console.tickets import snapshot_lines
from bot.console.web import PROFILES, RASA, TICKETS, blocking
from bot.handoff.store import Ticket
from bot.handoff.transcript import build_transcript

MAX_LINKED = 10  # the customer's most recent other conversations shown on a ticket


async def live_transcript(app: web.Application, conversation_id: str,
                          ticket: Optional[Ticket] = None) -> tuple:
    """(lines, "live", None) from Rasa's tracker, or (snapshot lines, "snapshot", error)
    if Rasa fails: the snapshot is `ticket`'s, else the conversation's latest ticket's."""
    try:
        events = await app[RASA].tracker_events(conversation_id)
        return build_transcript(events), "live", None
    except RasaError as error:
        if ticket is None:
            ticket = await blocking(app[TICKETS].latest_ticket_for, conversation_id)
        return (snapshot_lines(ticket) if ticket else []), "snapshot", str(error)


async def linked_transcripts(app: web.Application, ticket: Ticket) -> List[Dict[str, Any]]:
    """The customer's conversations on their other channel identities (same phone or
    email), most recent last."""
    others = await blocking(app[PROFILES].linked_conversations, ticket.channel,
                            ticket.conversation_id)
    # Rasa keeps one tracker per sender id whatever the channel: that one is shown already.
    others = [(c, s) for c, s in others if s != ticket.conversation_id][-MAX_LINKED:]
    found = await asyncio.gather(*(live_transcript(app, s) for _, s in others))
    return [{"channel": channel, "conversation_id": sender, "transcript": lines,
             "source": source}
            for (channel, sender), (lines, source, _) in zip(others, found)]
