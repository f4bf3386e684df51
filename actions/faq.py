"""action_answer_question: answers from the FAQ knowledge base (bot.kb)."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import fails_twice, hand_over, language_of
from actions.faq_reply import answer_follow_up, say_reply
from actions.handoff import save_contact
from bot.handoff.decision import FAILED_TWICE
from bot.kb.service import answer, answer_by_id, get_knowledge_base, reply_for

# Load (or build) the index while the action server starts, not on a customer's question.
get_knowledge_base()


def apologises(reply: Dict[str, Any]) -> bool:
    """The entry's answer already opens with an apology ("Rất xin lỗi bạn! …"): one is enough."""
    text = reply.get("text") or reply["values"].get("answer") or ""
    opening = re.split(r"[.!?]", text, maxsplit=1)[0].lower()
    return "xin lỗi" in opening or "sorry" in opening


class ActionAnswerQuestion(Action):
    def name(self) -> Text:
        return "action_answer_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        faq_id = next(tracker.get_latest_entity_values("faq_id"), None)
        decided = tracker.latest_message.get("faq")
        text = tracker.latest_message.get("text") or ""
        if faq_id:  # the customer picked one of the suggested questions
            reply = answer_by_id(faq_id, language)
            asked = reply.get("question")
        else:  # the NLU router has searched the FAQ (unless the search failed there)
            reply = reply_for(decided, language) if (decided or {}).get("kind") else answer(text, language)
            asked = text
            if reply["kind"] != "answer" and answer_follow_up(dispatcher, tracker):
                return []
        failed = reply["kind"] == "abstain"
        if failed and fails_twice(tracker):
            return hand_over(dispatcher, tracker, FAILED_TWICE)
        if (decided or {}).get("apologise") and not faq_id and not apologises(reply):
            dispatcher.utter_message(response="utter_sorry_for_complaint")  # an angry customer
        say_reply(dispatcher, reply, language, asked)
        if ((decided or {}).get("routed_from") or {}).get("intent") == "give_contact":
            save_contact(dispatcher, tracker)  # the question came with a phone number or email
        return []
