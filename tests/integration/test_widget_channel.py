"""The widget's channel on the real Rasa server (bot/channels/widget.py): its files, its
checks on what arrives over the socket, the history a reload shows, and 1,000 hostile
socket payloads and history requests."""
from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
from hypothesis import given, strategies as st

from tests.conftest import Customer, SocketCustomer, rasa_log, wait_log_count
from tests.fuzzing import EXAMPLES, FUZZ_SETTINGS, hostile_text, json_values

REJECTED = "widget: rejected a message"


@pytest.fixture
def tab(stack):
    """A browser tab's socket: what the widget script does, in Python."""
    opened = SocketCustomer(stack)
    yield opened
    opened.close()


def history(stack, session_id: str) -> requests.Response:
    return requests.get(f"{stack.rasa_url}/webhooks/widget/history",
                        params={"session_id": session_id}, timeout=30)


def test_script_and_demo_page_are_served(stack):
    script = requests.get(f"{stack.rasa_url}/webhooks/widget/hotro-widget.js", timeout=30)
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    assert "innerHTML" not in script.text  # message text is only ever set as text
    demo = requests.get(f"{stack.rasa_url}/webhooks/widget/demo", timeout=30)
    assert demo.status_code == 200 and "/webhooks/widget/hotro-widget.js" in demo.text


def test_a_new_or_invalid_session_id_gets_a_fresh_random_one(stack):
    first, forged = SocketCustomer(stack), SocketCustomer(stack, session_id="../../conversations/admin")
    try:
        for opened in (first, forged):
            assert len(opened.session_id) == 32 and int(opened.session_id, 16) >= 0
        assert first.session_id != forged.session_id
        again = SocketCustomer(stack, session_id=first.session_id)  # a reload keeps its session
        assert again.session_id == first.session_id
        again.close()
    finally:
        first.close()
        forged.close()


S = "<the tab's session id>"


@pytest.mark.parametrize("payload,code", [
    ("just a string", "bad_request"),
    ({"message": "xin chào"}, "no_session"),
    ({"session_id": "sock-123", "message": "xin chào"}, "no_session"),
    ({"session_id": S, "message": 42}, "bad_request"),
    ({"session_id": S, "message": "   "}, "empty"),
    ({"session_id": S, "message": "a" * 4001}, "too_long"),
    ({"session_id": S, "message": "xin chào", "customData": "x"}, "bad_request"),
    ({"session_id": S, "message": "xin chào", "customData": ["x"]}, "bad_request"),
    ({"session_id": S, "message": "xin chào", "customData": {"client_id": ["x"]}},
     "bad_request"),
    ({"session_id": S, "message": "xin chào", "customData": {"note": "x" * 9000}},
     "bad_request"),
])
def test_bad_messages_get_a_clear_error_and_a_log_line(stack, tab, payload, code):
    if isinstance(payload, dict):
        payload = {k: tab.session_id if v == S else v for k, v in payload.items()}
    before = rasa_log(stack).count(REJECTED)
    ack = tab.client.call("user_uttered", payload, timeout=30)
    assert ack == {"ok": False, "error": code}
    deadline = time.monotonic() + 10
    while not tab.errors:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert tab.errors[0]["code"] == code and " / " in tab.errors[0]["text"]  # vi / en
    assert tab.received == []  # the bot never read it
    wait_log_count(stack, REJECTED, before + 1)  # and logged


def test_a_message_sent_again_after_a_reconnect_is_answered_once(stack, tab):
    client_id = uuid.uuid4().hex
    assert tab.say("xin chào", client_id=client_id) == {"ok": True}
    answers = len(tab.received)
    assert answers >= 1
    # The network dropped before the ack arrived: the widget re-sends from a new socket.
    again = SocketCustomer(stack, session_id=tab.session_id)
    try:
        assert again.say("xin chào", client_id=client_id) == {"ok": True, "duplicate": True}
        time.sleep(1)
        assert len(again.received) == 0 and len(tab.received) == answers
        user_turns = [m for m in history(stack, tab.session_id).json()["messages"]
                      if m["role"] == "customer"]
        assert [m["text"] for m in user_turns] == ["xin chào"]
    finally:
        again.close()


def test_a_flooding_tab_is_told_to_slow_down_and_other_customers_are_answered(stack, tab):
    from bot.limits import SENDER_BURST

    # A script on five sockets of one session, none waiting for an answer: the socket.io
    # server may take one socket's events one at a time, five sockets at once still flood.
    tabs = [tab] + [SocketCustomer.resume(stack, tab.session_id) for _ in range(4)]
    try:
        for i in range(2 * SENDER_BURST // len(tabs) + 1):
            for n, each in enumerate(tabs):
                each.send(f"tin nhắn số {i}.{n}")
        deadline = time.monotonic() + 120
        while not (errors := [e for t in tabs for e in t.errors if e.get("code") == "too_fast"]):
            assert time.monotonic() < deadline, [t.errors for t in tabs]
            time.sleep(0.1)
    finally:
        for each in tabs[1:]:
            each.close()
    refusal = errors[0]
    assert "nhanh quá" in refusal["text"] and "faster than I can read" in refusal["text"]
    other = SocketCustomer(stack)
    try:
        assert other.say("xin chào") == {"ok": True} and other.received
    finally:
        other.close()


def test_history_shows_what_the_customer_saw(stack, tab):
    tab.say("phi ship bao nhieu vay shop")
    tab.say("/request_human", title="Gặp nhân viên / Talk to a person")
    requests.post(f"{stack.rasa_url}/conversations/{tab.session_id}/tracker/events",
                  params={"output_channel": "latest", "execute_side_effects": "true"},
                  json=[{"event": "bot", "text": "Chào bạn, mình là Lan.",
                         "metadata": {"agent": "lan", "agent_name": "Nguyễn Thị Lan"}}],
                  timeout=30).raise_for_status()
    # The live reply is Rasa's {"text"}; its hotro_meta carries the agent's name and a time.
    deadline = time.monotonic() + 30
    while not any(m.get("agent_name") for m in tab.meta):
        assert time.monotonic() < deadline, (tab.received, tab.meta)
        time.sleep(0.1)
    index = next(i for i, m in enumerate(tab.meta) if m.get("agent_name"))
    assert tab.received[index] == {"text": "Chào bạn, mình là Lan."}
    assert tab.meta[index]["agent_name"] == "Nguyễn Thị Lan" and tab.meta[index]["time"] > 0

    reply = history(stack, tab.session_id)
    assert reply.status_code == 200
    # Widgets on other sites may read it (hotro run starts Rasa with --cors "*").
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    messages = reply.json()["messages"]
    assert [m["role"] for m in messages][:2] == ["customer", "bot"]
    assert "20.000đ" in messages[1]["text"]
    assert messages[2] == {"role": "customer", "text": "Gặp nhân viên / Talk to a person",
                           "time": messages[2]["time"]}  # the button's title, not "/request_human"
    assert messages[-1]["role"] == "agent" and messages[-1]["agent_name"] == "Nguyễn Thị Lan"
    # Nothing internal reaches the customer's browser.
    assert not {"intent", "confidence", "faq", "parse_data"} & {k for m in messages for k in m}


def test_history_is_only_for_widget_sessions(stack):
    rest_customer = Customer(stack, sender=uuid.uuid4().hex)  # a 32-hex id on another channel
    rest_customer.say("xin chào")
    assert history(stack, rest_customer.sender).json() == {"messages": []}
    assert history(stack, uuid.uuid4().hex).json() == {"messages": []}  # nobody yet
    bad = history(stack, "' OR 1=1 --")
    assert bad.status_code == 400 and " / " in bad.json()["error"]


@st.composite
def socket_payloads(draw: Any) -> Any:
    """Hostile user_uttered payloads; about one in twelve is a well-formed message with
    hostile text, which the bot must answer (NLU runs: they cost time)."""
    kind = draw(st.sampled_from(["any"] * 3 + ["shaped"] * 8 + ["valid"]))
    if kind == "any":
        return draw(json_values)
    if kind == "valid":
        text = draw(hostile_text.filter(lambda t: t.strip() and len(t) <= 4000))
        return {"session_id": FUZZ_SESSION, "message": text}
    return draw(st.fixed_dictionaries({}, optional={
        "session_id": st.one_of(st.just(FUZZ_SESSION), json_values,
                                st.from_regex(r"\A[0-9a-f]{30,34}\Z")),
        "message": st.one_of(hostile_text, json_values),
        "customData": st.one_of(json_values, st.fixed_dictionaries({}, optional={
            "client_id": st.one_of(hostile_text, json_values),
            "title": st.one_of(hostile_text, json_values)}))}))


FUZZ_SESSION = uuid.uuid4().hex


def test_fuzz_the_widget_socket_and_history(stack, tab):
    counts = {"payloads": 0, "refused": 0, "answered": 0, "history": 0}
    refused_before = rasa_log(stack).count(REJECTED)
    tab.client.emit("session_request", {"session_id": FUZZ_SESSION})
    session = requests.Session()

    @FUZZ_SETTINGS
    @given(socket_payloads(), st.one_of(hostile_text, st.from_regex(r"\A[0-9a-f]{32}\Z")))
    def hit(payload: Any, history_id: str) -> None:
        ack = tab.client.call("user_uttered", payload, timeout=60)
        counts["payloads"] += 1
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (ack, payload)
        counts["answered" if ack["ok"] else "refused"] += 1
        reply = session.get(f"{stack.rasa_url}/webhooks/widget/history",
                            params={"session_id": history_id}, timeout=30)
        counts["history"] += 1
        # 413: Sanic itself refuses a request line over its limit (8 kB)
        assert reply.status_code in (200, 400, 413), (reply.status_code, reply.text[:300])

    started = time.monotonic()
    hit()
    counts["seconds"] = round(time.monotonic() - started)
    print("widget fuzz:", counts)
    assert counts["payloads"] >= EXAMPLES and counts["history"] >= EXAMPLES
    assert counts["refused"] > EXAMPLES // 2 and counts["answered"] > 30, counts
    expected = refused_before + counts["refused"]
    assert wait_log_count(stack, REJECTED, expected) == expected  # each one logged
    # Still up, and a new customer still gets an answer.
    fresh = SocketCustomer(stack)
    try:
        assert fresh.say("xin chào") == {"ok": True} and fresh.received
    finally:
        fresh.close()


def test_a_message_refused_as_too_fast_is_handled_when_sent_again_with_its_id(stack, tab):
    """A client that sends a refused message again with the same client_id (as a web
    client's outbox does) gets it handled, not dropped as a message already handled."""
    from bot.limits import SENDER_BURST

    question = "phí ship bao nhiêu vậy shop"
    tabs = [tab] + [SocketCustomer.resume(stack, tab.session_id) for _ in range(4)]
    late = SocketCustomer.resume(stack, tab.session_id)
    try:
        for _ in range(2 * SENDER_BURST // len(tabs) + 1):
            for each in tabs:
                # never a failed turn: two failures hand over, and with an agent online the
                # bot goes quiet ("tin nhắn số 0.1" did so in a CI run)
                each.send("👍")
        for attempt in range(10):  # the first the limit refuses (the flood spends it)
            client_id = f"late-{attempt}"
            if late.say(question, client_id=client_id) == {"ok": False, "error": "too_fast"}:
                break
        else:
            pytest.fail("the limit never refused the message")
        time.sleep(2)  # the limit lets one more through each second
        assert late.say(question, client_id=client_id) == {"ok": True}
        late.wait_for("20.000đ")
    finally:
        for each in tabs[1:] + [late]:
            each.close()
