"""How `hotro eval e2e` scores what came back to a customer (bot/e2e.py)."""
from __future__ import annotations

import unicodedata

from bot.e2e import classify, summarize
from bot.kb.corpus import Entry

ENTRIES = [Entry("ship-fee", "faq", "Phí ship?", [], "Phí ship 20.000đ.", "Shipping costs 20,000đ."),
           Entry("ship-time", "faq", "Giao mấy ngày?", [], "Giao trong 2–4 ngày.")]


def test_the_expected_answer_in_either_language_is_right():
    assert classify([{"text": "Phí ship 20.000đ."}], ENTRIES, "ship-fee")["outcome"] == "answered_right"
    assert classify([{"text": "Shipping costs 20,000đ."}], ENTRIES, "ship-fee")["outcome"] == "answered_right"
    # the channel may deliver NFD text: it is still the same answer
    nfd = unicodedata.normalize("NFD", "Phí ship 20.000đ.")
    assert classify([{"text": nfd}], ENTRIES, "ship-fee")["outcome"] == "answered_right"


def test_another_entry_or_any_answer_out_of_scope_is_wrong():
    assert classify([{"text": "Giao trong 2–4 ngày."}], ENTRIES, "ship-fee")["outcome"] == "answered_wrong"
    assert classify([{"text": "Giao trong 2–4 ngày."}], ENTRIES, "")["outcome"] == "answered_wrong"


def test_buttons_are_suggestions_and_anything_else_is_not_answered():
    buttons = {"text": "Bạn muốn hỏi…", "buttons": [{"payload": '/ask_question{"faq_id":"ship-fee"}'},
                                                    {"payload": "/request_human"}]}
    assert classify([buttons], ENTRIES, "ship-fee") == {
        "outcome": "suggested_right", "answered": None, "suggested": ["ship-fee"]}
    assert classify([buttons], ENTRIES, "ship-time")["outcome"] == "suggested_other"
    assert classify([{"text": "Xin lỗi, mình chưa hiểu"}], ENTRIES, "ship-fee")["outcome"] == "not_answered"
    assert classify([], ENTRIES, "")["outcome"] == "not_answered"


def test_summary_shares_and_goals():
    rows = [{"variant": "diacritics", "expected_id": "a", "outcome": "answered_right"},
            {"variant": "diacritics", "expected_id": "a", "outcome": "suggested_right"},
            {"variant": "out_of_scope", "expected_id": "", "outcome": "answered_wrong"},
            {"variant": "out_of_scope", "expected_id": "", "outcome": "not_answered"}]
    s = summarize(rows)
    assert s["answerable_answered_right"] == 0.5
    assert s["all_answered_wrong"] == 0.25
    assert s["oos_not_answered"] == 0.5
    assert s["variants"]["diacritics"]["suggested_right"] == 0.5 and s["n"] == 4
