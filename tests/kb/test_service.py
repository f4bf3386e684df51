"""The action server's view: replies in the customer's language, and hot reload."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.kb import service
from bot.kb.corpus import load_corpus
from bot.kb.index_store import build_index
from bot.nlg import ShopNaturalLanguageGenerator
from bot.settings import PROJECT_DIR

RESPONSES = __import__("yaml").safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))["responses"]


def shown(reply):
    """What the customer sees of a reply: action_answer_question's message as Rasa words it."""
    if not reply["response"]:
        return {"text": reply["text"], "buttons": []}
    out = ShopNaturalLanguageGenerator(responses=RESPONSES).generate_from_slots(
        reply["response"], {"language": reply["language"]}, "rest", choices=reply["choices"], **reply["values"])
    return {"text": out["text"], "buttons": out.get("buttons") or []}

EXTRA = """\
topic: returns
entries:
  - id: returns-policy
    question: Chính sách đổi trả của shop thế nào?
    phrasings:
      - đồ mua rồi có trả lại được không
      - doi tra hang trong bao lau
      - trả hàng trong mấy ngày vậy ad
      - what is your return policy
    answer:
      vi: "Bạn được đổi trả miễn phí trong 7 ngày kể từ khi nhận hàng."
      en: "You can return items for free within 7 days of delivery."
    tags: [returns]
"""


@pytest.fixture
def settings(tmp_path, corpus_dir, kb_settings):
    service.reset()
    kb = dict(kb_settings["kb"], corpus_dir=str(corpus_dir), index_dir=str(tmp_path / "index"))
    yield {"embedder": kb_settings["embedder"], "kb": kb}
    service.wait_for_reload({"embedder": kb_settings["embedder"], "kb": kb})
    service.reset()


def test_builds_a_missing_index_on_first_use(settings, tmp_path):
    assert not (tmp_path / "index").exists()
    kb = service.get_knowledge_base(settings)
    assert len(kb) == 4 and (tmp_path / "index" / "manifest.json").exists()
    assert service.get_knowledge_base(settings) is kb  # one per process


def test_answer_in_the_customers_language(settings):
    vi = service.answer("làm sao để hủy đơn hàng đã đặt", "vi", settings=settings)
    assert vi["kind"] == "answer" and vi["entry_id"] == "orders-cancel"
    assert shown(vi) == {"text": vi["text"], "buttons": []} and vi["text"].startswith("Khi đơn còn Chờ xác nhận")
    assert 0 < vi["score"] <= 1
    en = service.answer("how do I cancel my order", "en", settings=settings)
    assert en["kind"] == "answer" and en["text"].startswith("While the order is awaiting")


def test_english_falls_back_to_vietnamese(settings):
    reply = service.answer("can I get a VAT invoice for my company", "en", settings=settings)
    assert reply["kind"] == "answer" and reply["entry_id"] == "payment-vat-invoice"
    assert reply["text"].startswith("Bạn nhập mã số thuế") and reply["answer_language"] == "vi"
    by_id = service.answer_by_id("payment-vat-invoice", "en", settings=settings)
    assert by_id["kind"] == "answer" and by_id["text"] == reply["text"]
    assert service.answer_by_id("orders-track", "en", settings=settings)["text"].startswith("Open My orders")


def test_language_is_detected_when_not_given(settings):
    assert service.answer("how can I track my order", settings=settings)["language"] == "en"
    assert service.answer("đơn hàng của tôi đâu rồi", settings=settings)["language"] == "vi"


def test_suggestions_are_buttons_with_ask_question_payloads(settings):
    unsure = dict(settings, kb=dict(settings["kb"], answer_threshold=1.01, suggest_threshold=0.0,
                                    decision={"calibrated": False}))
    reply = service.answer("đơn hàng", "vi", settings=unsure)
    seen = shown(reply)
    assert reply["kind"] == "suggest" and seen["text"].startswith("Bạn muốn hỏi về")
    assert 1 <= len(seen["buttons"]) <= 3
    for button in seen["buttons"]:
        assert button["payload"].startswith("/ask_question{")
        faq_id = json.loads(button["payload"][len("/ask_question"):])["faq_id"]
        assert button["title"] == next(e.question for e in load_corpus(settings["kb"]["corpus_dir"]) if e.id == faq_id)
    en = service.answer("my order", "en", settings=unsure)
    assert shown(en)["text"].startswith("Did you mean") and shown(en)["buttons"][0]["title"].endswith("?")


def test_abstain_offers_a_person(settings):
    for text, lang in (("thời tiết hà nội hôm nay thế nào", "vi"), ("who won the world cup", "en")):
        reply = service.answer(text, lang, settings=settings)
        assert reply["kind"] == "abstain" and reply["entry_id"] is None
        seen = shown(reply)
        assert seen["text"].startswith({"vi": "Xin lỗi, mình chưa có câu trả lời", "en": "Sorry, I don't have"}[lang])
        assert seen["buttons"] == [{"title": {"vi": "Gặp nhân viên", "en": "Talk to a person"}[lang],
                                    "payload": "/request_human"}]
    assert service.answer("", "vi", settings=settings)["kind"] == "abstain"
    unknown = shown(service.answer_by_id("no-such-entry", "vi", settings=settings))
    assert unknown["text"].startswith("Xin lỗi, nội dung này không còn") and \
        unknown["buttons"][0]["payload"] == "/request_human"


def test_unavailable_knowledge_base_still_replies(tmp_path, kb_settings):
    service.reset()
    broken = {"embedder": kb_settings["embedder"],
              "kb": dict(kb_settings["kb"], corpus_dir=str(tmp_path / "empty"), index_dir=str(tmp_path / "ix"))}
    reply = service.answer("hủy đơn", "vi", settings=broken)
    assert reply["kind"] == "abstain" and "error" in reply and shown(reply)["buttons"][0]["payload"] == "/request_human"
    service.reset()


def test_reload_picks_up_a_new_index(settings, monkeypatch):
    old = service.get_knowledge_base(settings)
    assert old.get("returns-policy") is None
    corpus_dir = settings["kb"]["corpus_dir"]
    (Path(corpus_dir) / "returns.yml").write_text(EXTRA, encoding="utf-8")
    build_index(corpus_dir, settings["kb"]["index_dir"], settings["embedder"], progress=False)
    monkeypatch.setattr(service, "CHECK_INTERVAL", 0.0)
    deadline = time.monotonic() + 60
    new = service.get_knowledge_base(settings)  # starts the reload, still serves the old index
    while new is old and time.monotonic() < deadline:
        service.wait_for_reload(settings, timeout=5)
        new = service.get_knowledge_base(settings)
    assert new is not old and new.get("returns-policy") is not None
    assert service.answer("chính sách đổi trả thế nào", "vi", settings=settings)["entry_id"] == "returns-policy"
    # a request that still holds the old index finishes normally
    assert old.search("hủy đơn", k=1)[0].entry_id == "orders-cancel"


def test_a_broken_new_index_is_ignored(settings, monkeypatch):
    kb = service.get_knowledge_base(settings)
    manifest_path = Path(settings["kb"]["index_dir"]) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["data_dir"] = "v-missing"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(service, "CHECK_INTERVAL", 0.0)
    service.get_knowledge_base(settings)
    service.wait_for_reload(settings, timeout=30)
    assert service.get_knowledge_base(settings) is kb
    assert service.answer("hủy đơn hàng đã đặt", "vi", settings=settings)["kind"] in ("answer", "suggest")
