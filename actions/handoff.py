"""Actions of the human handoff: hand over, fallback, out of scope, call-back contact, order
number, CSAT rating. Each reads the tracker, calls bot.handoff, and answers with a domain.yml response."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Action

from actions.common import channel_of, fails_twice, hand_over, language_of
from actions.faq_reply import answer_follow_up
from bot.handoff.contact import contact_of, email_of, phone_of
from bot.handoff.decision import FAILED_TWICE, request_reason
from bot.handoff.handoff import note_order_on_open_ticket, save_callback
from bot.handoff.rating import rating_of, record_rating
from bot.handoff.transcript import mentioned_order_id


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    def run(self, dispatcher, tracker, domain):
        return hand_over(dispatcher, tracker, request_reason(tracker.events))


class ActionFallback(Action):
    """The bot did not understand: a follow-up of the answer before it is answered with it;
    otherwise ask again, or after the second time hand over."""

    def name(self) -> Text:
        return "action_fallback"

    def run(self, dispatcher, tracker, domain):
        if answer_follow_up(dispatcher, tracker):  # "vậy đi tỉnh thì sao" after an answer
            return []
        if fails_twice(tracker):
            return hand_over(dispatcher, tracker, FAILED_TWICE)
        dispatcher.utter_message(response="utter_default", failure=True)
        return []


class ActionOutOfScope(Action):
    """Not the shop's business: unless a follow-up of the answer before it is answered with
    it, say so, or after the second such turn in a row hand over (many are questions about
    the shop the FAQ does not cover)."""

    def name(self) -> Text:
        return "action_out_of_scope"

    def run(self, dispatcher, tracker, domain):
        if answer_follow_up(dispatcher, tracker):  # "lãi suất bao nhiêu" after the instalments
            return []
        if fails_twice(tracker):
            return hand_over(dispatcher, tracker, FAILED_TWICE)
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionSaveContact(Action):
    """A phone number or email for a call-back, attached to the customer's ticket."""

    def name(self) -> Text:
        return "action_save_contact"

    def run(self, dispatcher, tracker, domain):
        if not save_contact(dispatcher, tracker):
            dispatcher.utter_message(response="utter_contact_invalid")
        return []


def save_contact(dispatcher, tracker) -> bool:
    """The latest message's phone number or email saved for a call-back, and said so;
    False when it has none that is valid."""
    text = tracker.latest_message.get("text") or ""
    entities = tracker.latest_message.get("entities") or []
    contact = contact_of(text, entities)
    if contact is None:
        return False
    ticket = save_callback(tracker.sender_id, tracker.events, contact, language_of(tracker),
                           channel=channel_of(tracker), phone=phone_of(text, entities),
                           email=email_of(text, entities))
    dispatcher.utter_message(response="utter_contact_saved", contact=contact, ticket=ticket.id)
    return True


class ActionNoteOrderId(Action):
    """An order number given on its own ("mã đơn DH123456"): the bot cannot look it up, so it
    goes on the open ticket, or the customer is told a person will see it."""

    def name(self) -> Text:
        return "action_note_order_id"

    def run(self, dispatcher, tracker, domain):
        order_id = mentioned_order_id(tracker.events)
        ticket = note_order_on_open_ticket(tracker.sender_id, tracker.events) if order_id else None
        if ticket is not None:
            dispatcher.utter_message(response="utter_order_id_on_ticket", order_id=order_id, ticket=ticket.id)
        else:
            dispatcher.utter_message(response="utter_order_id_noted", order_id=order_id or "")
        return []


class ActionRecordRating(Action):
    """CSAT 1-5 after a person resolved the conversation."""

    def name(self) -> Text:
        return "action_record_rating"

    def run(self, dispatcher, tracker, domain):
        value = rating_of(tracker.latest_message.get("text") or "", tracker.latest_message.get("entities"))
        if value is None:
            dispatcher.utter_message(response="utter_ask_rating")
            return []
        record_rating(tracker.sender_id, value)
        dispatcher.utter_message(response="utter_rating_thanks")
        return []
