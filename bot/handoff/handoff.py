"""Hands a conversation to a person: the ticket with the transcript, and what to tell
the customer (in their language, honest about office hours and the queue)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Optional, Sequence

from bot.handoff.decision import UNDELIVERED
from bot.handoff.office_hours import is_open
from bot.handoff.store import Ticket, WAITING, ticket_store
from bot.handoff.transcript import build_transcript, mentioned_order_id
from bot.handoff.helpdesk import notify_helpdesk
from bot.settings import load_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handoff:
    ticket: Ticket
    text: str
    agent_available: bool  # a person takes over now: the bot goes quiet


def _people_ahead(ticket: Ticket) -> int:
    return sum(1 for t in ticket_store().list((WAITING,))
               if t.created_at < ticket.created_at and t.id != ticket.id)


def hand_off(conversation_id: str, events: Sequence[Dict[str, Any]], reason: str,
             language: str = "vi", channel: str = "", customer_name: Optional[str] = None,
             now: Optional[datetime] = None) -> Handoff:
    settings = load_settings()
    support = settings["support"]
    store = ticket_store()
    ticket = store.create(conversation_id, reason, build_transcript(events), channel=channel,
                          customer_name=customer_name, language=language,
                          order_id=mentioned_order_id(events))
    notify_helpdesk(ticket)
    logger.info("handoff: ticket #%d for %s (%s)", ticket.id, conversation_id, reason)

    hours = support["office_hours"]
    span = f"{hours['open']}–{hours['close']}"
    online = store.agents_online()
    ahead = _people_ahead(ticket)
    en = language == "en"
    if not is_open(now):
        text = (f"Our support staff work {span} and it is outside those hours now. Your "
                f"request #{ticket.id} is saved and will be handled first thing when we open. "
                f"Leave your phone number or email and a person will contact you."
                if en else
                f"Hiện đã ngoài giờ làm việc của nhân viên ({span}). Yêu cầu #{ticket.id} của "
                f"bạn đã được ghi lại và sẽ được xử lý ngay khi shop mở cửa. Bạn để lại số điện "
                f"thoại hoặc email, nhân viên sẽ liên hệ lại với bạn nhé.")
        return Handoff(ticket, text, agent_available=False)
    if online == 0:
        text = (f"No support agent is online right now. Your request #{ticket.id} is in the "
                f"queue ({ahead} ahead of you). Leave your phone number or email and a person "
                f"will contact you as soon as possible."
                if en else
                f"Hiện chưa có nhân viên trực tuyến. Yêu cầu #{ticket.id} của bạn đã vào hàng "
                f"chờ ({ahead} khách đang chờ trước bạn). Bạn để lại số điện thoại hoặc email, "
                f"nhân viên sẽ liên hệ lại sớm nhất nhé.")
        return Handoff(ticket, text, agent_available=False)
    minutes = max(1, round((ahead + 1) * support.get("minutes_per_ticket", 5) / online))
    text = (f"I'm passing you to a support agent (request #{ticket.id}). {ahead} customer(s) "
            f"are ahead of you; a person will reply in about {minutes} minute(s). Keep "
            f"writing here: the agent sees our whole conversation."
            if en else
            f"Mình đã chuyển bạn đến nhân viên hỗ trợ (yêu cầu #{ticket.id}). Hiện có {ahead} "
            f"khách đang chờ trước bạn, nhân viên sẽ trả lời trong khoảng {minutes} phút. Bạn "
            f"cứ nhắn tiếp ở đây, nhân viên sẽ đọc được toàn bộ cuộc trò chuyện.")
    return Handoff(ticket, text, agent_available=True)


def note_order_id(ticket: Ticket, events: Sequence[Dict[str, Any]]) -> Ticket:
    """Keeps on `ticket` the order number the customer mentioned last in `events`."""
    order_id = mentioned_order_id(events)
    if order_id and order_id != ticket.order_id:
        return ticket_store().set_order_id(ticket.id, order_id) or ticket
    return ticket


def hand_off_undelivered(conversation_id: str, channel: str, text: str,
                         error: Optional[str], window_closed: bool) -> Ticket:
    """A message the channel could not deliver goes on the conversation's ticket (opened
    now if there is none), so a person sees it and can reach the customer another way.
    Blocking SQL: channels call it from a worker thread."""
    ticket, opened = ticket_store().add_undelivered(conversation_id, channel, text, error,
                                                    window_closed, reason=UNDELIVERED)
    if opened:
        notify_helpdesk(ticket)
    logger.info("handoff: undelivered %s message to %s kept on ticket #%d%s", channel,
                conversation_id, ticket.id, " (new)" if opened else "")
    return ticket
