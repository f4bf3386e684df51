"""What several actions share: reading the tracker, and handing over to a person."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from bot.handoff.decision import fails_again
from bot.handoff.handoff import hand_off
from bot.settings import load_settings


def language_of(tracker: Tracker) -> str:
    """The conversation's language (the `language` slot)."""
    return "en" if tracker.get_slot("language") == "en" else "vi"


def channel_of(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or ""


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> List[Dict[Text, Any]]:
    """Create the ticket, tell the customer, and pause the bot if a person is there."""
    metadata = tracker.latest_message.get("metadata") or {}
    result = hand_off(tracker.sender_id, tracker.events, reason, language_of(tracker),
                      channel=channel_of(tracker), customer_name=metadata.get("customer_name"))
    dispatcher.utter_message(response=result.response, handoff={"ticket": result.ticket.id, "reason": reason},
                             **result.values)
    return [ConversationPaused()] if result.agent_available else []


def fails_twice(tracker: Tracker) -> bool:
    """True when this turn is the bot's second failure in a row (configurable)."""
    return fails_again(tracker.events, load_settings()["handoff"].get("max_failures", 2))
