"""The Rasa server's action endpoint when nothing listens at the action server's address
(bot/channels/action_fallback.py): a real refused connection, a real ticket database."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
from rasa.utils.endpoints import EndpointConfig

from bot.channels.action_fallback import APOLOGY, ActionServerFallback
from bot.stack import free_port
from tests.unit.test_actions import bot, tickets, user  # noqa: F401 - the fixture

DOWN = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook", token="s3cret")


def call(action, events, slots=None, sender="khach-1"):
    return {"next_action": action, "sender_id": sender, "version": "3.6",
            "tracker": {"sender_id": sender, "slots": slots or {"language": "vi"},
                        "events": events, "latest_input_channel": "widget",
                        "latest_message": next((e["parse_data"] for e in reversed(events)
                                                if e["event"] == "user"), {})}}


def request(body):
    return asyncio.run(ActionServerFallback.of(DOWN).request(json=body, method="post"))


def test_an_unreachable_action_server_gives_an_apology_and_a_ticket_with_the_transcript(tickets):
    events = [user("xin chào"), bot("Xin chào! ..."), user("đơn DH12345 của mình giao chưa?", entities=[{"entity": "order_id", "value": "DH12345"}])]
    answer = request(call("action_answer_question", events))
    assert answer["events"] == []
    [said] = answer["responses"]
    assert said["response"] == APOLOGY
    ticket = tickets.get(said["ticket"])
    assert ticket.reason == "bot_unavailable" and ticket.channel == "widget"
    assert ticket.language == "vi" and ticket.order_id == "DH12345"
    assert [l["text"] for l in ticket.transcript if l["role"] == "customer"] == \
        ["xin chào", "đơn DH12345 của mình giao chưa?"]


def test_one_apology_per_message_however_many_actions_fail(tickets):
    events = [user("how do I return an item")]
    first = request(call("action_answer_question", events, {"language": "en"}))
    apology = bot("Sorry ...", utter_action=APOLOGY, **{"handoff": first["responses"][0]["handoff"]})
    assert request(call("action_fallback", events + [apology]))["responses"] == []
    # the next message, still without an action server, is apologised for again
    again = request(call("action_answer_question", events + [apology, user("hello?")]))
    assert again["responses"][0]["ticket"] == first["responses"][0]["ticket"]  # the same ticket
    assert tickets.get(first["responses"][0]["ticket"]).language == "en"


def test_a_new_session_starts_without_the_action_server(tickets):
    answer = request(call("action_session_start", [], {"language": "en", "rating": None}))
    assert answer == {"responses": [], "events": [
        {"event": "session_started"}, {"event": "slot", "name": "language", "value": "en"},
        {"event": "action", "name": "action_listen"}]}
    assert tickets.latest_ticket_for("khach-1") is None


def test_other_requests_still_fail_as_before():
    with pytest.raises(aiohttp.ClientConnectionError):
        asyncio.run(ActionServerFallback.of(DOWN).request(method="get", subpath="health"))
