"""The website chat widget's channel: Rasa's socket.io channel with its input checked,
plus the widget's script, a demo page and the conversation history, served by Rasa.

On the socket it speaks Rasa 3.6's socket.io protocol, so a Rasa web client (rasa-webchat,
or any client written from Rasa's docs) works unchanged: path /socket.io,
`session_request` -> `session_confirm` (the session id, a string), `user_uttered`
`{message, session_id, <metadata_key>}` -> `bot_uttered` payloads of exactly Rasa's
shapes (`{text}`; `{text, quick_replies: [{content_type, title, payload}]}`;
`{attachment}`; a text split on blank lines into one event per paragraph). Differences:
- a session id is 32 hex characters (a random uuid4, the conversation's bearer secret);
  the server makes one when the client has none or sends something else, and a client
  uses the one `session_confirm` gives, as Rasa's protocol intends;
- what the client sends under `metadata_key` (credentials.yml; Rasa's default
  "metadata", rasa-webchat sends "customData") becomes the user event's metadata;
- a `user_uttered` without a message (a client opening the chat) joins the session's
  room and is acked, with no user turn and no error;
- a bad message (not an object, bad session id, blank, over `max_message_chars`, bad
  metadata, or faster than bot/channels/rate_limit.py allows one session: code
  `too_fast`) is answered with a `hotro_error` event in Vietnamese and English, logged,
  and acked `{"ok": false}`; a handled message is acked `{"ok": true}` after the bot
  has answered. Clients that ask no ack and listen to no `hotro_error` lose nothing;
- a message the bot could not handle (a store down) is answered the same way, code
  `not_handled`: the customer is asked to send it again. A refused message's client_id
  is not kept, so a resend with the same id (`too_fast`, `not_handled`) is handled;
- hotro's own widget may send `client_id` and `title` in the metadata; a message whose
  client_id was already handled in that session is not processed twice (the widget
  re-sends unacked messages after a reconnect). The handled ids are kept, bounded, in
  hotro's database like Messenger's and Zalo's (bot/channels/state.py), so this holds
  across a restart and across replicas;
- before each `bot_uttered` comes a `hotro_meta` event describing it: `{time}` and, for
  an agent's reply, `agent_name`. A separate event, not extra keys, because socket.io
  clients dispatch by event name and ignore events they do not listen to, whereas a key
  in `bot_uttered` reaches every client's message renderer;
- a closed socket is closed quietly (see `QuietSocketBlueprint`).

HTTP, under /webhooks/widget/:
- `hotro-widget.js`, `demo`: the widget script and a demo page (files in widget/);
- `history?session_id=…`: the session's messages, for reloads, new tabs and reconnects.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Union

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.exceptions import ServerError
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.catalogue import bilingual_text
from bot.channels import action_fallback, tracker_errors
from bot.channels.rest import DEFAULT_MAX_MESSAGE_CHARS
from bot.channels.rate_limit import sender_rate_limit
from bot.channels.state import ChannelStore
from bot.channels.webhook_base import KeyedLocks

logger = logging.getLogger(__name__)

CHANNEL = "widget"
WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
SESSION_ID = re.compile(r"[0-9a-f]{32}")
MAX_CLIENT_ID_CHARS = 64
MAX_TITLE_CHARS = 200  # the title of a pressed button, shown in the history
MAX_METADATA_CHARS = 8000  # the client's custom data, as JSON: it is kept in the tracker
DEFAULT_METADATA_KEY = "metadata"  # Rasa's default for its socket.io channel
META_EVENT = "hotro_meta"  # describes the bot_uttered that follows it

def refusal(code: str, limit: int = 0) -> str:
    """Why the widget refuses a message (domain.yml's utter_refused_<code>), in both
    languages: it is refused before the conversation's language is known."""
    return bilingual_text(f"utter_refused_{code}", limit=limit)


def new_session_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Incoming:
    """A `user_uttered` the bot may read; `message` None is a client opening the chat."""

    session_id: str
    message: Optional[str]
    metadata: Dict[str, Any] = field(default_factory=dict)


def read_message(data: Any, max_chars: int,
                 metadata_key: str = DEFAULT_METADATA_KEY) -> Union[Incoming, str]:
    """The `user_uttered` payload as the bot reads it, else the error code to answer."""
    if not isinstance(data, dict):
        return "bad_request"
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
        return "no_session"
    metadata = data.get(metadata_key)
    if isinstance(metadata, str):  # Rasa accepts the metadata as a JSON string too
        try:
            metadata = json.loads(metadata)
        except (ValueError, RecursionError):
            return "bad_request"
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        return "bad_request"
    try:  # kept in the tracker as JSON: no NaN, and bounded
        if len(json.dumps(metadata, ensure_ascii=False, allow_nan=False)) > MAX_METADATA_CHARS:
            return "bad_request"
    except (TypeError, ValueError, RecursionError):
        return "bad_request"
    for key, limit in (("client_id", MAX_CLIENT_ID_CHARS), ("title", MAX_TITLE_CHARS)):
        value = metadata.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return "bad_request"
    message = data.get("message")
    if message is None or message == "":  # Rasa reads a missing message as ""
        return Incoming(session_id, None, metadata)
    if not isinstance(message, str):
        return "bad_request"
    if not message.strip():
        return "empty"
    if len(message) > max_chars:
        return "too_long"
    return Incoming(session_id, message, metadata)


def paragraphs(text: str) -> List[str]:
    """A bot text as Rasa's socket.io output sends it: one message per paragraph."""
    return text.strip().split("\n\n") or [text]


def history_of(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """What the customer saw: their messages and the bot's and agents' replies, in order,
    split into the messages the socket sent (one per paragraph, buttons on the last).

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
                            for b in data.get("buttons") or data.get("quick_replies") or []
                            if isinstance(b, dict)]
            text = event.get("text") or ""
            if not text:
                continue  # an image or custom payload: the widget shows text only
            parts = paragraphs(text)
            for number, part in enumerate(parts, 1):
                item = {"role": "agent" if metadata.get("agent") else "bot",
                        "text": part, "time": event.get("timestamp")}
                if metadata.get("agent"):
                    item["agent_name"] = metadata.get("agent_name") or metadata["agent"]
                if last_buttons and number == len(parts):
                    item["buttons"] = last_buttons
                messages.append(item)
    return messages


def meta_of(message: Dict[str, Any]) -> Dict[str, Any]:
    """hotro's extras about one bot message: when it was said, and by which agent."""
    meta: Dict[str, Any] = {}
    if message.get("timestamp"):
        meta["time"] = message["timestamp"]
    if message.get("agent"):
        meta["agent_name"] = message.get("agent_name") or message["agent"]
    return meta


class WidgetOutput(SocketIOOutput):
    """Rasa's socket.io output, payloads untouched; each `bot_uttered` is preceded by a
    `hotro_meta` event with its time and agent name, for hotro's widget."""

    def __init__(self, sio: AsyncServer, bot_message_evt: Text,
                 emit_lock: Optional[asyncio.Lock] = None) -> None:
        super().__init__(sio, bot_message_evt)
        # One lock per server: a bot's and an agent's replies to one session may be sent
        # at once, and each `hotro_meta` must stay next to its own `bot_uttered`.
        self.emit_lock = emit_lock or asyncio.Lock()
        self._meta: Dict[str, Any] = {}

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self._meta = meta_of(message)
        try:
            await super().send_response(recipient_id, message)
        finally:
            self._meta = {}

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        async with self.emit_lock:
            if self._meta:
                await self.sio.emit(META_EVENT, self._meta, room=socket_id)
            await super()._send_message(socket_id, response)


class QuietSocketBlueprint(SocketBlueprint):
    """Rasa's SocketBlueprint, but a socket that closes does not log a traceback.

    python-engineio's Sanic route returns None once a WebSocket session ends, which Sanic
    21 reports as `ServerError: Invalid response type None` for every closed socket; and
    a long-poll request racing its socket's close raises `KeyError('Session is
    disconnected')`. This route marks the handler as one that may own the connection (as
    Sanic's own WebSocket routes are marked), answers the race with engine.io's 400, and
    still raises on a None that no WebSocket explains.
    """

    def register(self, app: Sanic, options: Dict[Text, Any]) -> None:
        eio = self.ctx.sio.eio

        async def engineio(request: Request) -> Optional[HTTPResponse]:
            # Taken before: once the connection is closed the transport may forget it.
            protocol = request.transport.get_protocol()
            try:
                reply = await eio.handle_request(request)
            except KeyError as error:
                if error.args not in (("Session is disconnected",), ("Session not found",)):
                    raise
                logger.debug("widget: a request for a closed socket: %s", error.args[0])
                return response.text("Session is disconnected", status=400)
            if reply is None and getattr(protocol, "websocket", None) is None:
                raise ServerError("engine.io gave no response to a non-WebSocket request")
            return reply  # None: the WebSocket it opened has closed, nothing more to send

        engineio.is_websocket = True  # type: ignore[attr-defined]
        app.add_route(engineio, f"/{self.ctx.socketio_path.strip('/')}/",
                      methods=["GET", "POST", "OPTIONS"], name=f"{self.name}_engineio")
        app.enable_websocket()
        Blueprint.register(self, app, options)


class WidgetStore(ChannelStore):
    """The widget messages already handled, by session and client id (bounded)."""

    channel = CHANNEL


class WidgetInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WidgetInput":
        credentials = credentials or {}
        return cls(int(credentials.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)),
                   credentials.get("socketio_path", "/socket.io"),
                   credentials.get("widget_dir"),
                   credentials.get("metadata_key", DEFAULT_METADATA_KEY))

    def __init__(self, max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
                 socketio_path: str = "/socket.io",
                 widget_dir: Optional[str] = None,
                 metadata_key: str = DEFAULT_METADATA_KEY) -> None:
        super().__init__(session_persistence=True, socketio_path=socketio_path,
                         metadata_key=metadata_key)
        self.max_message_chars = max_message_chars
        self.widget_dir = Path(widget_dir) if widget_dir else WIDGET_DIR
        self.store = WidgetStore()
        self.emit_lock = asyncio.Lock()
        self.rate_limit = sender_rate_limit("widget")
        # A session's messages are checked (dedupe, rate) one after another, in the order
        # they came (the lock is first come, first served): the dedupe write runs in a
        # thread, off the event loop, and the messages still reach the bot in order.
        self._session_lock = KeyedLocks()

    def get_output_channel(self) -> Optional[WidgetOutput]:
        return WidgetOutput(self.sio, self.bot_message_evt, self.emit_lock) if self.sio else None

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

    async def _unsee(self, session_id: str, client_id: Optional[str]) -> None:
        """The id of a message that was refused forgotten, so that its resend is handled,
        not taken for a duplicate."""
        if not client_id:
            return
        try:
            await asyncio.to_thread(self.store.forget, f"{session_id}:{client_id}")
        except Exception:
            logger.exception("widget: message %s of session %s was not handled and its resend "
                             "will be taken for a duplicate", client_id, session_id)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # No Origin check on the socket: the widget is embedded on the business's own
        # sites; the session id, not the origin, is what grants a conversation.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        self.sio = sio
        bp = QuietSocketBlueprint(sio, self.socketio_path, "widget_webhook", __name__)
        action_fallback.install(bp)
        tracker_errors.install(bp)

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

        @sio.on("disconnect")
        async def disconnect(sid: Text) -> None:
            logger.debug("widget: socket %s disconnected", sid)

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
            incoming = read_message(data, self.max_message_chars, self.metadata_key)
            if isinstance(incoming, str):
                return await self._reject(sio, sid, incoming)
            session_id = incoming.session_id
            sio.enter_room(sid, session_id)  # replies reach a tab that reconnected
            if incoming.message is None:
                # A client opening the chat: it now hears the session's replies; nothing
                # was said, so there is no user turn.
                logger.debug("widget: socket %s opened session %s", sid, session_id)
                return {"ok": True, "opened": True}
            client_id = incoming.metadata.get("client_id")
            async with self._session_lock(session_id):
                duplicate = bool(client_id) and not await asyncio.to_thread(
                    self.store.first_time, f"{session_id}:{client_id}")
                allowed = duplicate or self.rate_limit.check(session_id)[0]
            if duplicate:
                logger.info("widget: message %s of %s already handled", client_id, session_id)
                return {"ok": True, "duplicate": True}
            if not allowed:  # not handled: its resend, with the same id, must be
                await self._unsee(session_id, client_id)
                return await self._reject(sio, sid, "too_fast")
            # Nothing awaited since the lock was let go: this message takes its place in
            # the conversation's lock before the session's next message is looked at.
            try:
                await on_new_message(UserMessage(
                    incoming.message, WidgetOutput(sio, self.bot_message_evt, self.emit_lock),
                    session_id, input_channel=CHANNEL, metadata=incoming.metadata))
            except Exception:  # a store down (bot/channels/tracker_errors.py): not kept
                logger.exception("widget: message of session %s not handled", session_id)
                await self._unsee(session_id, client_id)
                return await self._reject(sio, sid, "not_handled")
            return {"ok": True}

        return bp
