"""The transcript of a conversation, read from Rasa tracker events.

The tracker is the transcript: every customer, bot and agent message with its time, and
for customer messages the detected intent with its confidence and the FAQ matches the
bot considered. Works on the event dicts of Rasa's HTTP API and of rasa-sdk's Tracker.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional


def _iso(timestamp: Optional[float]) -> Optional[str]:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


def transcript_line(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """One transcript line for a user or bot event; None for other events."""
    kind = event.get("event")
    if kind == "user":
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        return {
            "time": _iso(event.get("timestamp")),
            "role": "customer",
            "text": event.get("text") or "",
            "channel": event.get("input_channel"),
            "intent": intent.get("name"),
            "confidence": intent.get("confidence"),
        }
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
