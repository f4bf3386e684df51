"""The website chat widget's channel: Rasa's socket.io channel with its input checked,
plus the widget's script, a demo page and the conversation history, served by Rasa.

Socket.io (path /socket.io, events `session_request` / `session_confirm`,
`user_uttered` / `bot_uttered`) as Rasa's SocketIOInput, with these differences:
- a session id is 32 hex characters (a random uuid4, the widget's bearer secret); the
  server makes one when the widget has none or sends something else;
- a message must be a non-empty string of at most `max_message_chars`; anything else is
  answered with a `hotro_error` event in Vietnamese and English, logged, and acked
  `{"ok": false}`; a handled message is acked `{"ok": true}` after the bot has answered;
- the widget may send `metadata.client_id`; a message whose id was already handled in
  that session is not processed twice (the widget re-sends unacked messages after a
  reconnect). The handled ids are kept, bounded, in channels.db like Messenger's and
  Zalo's, so this holds across a restart;
- bot messages carry `time` and, for an agent's reply, `agent_name`.

HTTP, under /webhooks/widget/:
- `hotro-widget.js`, `demo`: the widget script and a demo page (files in widget/);
- `history?session_id=…`: the session's messages, for reloads, new tabs and reconnects.
"""
from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.catalogue import bilingual_text
from bot.channels.rest import DEFAULT_MAX_MESSAGE_CHARS
from bot.channels.webhook_base import ChannelStore, default_db_path

logger = logging.getLogger(__name__)

CHANNEL = "widget"
WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
SESSION_ID = re.compile(r"[0-9a-f]{32}")
MAX_CLIENT_ID_CHARS = 64
MAX_TITLE_CHARS = 200  # the title of a pressed button, shown in the history

def refusal(code: str, limit: int = 0) -> str:
    """Why the widget refuses a message (domain.yml's utter_refused_<code>), in both
    languages: it is refused before the conversation's language is known."""
    return bilingual_text(f"utter_refused_{code}", limit=limit)


def new_session_id() -> str:
    return uuid.uuid4().hex


def check_message(data: Any, max_chars: int) -> Optional[str]:
    """The error code for a `user_uttered` payload the bot should not read, else None."""
    if not isinstance(data, dict):
        return "bad_request"
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
        return "no_session"
    message = data.get("message")
    if not isinstance(message, str):
        return "bad_request"
    if not message.strip():
        return "empty"
    if len(message) > max_chars:
        return "too_long"
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return "bad_request"
    for key, limit in (("client_id", MAX_CLIENT_ID_CHARS), ("title", MAX_TITLE_CHARS)):
        value = (metadata or {}).get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return "bad_request"
    return None


def history_of(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """What the customer saw: their messages and the bot's and agents' replies, in order.

    A button the customer pressed is shown by its title, not its payload; nothing
    internal (intents, scores, FAQ matches) is included.
    """
    messages: List[Dict[str, Any]] = []
    last_buttons: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            metadata = event.get("metadata") or {}
            pressed = next((b["title"] for b in last_buttons if b["payload"] == text), None)
            if pressed is None and text.startswith("/") and isinstance(metadata.get("title"), str):
                pressed = metadata["title"]  # a widget button outside the last reply's
            item = {"role": "customer", "text": pressed or text,
                    "time": event.get("timestamp")}
            client_id = metadata.get("client_id")
            if client_id:
                item["client_id"] = client_id
            messages.append(item)
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            data = event.get("data") or {}
            last_buttons = [{"title": b.get("title", ""), "payload": b.get("payload", "")}
                            for b in data.get("buttons") or [] if isinstance(b, dict)]
            item = {"role": "agent" if metadata.get("agent") else "bot",
                    "text": event.get("text") or "", "time": event.get("timestamp")}
            if metadata.get("agent"):
                item["agent_name"] = metadata.get("agent_name") or metadata["agent"]
            if last_buttons:
                item["buttons"] = last_buttons
            messages.append(item)
    return messages


class WidgetOutput(SocketIOOutput):
    """Rasa's socket.io output, one event per reply, with its time and agent name."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @staticmethod
    def _extras(kwargs: Dict[str, Any]) -> Dict[str, Any]:
        extras: Dict[str, Any] = {}
        if kwargs.get("timestamp"):
            extras["time"] = kwargs["timestamp"]
        if kwargs.get("agent"):
            extras["agent_name"] = kwargs.get("agent_name") or kwargs["agent"]
        return extras

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text, **self._extras(kwargs)})

    async def send_text_with_buttons(self, recipient_id: Text, text: Text,
                                     buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        quick_replies = [{"title": b["title"], "payload": b["payload"]} for b in buttons]
        await self._send_message(recipient_id, {"text": text, "quick_replies": quick_replies,
                                                **self._extras(kwargs)})


class WidgetStore(ChannelStore):
    """The widget messages already handled, by session and client id (bounded)."""

    channel = CHANNEL
    seen_table, seen_column = "widget_seen", "message_key"
    schema = """
        CREATE TABLE IF NOT EXISTS widget_seen (
            id INTEGER PRIMARY KEY AUTOINCREMENT, message_key TEXT UNIQUE NOT NULL,
            at REAL NOT NULL);
    """


class WidgetInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WidgetInput":
        credentials = credentials or {}
        return cls(int(credentials.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)),
                   credentials.get("socketio_path", "/socket.io"),
                   credentials.get("widget_dir"), credentials.get("db"))

    def __init__(self, max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
                 socketio_path: str = "/socket.io",
                 widget_dir: Optional[str] = None, db: Optional[str] = None) -> None:
        super().__init__(session_persistence=True, socketio_path=socketio_path)
        self.max_message_chars = max_message_chars
        self.widget_dir = Path(widget_dir) if widget_dir else WIDGET_DIR
        self.store = WidgetStore(db or default_db_path())

    def get_output_channel(self) -> Optional[WidgetOutput]:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio else None

    def _file(self, name: str, content_type: str) -> HTTPResponse:
        try:
            body = (self.widget_dir / name).read_bytes()
        except OSError as error:
            logger.error("widget: cannot read %s: %s", self.widget_dir / name, error)
            return response.json({"error": "widget file missing"}, status=500)
        return response.raw(body, content_type=content_type,
                            headers={"Cache-Control": "no-cache",
                                     "X-Content-Type-Options": "nosniff"})

    async def _reject(self, sio: AsyncServer, sid: str, code: str) -> Dict[str, Any]:
        text = refusal(code, self.max_message_chars)
        logger.warning("widget: rejected a message from socket %s: %s", sid, code)
        await sio.emit("hotro_error", {"code": code, "text": text}, room=sid)
        return {"ok": False, "error": code}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # No Origin check on the socket: the widget is embedded on the business's own
        # sites; the session id, not the origin, is what grants a conversation.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        self.sio = sio
        bp = SocketBlueprint(sio, self.socketio_path, "widget_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/hotro-widget.js", methods=["GET"])
        async def script(_: Request) -> HTTPResponse:
            return self._file("hotro-widget.js", "application/javascript; charset=utf-8")

        @bp.route("/demo", methods=["GET"])
        async def demo(_: Request) -> HTTPResponse:
            return self._file("demo.html", "text/html; charset=utf-8")

        @bp.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            # CORS headers come from `rasa run --cors` (hotro run: "*"), not from here:
            # a second Access-Control-Allow-Origin would make browsers refuse both.
            headers = {"Cache-Control": "no-store"}
            session_id = request.args.get("session_id") or ""
            if not SESSION_ID.fullmatch(session_id):
                logger.warning("widget: history asked with an invalid session id")
                return response.json({"error": refusal("no_session")}, status=400,
                                     headers=headers)
            tracker = await request.app.ctx.agent.tracker_store.retrieve(session_id)
            events = [e.as_dict() for e in tracker.events] if tracker else []
            # Only widget conversations: a session id must not open another channel's.
            if any(e.get("event") == "user" and e.get("input_channel") != CHANNEL
                   for e in events):
                logger.warning("widget: history refused for a non-widget conversation")
                return response.json({"messages": []}, headers=headers)
            return response.json({"messages": history_of(events)}, headers=headers)

        @sio.on("connect")
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            return True

        @sio.on("session_request")
        async def session_request(sid: Text, *args: Any) -> None:
            data = args[0] if len(args) == 1 else None
            asked = data.get("session_id") if isinstance(data, dict) else None
            if isinstance(asked, str) and SESSION_ID.fullmatch(asked):
                session_id = asked
            else:
                if asked:
                    logger.warning("widget: socket %s asked for an invalid session id; "
                                   "a new session is given", sid)
                session_id = new_session_id()
            sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: Text, *args: Any) -> Dict[str, Any]:
            data = args[0] if len(args) == 1 else None  # one payload, whatever was sent
            error = check_message(data, self.max_message_chars)
            if error:
                return await self._reject(sio, sid, error)
            session_id = data["session_id"]
            sio.enter_room(sid, session_id)  # replies reach a tab that reconnected
            metadata = dict(data.get("metadata") or {})
            client_id = metadata.get("client_id")
            if client_id and not self.store.first_time(f"{session_id}:{client_id}"):
                logger.info("widget: message %s of %s already handled", client_id, session_id)
                return {"ok": True, "duplicate": True}
            await on_new_message(UserMessage(
                data["message"], WidgetOutput(sio, self.bot_message_evt), session_id,
                input_channel=CHANNEL, metadata=metadata))
            return {"ok": True}

        return bp
