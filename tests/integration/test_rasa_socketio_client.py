"""A Rasa web client pointed at hotro unchanged: a socket.io client written from Rasa's
documented protocol (session_request -> session_confirm, user_uttered {message,
session_id, customData} -> bot_uttered), not from hotro's widget. It knows no hotro
event and asks no acknowledgement.

python-socketio's client speaks long-polling here (its WebSocket transport needs the
websocket-client package, which hotro does not install); the WebSocket transport, the
one browsers use, is driven frame by frame with simple-websocket."""
from __future__ import annotations

import base64
import json
import os
import socket
import time
import uuid
from typing import Any, Dict, List, Optional

import pytest
import requests
import simple_websocket
import socketio

from tests.conftest import rasa_log

# What Rasa 3.6's socket.io output sends (rasa/core/channels/socketio.py).
TEXT = {"text"}
TEXT_WITH_BUTTONS = {"text", "quick_replies"}
QUICK_REPLY = {"content_type", "title", "payload"}


class RasaWebClient:
    """What rasa-webchat does on the wire, in Python."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.uttered: List[Dict[str, Any]] = []
        self.other_events: List[str] = []  # events a Rasa client has no handler for
        self.confirmed: List[str] = []
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", self.uttered.append)
        self.sio.on("session_confirm", self.confirmed.append)
        self.sio.on("*", lambda event, *args: self.other_events.append(event))
        self.sio.connect(stack.rasa_url, transports=["polling"], wait_timeout=30)
        self.sio.emit("session_request", {"session_id": None})
        wait_until(lambda: self.confirmed, "no session_confirm")
        self.session_id = self.confirmed[0]

    def utter(self, message: Optional[str], custom_data: Optional[Dict] = None,
              **extra: Any) -> None:
        payload: Dict[str, Any] = {"session_id": self.session_id,
                                   "customData": custom_data or {}, **extra}
        if message is not None:
            payload["message"] = message
        self.sio.emit("user_uttered", payload)

    def wait_for(self, test, what: str) -> Dict[str, Any]:
        found: List[Dict[str, Any]] = []
        wait_until(lambda: found.extend(m for m in self.uttered if test(m)) or found,
                   f"{what}; got {self.uttered!r}")
        return found[0]

    def tracker(self) -> Dict[str, Any]:
        reply = requests.get(f"{self.stack.rasa_url}/conversations/{self.session_id}/tracker",
                             timeout=30)
        reply.raise_for_status()
        return reply.json()

    def user_events(self) -> List[Dict[str, Any]]:
        return [e for e in self.tracker()["events"] if e["event"] == "user"]

    def close(self) -> None:
        self.sio.disconnect()


def wait_until(condition, message: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, message
        time.sleep(0.1)
    return result


@pytest.fixture
def client(stack):
    opened = RasaWebClient(stack)
    yield opened
    opened.close()


def test_replies_have_exactly_rasas_payload_shapes(client):
    assert len(client.session_id) == 32  # a string, as Rasa's session_confirm sends
    client.utter("xin chào")
    client.wait_for(lambda m: "Xin chào" in m.get("text", ""), "no greeting")
    client.utter("/bot_challenge")
    with_buttons = client.wait_for(lambda m: m.get("quick_replies"), "no quick replies")
    assert "/request_human" in [b["payload"] for b in with_buttons["quick_replies"]]

    for payload in client.uttered:
        assert set(payload) in (TEXT, TEXT_WITH_BUTTONS), payload
        assert isinstance(payload["text"], str) and payload["text"]
        for button in payload.get("quick_replies", []):
            assert set(button) == QUICK_REPLY and button["content_type"] == "text", button
    # hotro's extras travel in their own event, which a Rasa client never listens to.
    assert set(client.other_events) <= {"hotro_meta"}, client.other_events


def test_custom_data_reaches_the_trackers_user_event(client):
    """credentials.yml: metadata_key: customData, as rasa-webchat sends it."""
    client.utter("phí ship bao nhiêu vậy shop",
                 custom_data={"plan": "gold", "page": "/checkout", "cart": [1, 2]},
                 metadata={"not": "the configured key"})
    client.wait_for(lambda m: "20.000đ" in m.get("text", ""), "no FAQ answer")
    [user] = client.user_events()
    assert user["text"] == "phí ship bao nhiêu vậy shop"
    assert user["input_channel"] == "widget"
    assert {"plan": "gold", "page": "/checkout", "cart": [1, 2]}.items() <= \
        user["metadata"].items()
    assert "not" not in user["metadata"]
    # Rasa also accepts the custom data as a JSON string.
    client.utter("cảm ơn shop", custom_data=None, customData='{"plan": "silver"}')
    wait_until(lambda: len(client.user_events()) == 2, "second message not handled")
    assert client.user_events()[1]["metadata"]["plan"] == "silver"


def test_opening_the_chat_without_a_message_is_no_error_and_no_turn(stack, client):
    before = rasa_log(stack).count("rejected a message")
    client.utter(None, custom_data={"page": "/"})  # the client opens the chat window
    client.utter("", custom_data={"page": "/"})   # Rasa reads a missing message as ""
    time.sleep(2)
    assert client.other_events == [] and client.uttered == []  # no hotro_error, no reply
    assert client.user_events() == []
    assert rasa_log(stack).count("rejected a message") == before
    # The conversation then starts normally.
    client.utter("xin chào")
    client.wait_for(lambda m: "Xin chào" in m.get("text", ""), "no greeting")
    assert [e["text"] for e in client.user_events()] == ["xin chào"]


def chat_over_a_websocket(stack) -> None:
    """One Rasa conversation turn over the WebSocket transport, then a clean close:
    Engine.IO 4 packets (0 open, 4 message) carrying Socket.IO 5 ones (0 connect,
    2 event)."""
    ws = simple_websocket.Client(
        f"ws://127.0.0.1:{stack.rasa_port}/socket.io/?EIO=4&transport=websocket")

    def receive() -> str:
        packet = ws.receive(timeout=60)
        assert packet is not None, "nothing came over the WebSocket in 60 s"
        return packet

    try:
        assert receive().startswith("0{")
        ws.send("40")
        assert receive().startswith("40")
        ws.send('42["session_request",{"session_id":null}]')
        event, session_id = json.loads(receive()[2:])
        assert event == "session_confirm"
        ws.send("42" + json.dumps(["user_uttered", {"message": "xin chào",
                                                    "session_id": session_id}]))
        deadline = time.monotonic() + 90
        while True:
            assert time.monotonic() < deadline, "no bot_uttered over the WebSocket"
            packet = receive()
            if packet == "2":
                ws.send("3")  # ping -> pong
            elif packet.startswith("42") and json.loads(packet[2:])[0] == "bot_uttered":
                assert set(json.loads(packet[2:])[1]) in (TEXT, TEXT_WITH_BUTTONS)
                break
        ws.send("41")  # leave the namespace, as a client's disconnect() does
    finally:
        ws.close()


def drop_a_websocket(stack) -> None:
    """Open an engine.io WebSocket and cut the TCP connection, as a killed tab does."""
    port = stack.rasa_port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        key = base64.b64encode(os.urandom(16)).decode()
        raw.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                     f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                     f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        assert raw.recv(4096).startswith(b"HTTP/1.1 101")


def test_closing_sockets_logs_no_traceback(stack):
    log_before = len(rasa_log(stack))
    chat_over_a_websocket(stack)  # clients that say goodbye, on both transports
    polling = RasaWebClient(stack)
    polling.utter("xin chào")
    polling.wait_for(lambda m: "Xin chào" in m.get("text", ""), "no greeting")
    polling.close()
    drop_a_websocket(stack)  # and one that does not
    time.sleep(3)
    written = rasa_log(stack)[log_before:]
    assert "Traceback" not in written and "ERROR" not in written, written[-3000:]
    # The channel still serves new clients.
    fresh = RasaWebClient(stack)
    try:
        fresh.utter(f"xin chào {uuid.uuid4().hex[:4]}")
        fresh.wait_for(lambda m: m.get("text"), "no reply")
    finally:
        fresh.close()
