"""Hands a conversation to a person: the ticket with the transcript, and which reply the
customer gets (worded in domain.yml)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence

from bot.handoff.decision import CALLBACK, UNDELIVERED
from bot.handoff.office_hours import is_open
from bot.handoff.profiles import customer_profiles
from bot.handoff.store import Ticket, WAITING, ticket_store
from bot.handoff.transcript import build_transcript, mentioned_order_id
from bot.handoff.helpdesk import notify_helpdesk
from bot.settings import load_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handoff:
    ticket: Ticket
    response: str  # what to tell the customer: a domain.yml response...
    values: Dict[str, Any]  # ...and its variables
    agent_available: bool  # a person takes over now: the bot goes quiet


def _people_ahead(ticket: Ticket) -> int:
    return sum(1 for t in ticket_store().list((WAITING,))
               if t.created_at < ticket.created_at and t.id != ticket.id)


def hand_off(conversation_id: str, events: Sequence[Dict[str, Any]], reason: str,
             language: str = "vi", channel: str = "", customer_name: Optional[str] = None,
             now: Optional[datetime] = None) -> Handoff:
    """Opens the ticket with the transcript and says what the customer is told: honest about
    office hours (and holidays) and about the queue."""
    support = load_settings()["support"]
    store = ticket_store()
    ticket = store.create(conversation_id, reason, build_transcript(events), channel=channel,
                          customer_name=customer_name, language=language,
                          order_id=mentioned_order_id(events))
    notify_helpdesk(ticket)
    logger.info("handoff: ticket #%d for %s (%s)", ticket.id, conversation_id, reason)

    if not is_open(now):
        return Handoff(ticket, "utter_handoff_closed", {"ticket": ticket.id}, agent_available=False)
    online = store.agents_online()
    ahead = _people_ahead(ticket)
    if online == 0:
        return Handoff(ticket, "utter_handoff_no_agent", {"ticket": ticket.id, "ahead": ahead},
                       agent_available=False)
    minutes = max(1, round((ahead + 1) * support.get("minutes_per_ticket", 5) / online))
    return Handoff(ticket, "utter_handoff_queue", {"ticket": ticket.id, "ahead": ahead, "minutes": minutes},
                   agent_available=True)


def person_has_conversation(conversation_id: str) -> bool:
    """True while an agent holds the conversation's unresolved ticket: the bot must stay
    silent (the console pauses Rasa when an agent takes or replies; a new Rasa session,
    after the customer was away, must not undo that)."""
    ticket = ticket_store().open_ticket_for(conversation_id)
    return ticket is not None and bool(ticket.assigned_to)


def session_start_events(conversation_id: str, slots: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The events of a new conversation session: Rasa's own (slots carried over, as
    domain.yml's carry_over_slots_to_new_session), but still paused while an agent holds
    the conversation, e.g. when the customer writes again the next morning."""
    events: List[Dict[str, Any]] = [{"event": "session_started"}]
    events += [{"event": "slot", "name": name, "value": value}
               for name, value in (slots or {}).items() if value is not None]
    if person_has_conversation(conversation_id):
        events.append({"event": "pause"})
    events.append({"event": "action", "name": "action_listen"})
    return events


def note_order_id(ticket: Ticket, events: Sequence[Dict[str, Any]]) -> Ticket:
    """Keeps on `ticket` the order number the customer mentioned last in `events`."""
    order_id = mentioned_order_id(events)
    if order_id and order_id != ticket.order_id:
        return ticket_store().set_order_id(ticket.id, order_id) or ticket
    return ticket


def note_order_on_open_ticket(conversation_id: str, events: Sequence[Dict[str, Any]]) -> Optional[Ticket]:
    """The conversation's open ticket with the order number the customer gave last, or None
    when there is no open ticket (a ticket opened later takes it from the transcript)."""
    ticket = ticket_store().open_ticket_for(conversation_id)
    return None if ticket is None else note_order_id(ticket, events)


def hand_off_undelivered(conversation_id: str, channel: str, text: str,
                         error: Optional[str], window_closed: bool,
                         error_code: Any = None) -> Ticket:
    """A message the channel could not deliver goes on the conversation's ticket (opened
    now if there is none), so a person sees it and can reach the customer another way.
    Blocking SQL: channels call it from a worker thread."""
    ticket, opened = ticket_store().add_undelivered(
        conversation_id, channel, text, error, window_closed, reason=UNDELIVERED,
        error_code=None if error_code is None else str(error_code))
    if opened:
        notify_helpdesk(ticket)
    logger.info("handoff: undelivered %s message to %s kept on ticket #%d%s", channel,
                conversation_id, ticket.id, " (new)" if opened else "")
    return ticket


def save_callback(conversation_id: str, events: Sequence[Dict[str, Any]], contact: str,
                  language: str = "vi", channel: str = "", phone: Optional[str] = None,
                  email: Optional[str] = None) -> Ticket:
    """A phone number or email left for a call-back goes on the conversation's open ticket
    (opened now, as a call-back request, if there is none). The same phone or email on
    another channel is the same customer: agents then see their earlier conversations."""
    store = ticket_store()
    ticket = store.open_ticket_for(conversation_id)
    if ticket is None:
        ticket = hand_off(conversation_id, events, CALLBACK, language, channel=channel).ticket
    else:
        note_order_id(ticket, events)
    store.set_contact(ticket.id, contact)
    try:  # the call-back is saved already: a failure to link is only logged
        customer_profiles().link(channel, conversation_id, phone=phone, email=email)
    except Exception:  # noqa: BLE001
        logger.exception("could not link %s to a customer profile", conversation_id)
    return ticket
