"""Agent assist: on a ticket, the FAQ entries matching the customer's latest message, with
scores and the answer in the ticket's language, found by the bot's own search (two topics
of the shipped FAQ, the bundled embedder); roles, unknown tickets, no good match."""
from __future__ import annotations

import logging
import unicodedata

import pytest

from bot.kb import service
from tests.console.conftest import PASSWORD


@pytest.fixture
def console(assist_console):
    """Every console of this module searches the FAQ (tests/console/conftest.py)."""
    return assist_console


def ticket_for(store, rasa, cid, *messages, language="vi"):
    for text in messages:
        rasa.add_user_message(cid, text, intent="ask_question", confidence=0.5)
        rasa.add_bot_message(cid, "Mình chưa chắc, bạn chờ nhân viên nhé.")
    return store.create(cid, "low_confidence", [], channel="socketio", language=language).id


def suggestions(client, console, ticket_id):
    reply = client.get(f"{console.url}/api/tickets/{ticket_id}/suggestions", timeout=60)
    assert reply.status_code == 200, reply.text
    return reply.json()


def entry_answer(assist_kb, entry_id, language):
    return service.get_knowledge_base(assist_kb).get(entry_id).answer(language)


FEE = "shipping-fee"


@pytest.mark.parametrize("message, expected", [
    ("Phí ship về Hà Nội bao nhiêu vậy shop?", FEE),  # diacritics
    ("phi ship ve ha noi bao nhieu vay shop", FEE),  # none
    (unicodedata.normalize("NFD", "phí ship về hà nội bao nhiêu"), FEE),  # decomposed (a Mac)
    ("quên pass tk r ad ơi", "account-forgot-password"),  # teencode
    ("đổi sdt trong tk dc ko ad", "account-update-info"),
])
def test_the_best_entry_for_the_customers_latest_message_with_its_vietnamese_answer(
        console, agent, store, rasa, assist_kb, message, expected):
    ticket_id = ticket_for(store, rasa, "vi-1", "cho mình hỏi chút", message)
    found = suggestions(console.login("lan"), console, ticket_id)
    assert found["message"]["text"] == message  # the latest one, not the greeting
    assert found["language"] == "vi"
    top = found["suggestions"][0]
    assert top["entry_id"] == expected, found
    assert top["answer"] == entry_answer(assist_kb, expected, "vi")
    assert top["answer_language"] == "vi"
    assert top["score"] >= found["floor"] > 0
    scores = [s["score"] for s in found["suggestions"]]
    assert scores == sorted(scores, reverse=True) and len(scores) <= 3


def test_an_english_ticket_gets_the_english_answer(console, agent, store, rasa, assist_kb):
    ticket_id = ticket_for(store, rasa, "en-1", "hi, I forgot my password, how do I log in?",
                           language="en")
    found = suggestions(console.login("lan"), console, ticket_id)
    top = found["suggestions"][0]
    assert top["entry_id"] == "account-forgot-password"
    assert top["answer"] == entry_answer(assist_kb, top["entry_id"], "en")
    assert top["answer"].startswith("On the login screen tap Forgot password")
    assert top["answer_language"] == "en" and found["language"] == "en"


@pytest.mark.parametrize("message, language", [
    ("cách nấu phở bò ngon", "vi"), ("ke chuyen cuoi di ban oi", "vi"),
    ("who won the world cup", "en")])
def test_no_good_match_shows_nothing_and_says_how_close_it_came(console, agent, store, rasa,
                                                                message, language):
    ticket_id = ticket_for(store, rasa, "off-1", "phí ship bao nhiêu", message,
                           language=language)
    found = suggestions(console.login("lan"), console, ticket_id)
    assert found["message"]["text"] == message
    assert found["suggestions"] == [] and found["decision"] == "abstain"
    assert 0 <= found["best"] < 0.5


def test_a_new_customer_message_gets_its_own_suggestions(console, agent, store, rasa):
    ticket_id = ticket_for(store, rasa, "vi-2", "quên mật khẩu đăng nhập")
    lan = console.login("lan")
    assert suggestions(lan, console, ticket_id)["suggestions"][0]["entry_id"] == \
        "account-forgot-password"
    rasa.add_user_message("vi-2", "à mà phí ship về hà nội bao nhiêu")
    rasa.add_user_message("vi-2", '/rate{"rating": "5"}', intent="rate")  # a button: skipped
    assert suggestions(lan, console, ticket_id)["suggestions"][0]["entry_id"] == FEE


def test_without_a_customer_message_there_is_nothing_to_search(console, agent, store):
    ticket_id = store.create("empty-1", "request_human", [], channel="socketio").id
    found = suggestions(console.login("lan"), console, ticket_id)
    assert found["message"] is None and found["suggestions"] == []


def test_only_roles_that_reply_get_suggestions(console, agent, store, rasa, caplog):
    ticket_id = ticket_for(store, rasa, "vi-3", "phí ship bao nhiêu")
    url = f"{console.url}/api/tickets/{ticket_id}/suggestions"
    assert console.client().get(url, timeout=10).status_code == 401  # no session
    console.users.add_user("bien", PASSWORD, "editor")
    refused = console.login("bien").get(url, timeout=10)
    assert refused.status_code == 403
    assert "This role does not work tickets" in refused.json()["error"]
    lan = console.login("lan")
    missing = lan.get(f"{console.url}/api/tickets/99999/suggestions", timeout=10)
    assert missing.status_code == 404 and "No such ticket" in missing.json()["error"]
    console.users.add_user("truong", PASSWORD, "lead")
    assert console.login("truong").get(url, timeout=60).status_code == 200


def test_an_unusable_faq_is_a_clear_503(console, agent, store, rasa, monkeypatch, caplog):
    caplog.set_level(logging.ERROR, logger="bot.console")
    ticket_id = ticket_for(store, rasa, "vi-4", "phí ship bao nhiêu")

    def broken(settings):
        raise service.KnowledgeBaseUnavailable("no usable FAQ index")

    monkeypatch.setattr("bot.console.assist.get_knowledge_base", broken)
    reply = console.login("lan").get(f"{console.url}/api/tickets/{ticket_id}/suggestions",
                                     timeout=10)
    assert reply.status_code == 503
    assert "The FAQ cannot be searched right now" in reply.json()["error"]
    assert f"FAQ suggestions for ticket #{ticket_id} failed" in caplog.text
