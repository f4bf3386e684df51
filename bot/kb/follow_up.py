"""Follow-up questions: a second message read with the question the bot has just answered.

After "phí ship bao nhiêu" is answered, "còn ra đảo thì sao" alone matches no entry well,
and "tối thiểu phải nạp bao nhiêu" after the top-up answer got buttons of other entries.
When the customer's previous turn was answered from the FAQ and this message alone is
not, the FAQ is searched once more with the previous question and this message together,
and that answer is given when:

* it is another entry (the message took the question elsewhere: "hủy đơn thì tiền hoàn
  về đâu" after the MoMo payment answer), or
* it is the same entry again, and the entry's own words cover what the message asks
  (`KnowledgeBase.coverage` at least COVERAGE): "còn ship ra đảo thì sao" after the
  shipping fee, whose answer names the islands' fee. Read with the previous question,
  almost any message comes back to the previous entry ("có xuất hóa đơn VAT cho công ty
  không" after a bill payment answer that never mentions VAT), so the entry must say
  something about it.

COVERAGE and QUESTION_WORDS were chosen on the tune sets of bench/followups_eval.md
(bench/data/followups, sample and ewallet), simulating the FAQ decision alone: of 72
follow-ups 38 were answered right alone and 48 with this, wrong answers unchanged at 5; of
20 follow-ups no entry answers, 1 was answered (none alone); the 32 questions on a new topic
kept their answers. At 0.45, 3 more follow-ups were answered right and 4 more unanswerable
ones wrongly; with every word counted, 0.5 answered 3 fewer right for the same 1 wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence

from bot.handoff.decision import customer_turns

COVERAGE = 0.55
# Words that make a message a question or a follow-up, not what it is about ("còn … thì
# sao", "có … được không", "bao nhiêu"): answers rarely say them, so they would count as
# what the entry does not speak of. Fold terms (bot.kb.lexical.fold_terms).
QUESTION_WORDS = frozenset("""
    con thi sao the vay neu co khong duoc bao nhieu may nao gi la a nhe nha roi ma luon chu ha ko k
""".split())
# The context searched is cut to its last characters: a long chain of follow-ups must not
# grow the query without end (the embedder reads 512 tokens at most).
MAX_CONTEXT_CHARS = 300


@dataclass(frozen=True)
class Answered:
    """The previous turn's FAQ answer: the text searched for it, and its entry."""

    asked: str
    entry_id: str


def previous_answer(events: Sequence[Dict[str, Any]]) -> Optional[Answered]:
    """The FAQ answer the bot gave in the customer turn just before the current one, in the
    same session (a customer back the next day starts afresh)."""
    turns = customer_turns(events)
    if len(turns) < 2 or any(e.get("event") == "session_started" for e in turns[-2]):
        return None
    previous = turns[-2]
    text = previous[0].get("text") or ""
    for event in previous[1:]:
        metadata = (event.get("metadata") or {}) if event.get("event") == "bot" else {}
        faq = metadata.get("faq") if not metadata.get("agent") else None
        if isinstance(faq, dict) and faq.get("kind") == "answer" and faq.get("entry_id"):
            asked = faq.get("asked") or ("" if text.startswith("/") else text)
            return Answered(asked, faq["entry_id"]) if asked else None
    return None


def context_query(answered: Answered, message: str) -> str:
    return f"{answered.asked} {message}"[-MAX_CONTEXT_CHARS:].strip()


def follow_up_decision(message: str, answered: Answered,
                       language: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """The FAQ decision (bot.kb.service.decide's) of `message` read after `answered`, when
    it answers; None otherwise. It carries `asked`, the text searched, for the next turn."""
    from bot.kb.service import decide, get_knowledge_base

    asked = context_query(answered, message)
    faq = decide(asked, language)
    if faq["kind"] != "answer":
        return None
    again = faq["entry_id"] == answered.entry_id
    if again and get_knowledge_base().coverage(faq["entry_id"], message, QUESTION_WORDS) < COVERAGE:
        return None
    return {**faq, "asked": asked}
