"""Handing a conversation to a person, through the real Rasa and action servers."""
from __future__ import annotations

import time

import pytest
import requests
import yaml

from bot.handoff.store import RESOLVED, TicketStore


@pytest.fixture(scope="session")
def tickets(stack_settings) -> TicketStore:
    settings = yaml.safe_load(stack_settings.read_text(encoding="utf-8"))
    return TicketStore(settings["handoff"]["database_url"])


@pytest.fixture
def no_agent_online(tickets):
    with tickets.session() as session, session.begin():
        session.execute(__import__("sqlalchemy").text("DELETE FROM agent_presence"))
    yield


def wait_ticket(tickets, conversation_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ticket = tickets.latest_ticket_for(conversation_id)
        if ticket:
            return ticket
        time.sleep(0.2)
    raise AssertionError(f"no ticket for {conversation_id}")


def test_request_with_nobody_online_queues_a_ticket_and_takes_a_callback_number(
        customer, tickets, no_agent_online):
    customer.say("chào shop")
    customer.say("phí ship về hà nội bao nhiêu vậy shop")
    reply = customer.says_text("cho tôi gặp nhân viên")
    assert "chưa có nhân viên trực tuyến" in reply and "số điện thoại" in reply
    ticket = tickets.latest_ticket_for(customer.sender)
    assert ticket.reason == "request_human" and ticket.status == "waiting"
    assert f"#{ticket.id}" in reply
    # The whole conversation so far, with intents, confidences and FAQ scores.
    lines = ticket.transcript
    assert [l["text"] for l in lines if l["role"] == "customer"] == [
        "chào shop", "phí ship về hà nội bao nhiêu vậy shop", "cho tôi gặp nhân viên"]
    faq_line = lines[2]
    assert faq_line["intent"] == "ask_question" and 0 < faq_line["confidence"] <= 1
    assert faq_line["faq"]["entry_id"] == "shipping-fee" and faq_line["faq"]["score"] > 0
    assert any(l["role"] == "bot" and "20.000đ" in l["text"] for l in lines)
    # The bot stays with the customer and takes a number for the call-back.
    assert "chưa đúng" in customer.says_text("số mình là 12345")
    assert "0912345678" in customer.says_text("sdt của mình là 0912 345 678")
    assert tickets.get(ticket.id).contact == "0912345678"


def test_english_request_is_answered_in_english(customer, tickets, no_agent_online):
    customer.say("hello, I have a question")
    reply = customer.says_text("I want to talk to a real person")
    assert "No support agent is online" in reply
    assert tickets.latest_ticket_for(customer.sender).language == "en"


def test_agent_takes_over_and_hands_back(socket_customer, tickets, stack):
    tickets.touch_agent("lan")  # an agent is in the console
    socket_customer.send("xin chào")
    socket_customer.wait_for("Xin chào")
    socket_customer.send("cho mình gặp nhân viên với")
    socket_customer.wait_for("đã chuyển bạn đến nhân viên")
    ticket = wait_ticket(tickets, socket_customer.session_id)
    conversation = f"{stack.rasa_url}/conversations/{socket_customer.session_id}"

    # While a person owns the conversation the bot is silent, and messages are recorded.
    before = len(socket_customer.received)
    socket_customer.send("đơn hàng của mình bị giao sai màu")
    time.sleep(3)
    assert len(socket_customer.received) == before
    events = requests.get(f"{conversation}/tracker", timeout=30).json()["events"]
    last_user = [e for e in events if e["event"] == "user"][-1]
    assert "sai màu" in last_user["text"]
    assert events[-1]["event"] != "bot"

    # The agent's reply reaches the customer on their channel and joins the tracker.
    requests.post(f"{conversation}/tracker/events?output_channel=latest"
                  "&execute_side_effects=true", timeout=30, json=[{
                      "event": "bot", "text": "Chào bạn, mình là Lan, mình đổi hàng cho bạn nhé.",
                      "metadata": {"agent": "lan"}}]).raise_for_status()
    socket_customer.wait_for("mình là Lan")

    # Resolved: the bot resumes and asks for a rating, which is kept.
    tickets.resolve(ticket.id)
    requests.post(f"{conversation}/tracker/events", json=[{"event": "resume"}],
                  timeout=30).raise_for_status()
    requests.post(f"{conversation}/execute?output_channel=latest",
                  json={"name": "utter_ask_rating"}, timeout=30).raise_for_status()
    question = socket_customer.wait_for("chấm giúp shop")
    assert [b["payload"] for b in question["quick_replies"]][-1] == '/rate{"rating": "5"}'
    socket_customer.send('/rate{"rating": "5"}')
    socket_customer.wait_for("Cảm ơn bạn đã đánh giá")
    assert tickets.ratings(socket_customer.session_id) == [5]
    assert tickets.get(ticket.id).status == RESOLVED
