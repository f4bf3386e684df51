"""One row per conversation, for the leads' CSV export: the same conversations (shop days,
channel) that metrics() counts, each with its outcome, first handoff, times and rating.

Outcomes: `contained` (the bot alone: no handoff, no agent message), `resolved` (handed
over and an agent resolved it), `agent_answered` (an agent replied, not resolved yet),
`waiting` (handed over, no agent message yet), `agent_only` (an agent wrote without a
handoff from the bot). The handoff columns describe the conversation's first handoff,
the reason metrics() counts it under. Times are seconds.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence
from zoneinfo import ZoneInfo

from bot.analytics.conversations import Conversation, conversations
from bot.analytics.office_time import open_seconds
from bot.shop import ShopProfile, shop_profile

COLUMNS = ("conversation", "channel", "start", "customer_messages", "outcome",
           "handoff_reason", "first_human_response_s", "first_human_response_office_s",
           "resolution_s", "rating")


def outcome(conversation: Conversation) -> str:
    if not conversation.handoffs:
        return "agent_only" if conversation.agent_messages else "contained"
    if all(h.resolved_at is not None for h in conversation.handoffs):
        return "resolved"
    return "agent_answered" if conversation.agent_messages else "waiting"


def in_range(found: Iterable[Conversation], start: date, end: date, channel: Optional[str],
             shop: ShopProfile) -> List[Conversation]:
    """The conversations metrics() counts for this range and channel, oldest first."""
    zone = ZoneInfo(shop.timezone)
    return [c for c in found
            if (channel is None or c.channel == channel)
            and start <= datetime.fromtimestamp(c.started, zone).date() <= end]


def conversation_row(conversation: Conversation, shop: ShopProfile) -> Dict[str, Any]:
    zone = ZoneInfo(shop.timezone)
    first = conversation.handoffs[0] if conversation.handoffs else None
    waited = office = resolution = None
    if first is not None and first.first_agent_at is not None:
        waited = round(first.first_agent_at - first.at, 1)
        office = round(open_seconds(datetime.fromtimestamp(first.at, timezone.utc),
                                    datetime.fromtimestamp(first.first_agent_at, timezone.utc),
                                    shop), 1)
    if first is not None and first.resolved_at is not None:
        resolution = round(first.resolved_at - first.at, 1)
    return {
        "conversation": conversation.sender_id,
        "channel": conversation.channel or "unknown",
        "start": datetime.fromtimestamp(conversation.started, zone).isoformat(timespec="seconds"),
        "customer_messages": conversation.customer_messages,
        "outcome": outcome(conversation),
        "handoff_reason": first.reason if first is not None else None,
        "first_human_response_s": waited,
        "first_human_response_office_s": office,
        "resolution_s": resolution,
        # The last rating: a customer who rates again changed their mind.
        "rating": conversation.ratings[-1] if conversation.ratings else None,
    }


def conversation_rows(found: Sequence[Conversation], start: date, end: date,
                      channel: Optional[str], shop: ShopProfile) -> List[Dict[str, Any]]:
    return [conversation_row(c, shop) for c in in_range(found, start, end, channel, shop)]


def export_rows(events: Iterable[Dict[str, Any]], start: date, end: date,
                channel: Optional[str] = None,
                shop: Optional[ShopProfile] = None) -> List[Dict[str, Any]]:
    """One dict (COLUMNS) per conversation that began between `start` and `end`."""
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    return conversation_rows(conversations(events), start, end, channel, shop or shop_profile())
