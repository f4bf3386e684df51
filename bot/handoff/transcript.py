"""The transcript of a conversation, read from Rasa tracker events.

The tracker is the transcript: every customer, bot and agent message with its time, and
for customer messages the detected intent with its confidence, the entities found in it
(phone, email, order_id, money, date: bot/nlu/entities.py) and the FAQ matches the bot
considered. Works on the event dicts of Rasa's HTTP API and of rasa-sdk's Tracker.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional


def _iso(timestamp: Optional[float]) -> Optional[str]:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


# Not shown per message: the language tag covers the whole message and is the
# conversation's language anyway.
_NOT_SHOWN = {"language"}


def message_entities(parse_data: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The entities of one parsed customer message: entity, value, start, end."""
    out = []
    for entity in parse_data.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("entity") in _NOT_SHOWN:
            continue
        out.append({key: entity.get(key) for key in ("entity", "value", "start", "end")})
    return out


def mentioned_order_id(events: Iterable[Dict[str, Any]]) -> Optional[str]:
    """The order number the customer mentioned last in the conversation, if any."""
    order_id = None
    for event in events:
        if event.get("event") != "user":
            continue
        for entity in message_entities(event.get("parse_data") or {}):
            if entity["entity"] == "order_id" and entity["value"]:
                order_id = str(entity["value"])[:64]
    return order_id


def transcript_line(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """One transcript line for a user or bot event; None for other events."""
    kind = event.get("event")
    if kind == "user":
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        line = {
            "time": _iso(event.get("timestamp")),
            "role": "customer",
            "text": event.get("text") or "",
            "channel": event.get("input_channel"),
            "intent": intent.get("name"),
            "confidence": intent.get("confidence"),
        }
        entities = message_entities(parse)
        if entities:
            line["entities"] = entities
        if line["intent"] == "unreadable":  # what the channel could not read: "[sticker]"
            kind = next((e["value"] for e in entities if e["entity"] == "kind"), "other")
            line["text"] = f"[{kind}]"
        return line
    if kind == "bot":
        metadata = event.get("metadata") or {}
        line = {
            "time": _iso(event.get("timestamp")),
            "role": "agent" if metadata.get("agent") else "bot",
            "text": event.get("text") or "",
        }
        if metadata.get("agent"):
            line["agent"] = metadata["agent"]
        if metadata.get("faq"):
            line["faq"] = metadata["faq"]
        return line
    return None


def build_transcript(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Customer, bot and agent lines in order. The FAQ matches a bot reply was based on
    are attached to the customer message that asked."""
    lines: List[Dict[str, Any]] = []
    last_customer: Optional[Dict[str, Any]] = None
    for event in events:
        line = transcript_line(event)
        if line is None:
            continue
        if line["role"] == "customer":
            last_customer = line
        elif "faq" in line and last_customer is not None:
            last_customer["faq"] = line.pop("faq")
        lines.append(line)
    return lines
