"""Support metrics over a date range, per channel and per day, with the trend against the
previous period of equal length: the aggregation of the conversations' facts.

Days are the shop's (its time zone); a conversation counts on the day of its first
customer message, with everything that happens in it afterwards (a reply the next
morning, a rating). Rates are fractions (0.25 = 25 %), times seconds; a rate or time with
nothing to measure is None.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from statistics import median
from typing import Any, Dict, Iterable, List, Optional, Sequence
from zoneinfo import ZoneInfo

from bot.analytics.conversations import Conversation, conversations
from bot.analytics.office_time import open_seconds
from bot.handoff.decision import FAILED_TWICE, LOW_CONFIDENCE, REQUEST_HUMAN
from bot.shop import ShopProfile, shop_profile

SATISFIED = (4, 5)  # CSAT counts these ratings as satisfied
# The reasons of the bot's handoff message (always listed: a period without one shows 0).
REASONS = (REQUEST_HUMAN, LOW_CONFIDENCE, FAILED_TWICE)


def metrics(events: Iterable[Dict[str, Any]], start: date, end: date,
            channel: Optional[str] = None, shop: Optional[ShopProfile] = None) -> Dict[str, Any]:
    """The support metrics of the conversations that began between `start` and `end`
    (shop days, both included), optionally on one channel."""
    return summarize(conversations(events), start, end, channel, shop or shop_profile())


def summarize(found: Sequence[Conversation], start: date, end: date,
              channel: Optional[str], shop: ShopProfile) -> Dict[str, Any]:
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    zone = ZoneInfo(shop.timezone)
    length = timedelta(days=(end - start).days + 1)
    previous_start, previous_end = start - length, start - timedelta(days=1)
    by_day: Dict[date, List[Conversation]] = defaultdict(list)
    for conversation in found:
        if channel is None or conversation.channel == channel:
            by_day[datetime.fromtimestamp(conversation.started, zone).date()].append(conversation)

    def between(first: date, last: date) -> List[Conversation]:
        return [c for day, group in by_day.items() if first <= day <= last for c in group]

    current = between(start, end)
    totals = summary(current, shop)
    previous = summary(between(previous_start, previous_end), shop)
    channels: Dict[str, List[Conversation]] = defaultdict(list)
    for conversation in current:
        channels[conversation.channel or "unknown"].append(conversation)
    days = [start + timedelta(days=n) for n in range(length.days)]
    return {
        "from": start.isoformat(), "to": end.isoformat(), "channel": channel,
        "timezone": shop.timezone,
        "totals": totals,
        "previous": {"from": previous_start.isoformat(), "to": previous_end.isoformat(),
                     **previous},
        "trend": trend(totals, previous),
        "by_channel": {name: summary(group, shop) for name, group in sorted(channels.items())},
        "by_day": [{"date": day.isoformat(), **summary(by_day.get(day, []), shop)}
                   for day in days],
    }


def summary(found: Sequence[Conversation], shop: ShopProfile) -> Dict[str, Any]:
    """Every metric of one set of conversations."""
    n = len(found)
    handed_off = [c for c in found if c.handoffs]
    reasons = Counter({reason: 0 for reason in REASONS})
    reasons.update(c.handoffs[0].reason for c in handed_off)
    handoffs = [h for c in found for h in c.handoffs]
    answered = [h for h in handoffs if h.first_agent_at is not None]
    resolved = [h for h in handoffs if h.resolved_at is not None]
    bot_times = sorted(t for c in found for t in c.bot_response_times)
    ratings = [r for c in found for r in c.ratings]
    distribution = Counter(ratings)
    suggested = sum(c.faq_suggested for c in found)
    turns = sum(c.turns for c in found)
    surveys = sum(c.surveys for c in found)
    return {
        "conversations": n,
        "customer_messages": sum(c.customer_messages for c in found),
        "contained": sum(1 for c in found if c.contained),
        "containment_rate": _ratio(sum(1 for c in found if c.contained), n),
        "handed_off": len(handed_off),
        "handoff_rate": _ratio(len(handed_off), n),
        "handoffs_by_reason": dict(sorted(reasons.items())),
        "handoff_rate_by_reason": {r: _ratio(k, n) for r, k in sorted(reasons.items())},
        "faq_answered": sum(c.faq_answered for c in found),
        "faq_suggested": suggested,
        "faq_picked": sum(c.faq_picked for c in found),
        "faq_pick_rate": _ratio(sum(c.faq_picked for c in found), suggested),
        "faq_dont_know": sum(c.faq_dont_know for c in found),
        "turns": turns,
        "failed_turns": sum(c.failed_turns for c in found),
        "failed_turn_rate": _ratio(sum(c.failed_turns for c in found), turns),
        "bot_replies": len(bot_times),
        "bot_response_p50_s": _seconds(percentile(bot_times, 50)),
        "bot_response_p95_s": _seconds(percentile(bot_times, 95)),
        "handoffs": len(handoffs),
        "handoffs_answered": len(answered),
        "first_human_response_median_s": _seconds(
            _median([h.first_agent_at - h.at for h in answered])),
        "first_human_response_office_median_s": _seconds(
            _median([open_seconds(_utc(h.at), _utc(h.first_agent_at), shop) for h in answered])),
        "resolved": len(resolved),
        "resolution_median_s": _seconds(_median([h.resolved_at - h.at for h in resolved])),
        "surveys": surveys,
        "surveys_answered": sum(c.surveys_answered for c in found),
        "survey_response_rate": _ratio(sum(c.surveys_answered for c in found), surveys),
        "ratings": len(ratings),
        "csat": _ratio(sum(distribution[r] for r in SATISFIED), len(ratings)),
        "rating_distribution": {str(r): distribution[r] for r in range(1, 6)},
    }


def trend(current: Dict[str, Any], previous: Dict[str, Any]) -> Dict[str, Any]:
    """This period minus the previous one, metric by metric (rates in fractions, so 0.05 is
    five percentage points); None where either side has nothing to measure."""
    change: Dict[str, Any] = {}
    for key, value in current.items():
        before = previous.get(key)
        if isinstance(value, dict):
            before = before or {}
            change[key] = {k: _difference(value.get(k), before.get(k))
                           for k in sorted(set(value) | set(before))}
        else:
            change[key] = _difference(value, before)
    return change


def percentile(ordered: Sequence[float], p: float) -> Optional[float]:
    """Nearest-rank percentile of sorted values: the smallest value with at least p % of
    the values at or below it."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _difference(value: Any, before: Any) -> Any:
    numbers = (int, float)
    if isinstance(value, numbers) and isinstance(before, numbers):
        return round(value - before, 4)
    return None


def _median(values: List[float]) -> Optional[float]:
    return median(values) if values else None


def _ratio(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def _seconds(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 3)


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)
