"""A new conversation session (Rasa starts one after `session_expiration_time` without a
customer message). Rasa's own action_session_start clears a pause; while an agent holds
the conversation's ticket the bot must stay silent across that, e.g. when the customer
writes again the next morning (bot.handoff.handoff.session_start_events)."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Action

from bot.handoff.handoff import session_start_events


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    def run(self, dispatcher, tracker, domain):
        return session_start_events(tracker.sender_id, tracker.slots)
