"""Unanswered questions read from Rasa events (bot/analytics/unanswered.py) and grouped by
meaning (bot/analytics/clustering.py), on hand-written event lists as the broker publishes
them."""
from __future__ import annotations

import numpy as np
import pytest

from bot.analytics.clustering import cluster, faq_centre, message_vectors, similarity
from bot.analytics.unanswered import (DONT_KNOW, HANDOFF, LOW_RATING, NOT_PICKED, NOT_UNDERSTOOD,
                                      message_key, read_turns)
from bot.embedders import DEFAULT_EMBEDDER
from bot.kb.corpus import Entry
from bot.kb.search import KnowledgeBase
from bot.settings import load_settings
from tests.unit.test_analytics import at, bot, mark, user

PICK = '/ask_question{"faq_id":"returns-policy"}'


def reasons(events):
    failed, _ = read_turns(events)
    return {f.text: f.reasons for f in failed}


def test_each_kind_of_failure_is_recorded_with_its_reason():
    events = [
        mark("a", at(16, 9, 0), "session_started"),
        # NLU fallback (typed without diacritics)
        user("a", at(16, 9, 0), "shop co ban sim so dep ko", "nlu_fallback", "widget"),
        bot("a", at(16, 9, 0, 1), "Mình chưa hiểu.", failure=True),
        # FAQ "don't know"
        user("a", at(16, 9, 1), "đổi size áo được không", "ask_question", "widget"),
        bot("a", at(16, 9, 1, 1), "Mình chưa biết.", failure=True, faq={"kind": "abstain"}),
        # suggestions the customer did not pick: she typed something else
        user("a", at(16, 9, 2), "có giao hàng ra đảo ko", "ask_question", "widget"),
        bot("a", at(16, 9, 2, 1), "Bạn muốn hỏi?", faq={"kind": "suggest", "suggestions": ["shipping-fee"]}),
        user("a", at(16, 9, 3), "thôi", "deny", "widget"),
        bot("a", at(16, 9, 3, 1), "Dạ vâng."),
    ]
    found = reasons(events)
    assert found == {"shop co ban sim so dep ko": [NOT_UNDERSTOOD], "đổi size áo được không": [DONT_KNOW],
                     "có giao hàng ra đảo ko": [NOT_PICKED]}
    failed, _ = read_turns(events)
    assert {f.channel for f in failed} == {"widget"}
    assert failed[0].key == message_key("a", at(16, 9, 0), "shop co ban sim so dep ko")
    assert read_turns(events)[0][0].key == failed[0].key  # stable across reads


def test_handoffs_and_low_ratings_point_at_the_question_that_failed():
    events = [
        # failed twice: the second message is handed over
        user("b", at(16, 10, 0), "sdt shop la gi", "nlu_fallback", "facebook"),
        bot("b", at(16, 10, 0, 1), "Mình chưa hiểu.", failure=True),
        user("b", at(16, 10, 1), "so dien thoai cua hang", "nlu_fallback", "facebook"),
        bot("b", at(16, 10, 1, 1), "Mình chuyển bạn.", handoff={"ticket": 1, "reason": "bot_failed_twice"}),
        # unsure, then "a person please": the unsure question is the failure, not the request
        user("c", at(16, 11, 0), "tra gop duoc khong", "ask_question", "zalo"),
        bot("c", at(16, 11, 0, 1), "Mình chưa biết.", failure=True, faq={"kind": "abstain"}),
        user("c", at(16, 11, 1), "cho gặp nhân viên", "request_human", "zalo"),
        bot("c", at(16, 11, 1, 1), "Mình chuyển bạn.", handoff={"ticket": 2, "reason": "low_confidence"}),
        # answered, then rated 2: the answered question failed; a 4 does not count
        user("d", at(16, 12, 0), "phí ship bao nhiêu", "ask_question", "widget"),
        bot("d", at(16, 12, 0, 1), "20.000đ", faq={"kind": "answer", "entry_id": "shipping-fee"}),
        user("d", at(16, 12, 1), '/rate{"rating": "2"}', "rate", "widget", rating="2"),
        bot("d", at(16, 12, 1, 1), "Cảm ơn bạn."),
        user("e", at(16, 12, 0), "đổi trả thế nào", "ask_question", "widget"),
        bot("e", at(16, 12, 0, 1), "7 ngày", faq={"kind": "answer", "entry_id": "returns-policy"}),
        user("e", at(16, 12, 1), "4", "rate", "widget"),
    ]
    found = reasons(events)
    assert found == {"sdt shop la gi": [NOT_UNDERSTOOD],
                     "so dien thoai cua hang": [NOT_UNDERSTOOD, HANDOFF],
                     "tra gop duoc khong": [DONT_KNOW, HANDOFF],
                     "phí ship bao nhiêu": [LOW_RATING]}


def test_a_picked_suggestion_is_a_proposed_phrasing_not_a_failure():
    events = [
        user("f", at(16, 13, 0), "mua rồi muốn trả lại hàng", "ask_question", "widget"),
        bot("f", at(16, 13, 0, 1), "Bạn muốn hỏi?", faq={"kind": "suggest",
                                                          "suggestions": ["returns-policy"]}),
        user("f", at(16, 13, 1), PICK, "ask_question", "widget", faq_id="returns-policy"),
        bot("f", at(16, 13, 1, 1), "7 ngày", faq={"kind": "answer", "entry_id": "returns-policy"}),
    ]
    failed, picked = read_turns(events)
    assert failed == []
    assert [(p.text, p.entry_id, p.channel) for p in picked] == [
        ("mua rồi muốn trả lại hàng", "returns-policy", "widget")]


def test_button_payloads_and_messages_to_an_agent_are_never_questions():
    events = [
        user("g", at(16, 14, 0), "/request_human", "nlu_fallback", "widget"),
        bot("g", at(16, 14, 0, 1), "?", failure=True),
        user("g", at(16, 14, 1), "alo", "greet", "widget"),
        bot("g", at(16, 14, 1, 1), "Mình là Lan", agent="lan"),
    ]
    assert read_turns(events) == ([], [])


def test_clustering_groups_by_average_similarity_at_the_threshold():
    rng = np.random.default_rng(1)
    centres = np.eye(3, 16)
    vectors = np.concatenate([c + rng.normal(0, 0.05, (4, 16)) for c in centres])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = cluster(vectors @ vectors.T, threshold=0.8)
    assert labels == [0] * 4 + [1] * 4 + [2] * 4
    # a threshold above what the group members share splits them
    assert len(set(cluster(vectors @ vectors.T, threshold=0.999))) == 12
    assert cluster(np.zeros((0, 0))) == [] and cluster(np.ones((1, 1))) == [0]


def one_kb() -> KnowledgeBase:
    """Three entries of a shop's FAQ, searched with the bot's own (default) embedder."""
    entries = [Entry("huy-don", "don-hang", "Làm sao để hủy đơn hàng?", ["tôi muốn hủy đơn hàng vừa đặt"],
                     "Bạn vào Đơn hàng, chọn Hủy."),
               Entry("doi-size", "doi-tra", "Có đổi size áo được không?", ["áo chật muốn đổi size"],
                     "Được, trong 7 ngày."),
               Entry("phi-ship", "giao-hang", "Phí giao hàng bao nhiêu?", ["phí ship bao nhiêu"],
                     "30.000đ.")]
    settings = load_settings()
    return KnowledgeBase.from_entries(entries, settings={
        **settings, "embedder": DEFAULT_EMBEDDER, "kb": {**settings["kb"], "decision": {"calibrated": False}}})


def test_one_question_typed_with_accents_without_and_in_teencode_is_one_group():
    """The bot's own embedder and the search's text forms, centred on the FAQ, at the default
    threshold."""
    kb = one_kb()
    messages = ["mình muốn hủy đơn hàng", "minh muon huy don hang", "mk mún hủy đơn hàng ạ",
                "áo chật đổi size được không", "ao chat doi size dc ko",
                "phí ship về Huế bao nhiêu", "phi ship ve hue bn"]
    vectors = message_vectors(kb, messages)
    assert cluster(similarity(vectors, messages, centre=faq_centre(kb))) == [0, 0, 0, 1, 1, 2, 2]
    # the lexical part reads the diacritic-free, abbreviation-expanded terms
    lexical = similarity(vectors, messages, lexical_weight=1.0)
    assert lexical[3, 4] == pytest.approx(1.0) and lexical[0, 3] == 0.0


@pytest.mark.parametrize("messages, groups", [
    (["phí ship về Huế bao nhiêu", "phi ship ve hue bn"], [0, 0]),
    (["mình muốn hủy đơn hàng", "ao chat doi size dc ko"], [0, 1]),
])
def test_a_selection_of_two_messages_is_grouped_by_what_they_ask(messages, groups):
    """The centre is the FAQ's, not the selection's: the mean of two messages would set
    them opposite, and a day with two failed turns would never show one group."""
    kb = one_kb()
    vectors = message_vectors(kb, messages)
    assert cluster(similarity(vectors, messages, centre=faq_centre(kb))) == groups
