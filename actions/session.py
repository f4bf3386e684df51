"""A new conversation session (Rasa starts one after `session_expiration_time` without a
customer message). Rasa's own action_session_start clears a pause; while an agent holds
the conversation's ticket the bot must stay silent across that, e.g. when the customer
writes again the next morning."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Action
from rasa_sdk.events import ActionExecuted, ConversationPaused, SessionStarted, SlotSet

from bot.handoff.handoff import person_has_conversation


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    def run(self, dispatcher, tracker, domain):
        events = [SessionStarted()]
        # What Rasa's default does with carry_over_slots_to_new_session: true (domain.yml).
        events += [SlotSet(name, value) for name, value in (tracker.slots or {}).items()
                   if value is not None]
        if person_has_conversation(tracker.sender_id):
            events.append(ConversationPaused())
        events.append(ActionExecuted("action_listen"))
        return events
