"""Follow-up questions: which answer they follow, and whether an entry speaks of them."""
from __future__ import annotations

import unicodedata

from bot.kb.follow_up import COVERAGE, QUESTION_WORDS, Answered, context_query, previous_answer


def user(text, intent="ask_question"):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def bot(text, **metadata):
    return {"event": "bot", "text": text, "metadata": metadata}


ANSWERED = {"kind": "answer", "entry_id": "orders-cancel", "asked": "hủy đơn thế nào"}


def test_the_answer_of_the_turn_just_before_is_followed():
    events = [user("hủy đơn thế nào"), bot("Khi đơn còn…", faq=ANSWERED), {"event": "action"},
              user("còn đơn đã giao thì sao")]
    assert previous_answer(events) == Answered("hủy đơn thế nào", "orders-cancel")
    # a picked suggestion's payload is no question: the entry's, recorded by the action, is
    picked = [user('/ask_question{"faq_id":"orders-cancel"}'),
              bot("…", faq={**ANSWERED, "asked": "Tôi muốn hủy đơn hàng đã đặt thì làm thế nào?"}),
              user("mất phí không")]
    assert previous_answer(picked).asked.startswith("Tôi muốn hủy đơn")
    # replies recorded before `asked` existed: the customer's own text
    old = [user("hủy đơn thế nào"), bot("…", faq={"kind": "answer", "entry_id": "orders-cancel"}),
           user("mất phí không")]
    assert previous_answer(old) == Answered("hủy đơn thế nào", "orders-cancel")


def test_nothing_is_followed_but_an_faq_answer_in_the_turn_just_before():
    assert previous_answer([user("còn đơn đã giao thì sao")]) is None
    suggested = [user("hủy"), bot("?", faq={"kind": "suggest", "suggestions": ["orders-cancel"]}),
                 user("còn đơn đã giao thì sao")]
    assert previous_answer(suggested) is None
    two_turns_ago = [user("hủy đơn thế nào"), bot("…", faq=ANSWERED), user("chào shop", "greet"),
                     bot("Xin chào"), user("còn đơn đã giao thì sao")]
    assert previous_answer(two_turns_ago) is None
    from_a_person = [user("hủy đơn thế nào"), bot("…", faq=ANSWERED, agent="lan"),
                     user("mất phí không")]
    assert previous_answer(from_a_person) is None
    next_session = [user("hủy đơn thế nào"), bot("…", faq=ANSWERED), {"event": "session_started"},
                    {"event": "action", "name": "action_listen"}, user("mất phí không")]
    assert previous_answer(next_session) is None


def test_a_long_chain_of_follow_ups_keeps_the_latest_words():
    asked = context_query(Answered("x" * 400, "orders-cancel"), "còn đơn đã giao thì sao")
    assert len(asked) <= 300 and asked.endswith("còn đơn đã giao thì sao")


def test_coverage_says_whether_an_entry_speaks_of_what_is_asked(knowledge_base):
    # payment-methods' answer names MoMo and Visa; it says nothing of instalments by ID card
    assert knowledge_base.coverage("payment-methods", "còn momo thì sao", QUESTION_WORDS) >= COVERAGE
    assert knowledge_base.coverage("payment-methods", "con momo thi sao", QUESTION_WORDS) >= COVERAGE
    nfd = unicodedata.normalize("NFD", "còn momo thì sao")
    assert knowledge_base.coverage("payment-methods", nfd, QUESTION_WORDS) >= COVERAGE
    instalments = "trả góp bằng căn cước được ko"
    assert knowledge_base.coverage("payment-methods", instalments, QUESTION_WORDS) < COVERAGE
    assert knowledge_base.coverage("payment-methods", "and Visa?", QUESTION_WORDS) >= COVERAGE
    assert knowledge_base.coverage("no-such-entry", "momo", QUESTION_WORDS) == 0.0
    assert knowledge_base.coverage("payment-methods", "👍", QUESTION_WORDS) == 0.0
