"""The questions the bot failed, and the suggestions customers picked, read from Rasa's
event stream (no second log): what the editors' "unanswered questions" page groups.

A failed turn is a customer message (typed, not a button's payload) with one or more
reasons:
  not_understood  the shared failed-turn definition (bot/handoff/decision.py
                  `is_failed_turn`: NLU fallback, out of scope, a reply marked `failure`)
                  when the FAQ did not say "don't know" itself;
  dont_know       the FAQ search abstained (the FAQ action's metadata `faq.kind`);
  not_picked      the bot offered suggestions and the customer's next message did not pick
                  one (or there was none);
  handoff         the bot handed over because it failed twice (this message), or the
                  customer asked for a person right after an unsure reply (that reply's
                  question);
  low_rating      a 1-2 rating right after the bot answered from the FAQ (the question it
                  answered).
A picked suggestion is (the message the suggestions answered, the entry the customer
pressed): a phrasing the FAQ lacks.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from bot.handoff.decision import FAILED_TWICE, LOW_CONFIDENCE, customer_turns, is_failed_turn
from bot.handoff.rating import rating_of

NOT_UNDERSTOOD, DONT_KNOW, NOT_PICKED = "not_understood", "dont_know", "not_picked"
HANDOFF, LOW_RATING = "handoff", "low_rating"
REASONS = (NOT_UNDERSTOOD, DONT_KNOW, NOT_PICKED, HANDOFF, LOW_RATING)
PICK_INTENT, RATE_INTENT = "ask_question", "rate"
LOW_RATINGS = (1, 2)


@dataclass
class FailedTurn:
    key: str  # stable across reads: the sender, the time and the text
    sender_id: str
    text: str
    channel: str
    at: float  # unix seconds of the customer's message
    reasons: List[str] = field(default_factory=list)

    def add(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


@dataclass
class PickedSuggestion:
    key: str  # the key of the message the suggestions answered
    sender_id: str
    text: str
    entry_id: str
    channel: str
    at: float


def message_key(sender_id: str, at: float, text: str) -> str:
    digest = hashlib.sha1(f"{sender_id}\x00{at:.6f}\x00{text}".encode("utf-8"))
    return digest.hexdigest()[:20]


def _user(turn: List[Dict[str, Any]]) -> Dict[str, Any]:
    return turn[0]


def _intent(event: Dict[str, Any]) -> Optional[str]:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def _entities(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [e for e in (event.get("parse_data") or {}).get("entities") or [] if isinstance(e, dict)]


def _typed(event: Dict[str, Any]) -> bool:
    """A message the customer wrote, not a button's `/intent{...}` payload."""
    text = (event.get("text") or "").strip()
    return bool(text) and not text.startswith("/")


def _bot_metadata(turn: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The metadata of the bot's own replies in the turn (not a person's from the console)."""
    return [e.get("metadata") or {} for e in turn[1:]
            if e.get("event") == "bot" and not (e.get("metadata") or {}).get("agent")]


def _faq_kinds(turn: List[Dict[str, Any]]) -> List[str]:
    return [m["faq"].get("kind") for m in _bot_metadata(turn) if isinstance(m.get("faq"), dict)]


def _handoff_reason(turn: List[Dict[str, Any]]) -> Optional[str]:
    for metadata in _bot_metadata(turn):
        if isinstance(metadata.get("handoff"), dict):
            return str(metadata["handoff"].get("reason") or "")
    return None


def _picked(turn: List[Dict[str, Any]]) -> Optional[str]:
    """The entry id a pressed suggestion asks for."""
    event = _user(turn)
    if _intent(event) != PICK_INTENT:
        return None
    return next((str(e.get("value")) for e in _entities(event) if e.get("entity") == "faq_id"
                 and e.get("value")), None)


def _rating(turn: List[Dict[str, Any]]) -> Optional[int]:
    event = _user(turn)
    entities = _entities(event)
    if _intent(event) != RATE_INTENT and not any(e.get("entity") == "rating" for e in entities):
        return None
    return rating_of(event.get("text") or "", entities)


def _sender_turns(events: Iterable[Dict[str, Any]]) -> Dict[str, List[List[Dict[str, Any]]]]:
    by_sender: Dict[str, List[Dict[str, Any]]] = {}
    for event in events:
        by_sender.setdefault(str(event.get("sender_id") or ""), []).append(event)
    return {sender: customer_turns(evs) for sender, evs in by_sender.items()}


def read_turns(events: Iterable[Dict[str, Any]]) -> Tuple[List[FailedTurn], List[PickedSuggestion]]:
    """The failed turns and the picked suggestions in `events` (each sender's events in the
    order Rasa published them), oldest first."""
    failed: List[FailedTurn] = []
    picked: List[PickedSuggestion] = []
    for sender, turns in _sender_turns(events).items():
        records: Dict[int, FailedTurn] = {}

        def record(i: int, reason: str) -> None:
            event = _user(turns[i])
            if not _typed(event):
                return
            if i not in records:
                at = float(event.get("timestamp") or 0)
                text = event.get("text").strip()
                records[i] = FailedTurn(message_key(sender, at, text), sender, text,
                                        str(event.get("input_channel") or ""), at)
            records[i].add(reason)

        for i, turn in enumerate(turns):
            kinds = _faq_kinds(turn)
            reason = _handoff_reason(turn)
            if "abstain" in kinds:
                record(i, DONT_KNOW)
            elif is_failed_turn(turn):
                record(i, NOT_UNDERSTOOD)
            if reason == FAILED_TWICE:
                record(i, HANDOFF)
            elif reason == LOW_CONFIDENCE and i > 0:
                record(i - 1, HANDOFF)
            if "suggest" in kinds:
                entry_id = _picked(turns[i + 1]) if i + 1 < len(turns) else None
                event = _user(turn)
                if entry_id is None:
                    record(i, NOT_PICKED)
                elif _typed(event):
                    at = float(event.get("timestamp") or 0)
                    text = event["text"].strip()
                    picked.append(PickedSuggestion(message_key(sender, at, text), sender, text,
                                                   entry_id, str(event.get("input_channel") or ""), at))
            rating = _rating(turn)
            if rating in LOW_RATINGS and i > 0 and "answer" in _faq_kinds(turns[i - 1]):
                record(i - 1, LOW_RATING)
        failed.extend(records.values())
    failed.sort(key=lambda f: f.at)
    picked.sort(key=lambda p: p.at)
    return failed, picked
