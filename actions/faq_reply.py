"""How an FAQ reply is said, and a follow-up question answered with the one before it.

Shared by action_answer_question and the actions of a message the bot did not understand
or took for out of scope (actions/handoff.py): "vậy đi tỉnh thì sao" after the express
delivery answer is not understood alone, and read with it is answered (bot/kb/follow_up.py).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language_of
from bot.kb.follow_up import follow_up_decision, previous_answer
from bot.kb.service import reply_for

log = logging.getLogger(__name__)


def answer_follow_up(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answer the latest message, which the FAQ did not answer alone, as a follow-up of the
    FAQ answer just before it, when the two read together are answered (bot/kb/follow_up.py)."""
    previous = previous_answer(tracker.events)
    text = tracker.latest_message.get("text") or ""
    if previous is None or not text.strip() or text.startswith("/"):
        return False
    language = language_of(tracker)
    try:
        faq = follow_up_decision(text, previous, language)
    except Exception:  # noqa: BLE001 - the turn goes on as if there were no context
        log.exception("FAQ search of a follow-up failed: %r", text)
        return False
    if faq is None:
        return False
    say_reply(dispatcher, reply_for(faq, language), language, faq["asked"], follow_up=True)
    return True


def say_reply(dispatcher: CollectingDispatcher, reply: Dict[str, Any], language: str,
              asked: Optional[str], **extra: Any) -> None:
    """Utter an FAQ reply. Its decision and scores go into the tracker (the transcript
    shows them), with `asked`, the text searched, for reading a follow-up after it."""
    faq = {"kind": reply["kind"], "entry_id": reply.get("entry_id"), "score": reply.get("score"),
           "confidence": reply.get("confidence"), "suggestions": reply.get("suggestions"),
           "asked": asked, **extra}
    if language == "en" and reply.get("answer_language") == "vi":
        # The entry has no English answer: say why it comes in Vietnamese.
        dispatcher.utter_message(response="utter_answer_only_in_vietnamese")
    if reply["response"]:
        dispatcher.utter_message(response=reply["response"], choices=reply["choices"], faq=faq,
                                 failure=reply["kind"] == "abstain", **reply["values"])
    else:  # the entry's answer, as the editor wrote it
        dispatcher.utter_message(text=reply["text"], faq=faq)
