"""When the bot hands a conversation to a person, and why.

Reasons: the customer asked (`request_human`), the bot failed twice in a row
(`bot_failed_twice`), or the FAQ search was unsure and the customer took the offer of a
person (`low_confidence`); a message the customer's channel refused to deliver
(`undelivered`, see handoff.hand_off_undelivered) also reaches a person, and so does a
message the bot could not answer because its action server was down (`bot_unavailable`,
bot/channels/action_fallback.py). A failed turn
is one whose bot reply carries the metadata `failure: true` (set by the fallback and
FAQ actions) or whose intent was nlu_fallback or out_of_scope, unless the bot answered it
from the FAQ: `is_failed_turn`, the one definition the handoff rule and the support
metrics share.
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

REQUEST_HUMAN = "request_human"
FAILED_TWICE = "bot_failed_twice"
LOW_CONFIDENCE = "low_confidence"
UNDELIVERED = "undelivered"
BOT_UNAVAILABLE = "bot_unavailable"  # the action server was down: the bot could not answer
CALLBACK = "callback"  # the customer left a phone number or email with no ticket open
# Intents whose reply did not help: not understood, or "I only handle the shop's matters"
# (many of those are questions about the shop the FAQ does not cover).
FAILED_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})


def customer_turns(events: Sequence[Dict[str, Any]]) -> List[List[Dict[str, Any]]]:
    """Events grouped by customer turn: each group starts with a user event."""
    turns: List[List[Dict[str, Any]]] = []
    for event in events:
        if event.get("event") == "user":
            turns.append([event])
        elif turns:
            turns[-1].append(event)
    return turns


def is_failed_turn(turn: List[Dict[str, Any]]) -> bool:
    """`turn`: a user event and the events after it, up to the next user event. A turn the
    bot answered from the FAQ did not fail, whatever its intent: a follow-up question not
    understood alone is answered with the question before it (bot/kb/follow_up.py)."""
    replies = [e.get("metadata") or {} for e in turn[1:] if e.get("event") == "bot"]
    if any((m.get("faq") or {}).get("kind") == "answer" for m in replies):
        return False
    intent = ((turn[0].get("parse_data") or {}).get("intent") or {}).get("name")
    return intent in FAILED_INTENTS or any(m.get("failure") for m in replies)


def earlier_failures(events: Sequence[Dict[str, Any]]) -> int:
    """How many customer turns in a row before the current one the bot failed."""
    count = 0
    for turn in reversed(customer_turns(events)[:-1]):
        if not is_failed_turn(turn):
            break
        count += 1
    return count


def fails_again(events: Sequence[Dict[str, Any]], max_failures: int = 2) -> bool:
    """True when a failure of the current turn would be the `max_failures`-th in a row:
    then the bot hands over instead of failing once more."""
    return earlier_failures(events) + 1 >= max_failures


def request_reason(events: Sequence[Dict[str, Any]]) -> str:
    """Why the customer asked for a person: after an unsure answer it is low confidence."""
    turns = customer_turns(events)
    if len(turns) >= 2 and is_failed_turn(turns[-2]):
        return LOW_CONFIDENCE
    return REQUEST_HUMAN
