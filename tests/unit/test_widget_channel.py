"""The widget channel's wire format against Rasa 3.6's own socket.io channel: the same
bot_uttered payloads, hotro's extras in a separate event, Rasa's metadata_key, and a
message-less open (bot/channels/widget.py)."""
from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any, Dict, List, Tuple

import pytest
from rasa.core.channels.socketio import SocketIOOutput
from rasa.shared.core.events import BotUttered

from bot.channels.widget import (META_EVENT, Incoming, WidgetInput, WidgetOutput,
                                 history_of, read_message)

SESSION = uuid.uuid4().hex


class RecordingServer:
    """Stands in for socketio.AsyncServer: records what would go on the wire."""

    def __init__(self) -> None:
        self.sent: List[Tuple[str, Any, str]] = []

    async def emit(self, event: str, data: Any = None, room: str = "", **_: Any) -> None:
        self.sent.append((event, data, room))
        await asyncio.sleep(0)  # a real emit may let another task run


def sent_by(output_class, event: BotUttered) -> List[Tuple[str, Any, str]]:
    server = RecordingServer()
    output = output_class(server, "bot_uttered")
    asyncio.run(output.send_response(SESSION, event.message()))
    return server.sent


REPLIES = [
    BotUttered("Phí ship 20.000đ."),
    BotUttered("Đoạn một.\n\nĐoạn hai.\n\nĐoạn ba."),
    BotUttered("Bạn muốn gặp nhân viên không?",
               {"buttons": [{"title": "Có", "payload": "/request_human"},
                            {"title": "Không", "payload": "/deny"}]}),
    BotUttered("Đoạn một.\n\nChọn nhé:",
               {"quick_replies": [{"title": "5 ★", "payload": '/rate{"rating": "5"}'}]}),
    BotUttered("Ảnh đây", {"image": "https://shop.example/a.png"}),
    BotUttered(None, {"attachment": {"type": "file", "payload": {"src": "x"}}}),
    BotUttered("Chào bạn, mình là Lan.", metadata={"agent": "lan", "agent_name": "Lan"}),
]


@pytest.mark.parametrize("event", REPLIES, ids=lambda e: (e.text or "attachment")[:20])
def test_bot_uttered_is_exactly_what_rasas_socketio_output_sends(event):
    rasa = sent_by(SocketIOOutput, event)
    ours = [sent for sent in sent_by(WidgetOutput, event) if sent[0] != META_EVENT]
    assert ours == rasa and rasa


def test_hotro_meta_comes_just_before_each_bot_uttered_it_describes():
    bot = BotUttered("Một.\n\nHai.", timestamp=1700000000.5)
    sent = sent_by(WidgetOutput, bot)
    assert [s[0] for s in sent] == [META_EVENT, "bot_uttered"] * 2
    assert sent[0][1] == {"time": 1700000000.5} and sent[0][2] == SESSION
    agent = BotUttered("Mình là Lan.", metadata={"agent": "lan", "agent_name": "Nguyễn Thị Lan"},
                       timestamp=1700000001.0)
    assert sent_by(WidgetOutput, agent)[0] == (
        META_EVENT, {"time": 1700000001.0, "agent_name": "Nguyễn Thị Lan"}, SESSION)
    named_by_id = BotUttered("Mình là Lan.", metadata={"agent": "lan"}, timestamp=1.0)
    assert sent_by(WidgetOutput, named_by_id)[0][1]["agent_name"] == "lan"


def test_a_meta_and_its_message_stay_together_when_two_replies_go_at_once():
    server = RecordingServer()
    lock = asyncio.Lock()

    async def both() -> None:
        bot, agent = WidgetOutput(server, "bot_uttered", lock), WidgetOutput(server, "bot_uttered", lock)
        await asyncio.gather(
            bot.send_response(SESSION, BotUttered("Bot.\n\nBot 2.", timestamp=1.0).message()),
            agent.send_response(SESSION, BotUttered(
                "Agent.", metadata={"agent": "lan"}, timestamp=2.0).message()))

    asyncio.run(both())
    pairs = list(zip(server.sent[::2], server.sent[1::2]))
    assert len(pairs) == 3
    for meta, message in pairs:
        assert meta[0] == META_EVENT and message[0] == "bot_uttered"
        assert ("agent_name" in meta[1]) == message[1]["text"].startswith("Agent")


def test_metadata_is_read_from_the_configured_key():
    data = {"session_id": SESSION, "message": "xin chào",
            "customData": {"plan": "gold", "client_id": "c1"}, "metadata": {"x": 1}}
    assert read_message(data, 4000, "customData") == Incoming(
        SESSION, "xin chào", {"plan": "gold", "client_id": "c1"})
    assert read_message(data, 4000, "metadata").metadata == {"x": 1}  # Rasa's default key
    as_json = {"session_id": SESSION, "message": "hi", "customData": '{"plan": "gold"}'}
    assert read_message(as_json, 4000, "customData").metadata == {"plan": "gold"}
    assert read_message({"session_id": SESSION, "message": "hi"}, 4000, "customData").metadata == {}


@pytest.mark.parametrize("custom", ["not json", "[1, 2]", [1], 7, {"client_id": 5},
                                    {"title": "t" * 201}, {"big": "x" * 9000},
                                    {"score": math.nan}, "[" * 100000])
def test_bad_custom_data_is_refused(custom):
    data = {"session_id": SESSION, "message": "xin chào", "customData": custom}
    assert read_message(data, 4000, "customData") == "bad_request"


def test_a_message_less_open_is_neither_an_error_nor_a_turn():
    for data in ({"session_id": SESSION}, {"session_id": SESSION, "message": None},
                 {"session_id": SESSION, "message": "", "customData": {"page": "/"}}):
        opened = read_message(data, 4000, "customData")
        assert isinstance(opened, Incoming) and opened.message is None
    assert read_message({"session_id": SESSION, "message": "  "}, 4000) == "empty"
    assert read_message({"message": "hi"}, 4000) == "no_session"  # an open needs a session


def test_history_splits_a_reply_as_the_socket_sent_it():
    events = [
        {"event": "user", "text": "hỏi", "timestamp": 1.0, "metadata": {"client_id": "c1"}},
        {"event": "bot", "text": "Một.\n\nHai.", "timestamp": 2.0, "metadata": {},
         "data": {"buttons": [{"title": "Gặp nhân viên", "payload": "/request_human"}]}},
        {"event": "bot", "text": None, "timestamp": 3.0, "metadata": {},
         "data": {"image": "https://shop.example/a.png"}},
    ]
    live = [s[1] for s in sent_by(WidgetOutput, BotUttered(
        "Một.\n\nHai.", {"buttons": [{"title": "Gặp nhân viên", "payload": "/request_human"}]}))
        if s[0] == "bot_uttered"]
    shown = history_of(events)
    assert [m["text"] for m in shown[1:]] == [m["text"] for m in live] == ["Một.", "Hai."]
    assert "buttons" not in shown[1] and shown[2]["buttons"] == [
        {"title": "Gặp nhân viên", "payload": "/request_human"}]
    assert shown[0] == {"role": "customer", "text": "hỏi", "time": 1.0, "client_id": "c1"}


def test_credentials_name_the_metadata_key():
    configured = WidgetInput.from_credentials({"metadata_key": "customData"})
    assert configured.metadata_key == "customData"
    default = WidgetInput.from_credentials({})
    assert default.metadata_key == "metadata"  # as Rasa's socketio channel
