"""Once an agent has taken a ticket or replied, the bot is silent in that conversation,
whatever the hours, until the ticket is resolved: through the real Rasa server, action
server and console. (The handoff itself pauses the bot only when an agent is online in
office hours; outside them the console's take and reply pause it.)"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from bot.shop import REFRESH_SECONDS
from tests.integration.conftest import console_login, everyone_offline


@pytest.fixture(scope="session")
def hours_admin(stack, stack_settings):
    """An admin who closes the shop for the day (a holiday) in the console."""
    return console_login(stack, stack_settings, "quan-ly-gio", "admin")


def save_holidays(stack, admin, holidays):
    url = f"{stack.console_url}/api/admin/shop"
    version = admin.get(url, timeout=30).json()["version"]
    reply = admin.post(url, json={"version": version, "holidays": holidays}, timeout=30)
    assert reply.status_code == 200, reply.text
    time.sleep(REFRESH_SECONDS + 0.5)  # every process re-reads the profile by then


def age_last_message(stack, conversation_id, hours):
    """As if the customer had last written `hours` ago: a customer message with that age
    appended through Rasa's HTTP API (Rasa starts a new session after
    session_expiration_time, 60 minutes, since the last customer message)."""
    reply = requests.post(
        f"{stack.rasa_url}/conversations/{conversation_id}/tracker/events", timeout=30,
        json=[{"event": "user", "text": "(trước đó / earlier)", "input_channel": "socketio",
               "timestamp": time.time() - hours * 3600,
               "parse_data": {"intent": {"name": "greet", "confidence": 1.0},
                              "entities": []}}])
    assert reply.status_code == 200, reply.text


def transcript(agent, stack, ticket_id):
    return agent.get(f"{stack.console_url}/api/tickets/{ticket_id}",
                     timeout=30).json()["transcript"]


def wait_in_transcript(agent, stack, ticket_id, text, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        lines = transcript(agent, stack, ticket_id)
        if any(line["text"] == text for line in lines):
            return lines
        assert time.monotonic() < deadline, f"the agent never saw {text!r}"
        time.sleep(0.5)


def test_after_hours_the_agent_takes_and_replies_and_the_bot_stays_silent(
        stack, hours_admin, socket_customer, agent, wait_ticket):
    console = stack.console_url
    agent.get(f"{console}/", timeout=30).raise_for_status()  # the agent is in the console
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    # Around midnight the message may be read on the next day: both are holidays.
    save_holidays(stack, hours_admin, [today.isoformat(), (today + timedelta(1)).isoformat()])
    try:
        socket_customer.send("cho tôi gặp nhân viên")
        socket_customer.wait_for("ngoài giờ làm việc")  # out of hours: the bot is not paused
        ticket = wait_ticket(socket_customer.session_id)

        # Without a person, the bot still answers (it asks for a call-back number).
        socket_customer.say("phí ship về hà nội bao nhiêu vậy shop")
        socket_customer.wait_for("20.000đ")

        # The agent takes the ticket and replies, though the shop is closed.
        taken = agent.post(f"{console}/api/tickets/{ticket.id}/assign", json={}, timeout=30)
        assert taken.status_code == 200, taken.text
        agent.post(f"{console}/api/tickets/{ticket.id}/reply", timeout=30,
                   json={"text": "Chào bạn, mình là Lan, mình hỗ trợ bạn nhé."}
                   ).raise_for_status()
        socket_customer.wait_for("mình là Lan")

        # The customer's next message reaches the agent; the bot says nothing, not even
        # to a question it would answer from the FAQ.
        before = len(socket_customer.received)
        question = "phí ship về đà nẵng bao nhiêu vậy"
        socket_customer.say(question)  # acknowledged once Rasa has handled it
        lines = wait_in_transcript(agent, stack, ticket.id, question)
        time.sleep(3)
        assert socket_customer.received[before:] == []
        lines = transcript(agent, stack, ticket.id)
        after = [line for line in lines[[l["text"] for l in lines].index(question) + 1:]]
        assert [line for line in after if line["role"] == "bot"] == [], after

        # Still silent after a second message (the pause holds, not one turn).
        socket_customer.say("shop ơi còn đó không")
        wait_in_transcript(agent, stack, ticket.id, "shop ơi còn đó không")
        time.sleep(2)
        assert socket_customer.received[before:] == []

        # The customer comes back hours later (Rasa starts a new session, which would
        # clear the pause): the agent still has the conversation, the bot stays silent.
        age_last_message(stack, socket_customer.session_id, hours=3)
        back = "chào shop, mình quay lại rồi, phí ship về huế bao nhiêu"
        socket_customer.say(back)
        wait_in_transcript(agent, stack, ticket.id, back)
        time.sleep(2)
        assert socket_customer.received[before:] == []
        events = requests.get(f"{stack.rasa_url}/conversations/{socket_customer.session_id}"
                              "/tracker", timeout=30).json()["events"]
        assert "session_started" in [e["event"] for e in events]
    finally:
        save_holidays(stack, hours_admin, [])

    # Resolved: the bot is back, asks for a rating and answers again.
    agent.post(f"{console}/api/tickets/{ticket.id}/resolve", json={},
               timeout=30).raise_for_status()
    socket_customer.wait_for("chấm giúp shop")
    socket_customer.send("cảm ơn shop")
    socket_customer.wait_for("Không có gì")


def test_an_agent_who_sets_themselves_away_is_not_offered_to_customers(stack, agent,
                                                                       customer, tickets):
    """The availability toggle is what the handoff decision counts: with the only agent
    away (console still open), the customer is told nobody is online and asked for a
    call-back number, instead of being queued for a person who is not there."""
    console = stack.console_url
    everyone_offline(tickets)  # only this agent is in the console
    agent.get(f"{console}/", timeout=30).raise_for_status()
    away = agent.post(f"{console}/api/availability", json={"available": False}, timeout=30)
    assert away.json() == {"available": False, "online": 0}
    try:
        reply = customer.says_text("cho tôi gặp nhân viên")
        assert "chưa có nhân viên trực tuyến" in reply
    finally:
        agent.post(f"{console}/api/availability", json={"available": True},
                   timeout=30).raise_for_status()
    again = customer.__class__(stack)
    assert "đã chuyển bạn đến nhân viên" in again.says_text("cho tôi gặp nhân viên")


def test_handed_back_to_the_bot_it_answers_again(stack, agent, socket_customer, wait_ticket,
                                                 tickets):
    console = stack.console_url
    agent.get(f"{console}/", timeout=30).raise_for_status()  # an agent is online
    socket_customer.send("cho mình gặp nhân viên")
    socket_customer.wait_for("đã chuyển bạn đến nhân viên")  # in office hours: paused
    ticket = wait_ticket(socket_customer.session_id)
    agent.post(f"{console}/api/tickets/{ticket.id}/reply", timeout=30,
               json={"text": "Dạ bạn cần hỏi gì ạ?"}).raise_for_status()
    socket_customer.wait_for("bạn cần hỏi gì")
    back = agent.post(f"{console}/api/tickets/{ticket.id}/handback", json={}, timeout=30)
    assert back.status_code == 200, back.text
    assert tickets.get(ticket.id).status == "waiting"
    socket_customer.send("phí ship về hà nội bao nhiêu vậy shop")
    socket_customer.wait_for("20.000đ")  # the bot answers from the FAQ again
