"""Actions of the human handoff: hand over, fallback, call-back contact, CSAT rating."""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from bot.handoff.contact import contact_of, email_of, phone_of
from bot.handoff.decision import FAILED_TWICE, earlier_failures, request_reason
from bot.handoff.handoff import hand_off, note_order_id
from bot.handoff.profiles import customer_profiles
from bot.handoff.store import ticket_store
from bot.settings import load_settings

logger = logging.getLogger(__name__)


def language_of(tracker: Tracker) -> str:
    return tracker.get_slot("language") or "vi"


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker,
              reason: str) -> List[Dict[Text, Any]]:
    """Create the ticket, tell the customer, and pause the bot if a person is there."""
    metadata = tracker.latest_message.get("metadata") or {}
    result = hand_off(tracker.sender_id, tracker.events, reason, language_of(tracker),
                      channel=tracker.get_latest_input_channel() or "",
                      customer_name=metadata.get("customer_name"))
    dispatcher.utter_message(text=result.text, handoff={"ticket": result.ticket.id,
                                                        "reason": reason})
    return [ConversationPaused()] if result.agent_available else []


def fails_twice(tracker: Tracker) -> bool:
    """True when this turn is the bot's second failure in a row (configurable)."""
    limit = load_settings()["handoff"].get("max_failures", 2)
    return earlier_failures(tracker.events) + 1 >= limit


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    def run(self, dispatcher, tracker, domain):
        return hand_over(dispatcher, tracker, request_reason(tracker.events))


class ActionFallback(Action):
    """The bot did not understand: ask again, or after the second time hand over."""

    def name(self) -> Text:
        return "action_fallback"

    def run(self, dispatcher, tracker, domain):
        if fails_twice(tracker):
            return hand_over(dispatcher, tracker, FAILED_TWICE)
        # domain.yml's utter_default (both languages, "talk to a person" button), marked
        # as a failed turn so the next failure hands over.
        dispatcher.utter_message(response="utter_default", failure=True)
        return []


class ActionOutOfScope(Action):
    """Not the shop's business: say so, or after the second such turn in a row hand over
    (many are questions about the shop the FAQ does not cover)."""

    def name(self) -> Text:
        return "action_out_of_scope"

    def run(self, dispatcher, tracker, domain):
        if fails_twice(tracker):
            return hand_over(dispatcher, tracker, FAILED_TWICE)
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionSaveContact(Action):
    """A phone number or email for a call-back, attached to the customer's ticket."""

    def name(self) -> Text:
        return "action_save_contact"

    def run(self, dispatcher, tracker, domain):
        language = language_of(tracker)
        text = tracker.latest_message.get("text") or ""
        entities = tracker.latest_message.get("entities") or []
        contact = contact_of(text, entities)
        if contact is None:
            dispatcher.utter_message(text=(
                "That doesn't look like a valid phone number or email. Could you check it? "
                "For example 0912 345 678 or ten@email.com." if language == "en" else
                "Số điện thoại hoặc email này chưa đúng. Bạn kiểm tra lại giúp mình nhé, "
                "ví dụ 0912 345 678 hoặc ten@email.com."))
            return []
        store = ticket_store()
        ticket = store.open_ticket_for(tracker.sender_id)
        if ticket is None:
            ticket = hand_off(tracker.sender_id, tracker.events, "callback", language,
                              channel=tracker.get_latest_input_channel() or "").ticket
        else:
            note_order_id(ticket, tracker.events)
        store.set_contact(ticket.id, contact)
        link_customer(tracker, text, entities)
        dispatcher.utter_message(text=(
            f"Thank you! A person will contact you at {contact} (request #{ticket.id})."
            if language == "en" else
            f"Cảm ơn bạn! Nhân viên sẽ liên hệ với bạn qua {contact} (yêu cầu #{ticket.id})."))
        return []


def link_customer(tracker: Tracker, text: str, entities: List[Dict[Text, Any]]) -> None:
    """The same phone or email on another channel is the same customer: agents then see
    their earlier conversations. The call-back is already saved, so a failure here is
    only logged."""
    try:
        customer_profiles().link(tracker.get_latest_input_channel() or "", tracker.sender_id,
                                 phone=phone_of(text, entities), email=email_of(text, entities))
    except Exception:
        logger.exception("could not link %s to a customer profile", tracker.sender_id)


class ActionRecordRating(Action):
    """CSAT 1-5 after a person resolved the conversation."""

    def name(self) -> Text:
        return "action_record_rating"

    def run(self, dispatcher, tracker, domain):
        language = language_of(tracker)
        value = next(tracker.get_latest_entity_values("rating"), None)
        if value is None:
            digits = re.findall(r"[1-5]", tracker.latest_message.get("text") or "")
            value = digits[0] if digits else None
        if value is None or not str(value).isdigit() or not 1 <= int(value) <= 5:
            dispatcher.utter_message(response="utter_ask_rating")
            return []
        store = ticket_store()
        ticket = store.latest_ticket_for(tracker.sender_id)
        store.add_rating(tracker.sender_id, int(value), ticket.id if ticket else None)
        dispatcher.utter_message(text=(
            "Thank you for your rating! It helps us serve you better." if language == "en"
            else "Cảm ơn bạn đã đánh giá! Ý kiến của bạn giúp shop phục vụ tốt hơn."))
        return []
