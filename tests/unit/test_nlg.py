"""Replies as Rasa words them through hotro's generator: domain.yml's texts in the
conversation's language, with the shop's own details and words."""
from __future__ import annotations

import dataclasses

import pytest
import yaml

from bot import nlg
from bot.settings import PROJECT_DIR
from bot.shop import shop_profile

RESPONSES = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))["responses"]


@pytest.fixture
def shop(monkeypatch):
    """The shop as an admin configured it; tests change it with shop.update(...)."""
    current = {"profile": dataclasses.replace(shop_profile(), name="Tiệm Bánh Mơ", hotline="0909 123 456")}
    monkeypatch.setattr(nlg, "shop_profile", lambda: current["profile"])

    class Shop:
        def update(self, **changes):
            current["profile"] = dataclasses.replace(current["profile"], **changes)
    return Shop()


def say(name, language="vi", **kwargs):
    return nlg.ShopNaturalLanguageGenerator(responses=RESPONSES).generate_from_slots(
        name, {"language": language}, "rest", **kwargs)


def test_the_greeting_names_the_shop_in_the_conversations_language(shop):
    assert say("utter_greet")["text"] == "Xin chào! Mình là trợ lý ảo của Tiệm Bánh Mơ. Mình có thể giúp gì cho bạn ạ?"
    assert say("utter_greet", "en")["text"].startswith("Hello! I'm the Tiệm Bánh Mơ virtual assistant.")
    assert say("utter_greet", "en")["language"] == "en"  # channels word their hints in it


def test_an_admins_own_greeting_and_out_of_hours_words_replace_the_defaults(shop):
    shop.update(greeting={"vi": "Chào bạn đến với {shop_name}! Gọi {hotline} nếu cần gấp nhé.", "en": ""},
                out_of_hours={"vi": "Shop nghỉ rồi, yêu cầu #{ticket} đã được ghi lại.", "en": ""})
    assert say("utter_greet")["text"] == "Chào bạn đến với Tiệm Bánh Mơ! Gọi 0909 123 456 nếu cần gấp nhé."
    assert say("utter_greet", "en")["text"].startswith("Hello!")  # no English words of their own: the default
    assert say("utter_handoff_closed", ticket=42)["text"] == "Shop nghỉ rồi, yêu cầu #42 đã được ghi lại."
    closed_en = say("utter_handoff_closed", "en", ticket=42)["text"]
    assert "request #42" in closed_en and "0909 123 456" in closed_en


def test_variables_from_the_action_are_filled(shop):
    queue = say("utter_handoff_queue", ticket=7, ahead=2, minutes=15)["text"]
    assert "#7" in queue and "2 khách đang chờ" in queue and "15 phút" in queue and "{" not in queue
    saved = say("utter_contact_saved", "en", contact="0912345678", ticket=7)["text"]
    assert saved == "Thank you! A person will contact you at 0912345678 (request #7)."


def test_suggested_questions_come_first_and_the_person_button_last(shop):
    choices = [{"title": "Phí ship bao nhiêu?", "payload": '/ask_question{"faq_id":"ship-fee"}'}]
    reply = say("utter_faq_suggest_with_person", choices=choices)
    assert [b["title"] for b in reply["buttons"]] == ["Phí ship bao nhiêu?", "Gặp nhân viên"]
    assert reply["buttons"][0]["payload"] == '/ask_question{"faq_id":"ship-fee"}'


def test_every_response_has_vietnamese_and_english(shop):
    for name, variations in RESPONSES.items():
        languages = {nlg.language_of({"language": (v.get("condition") or [{}])[0].get("value")}) for v in variations}
        assert languages == {"vi", "en"}, name
