"""Facebook Messenger: Rasa's Facebook channel with Meta's current webhook checks.

`MessengerInput` is a `rasa.core.channels.facebook.FacebookInput` (same name "facebook",
same webhook `/webhooks/facebook/webhook`, same credentials keys) that:

- verifies `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app secret; Rasa
  3.6 checks only the old SHA-1 `X-Hub-Signature`) and answers a missing or wrong
  signature with 403 and a log line;
- answers 200 at once and handles the events in the background, every event of a batch
  (Rasa's handles only the first), in order per customer;
- drops echoes, delivery/read receipts and redelivered events (by `mid`, remembered in
  hotro's database, so a redelivery to another replica is dropped too); answers photos,
  stickers, files... politely that it reads only text;
- turns a quick reply or postback into its payload as the message text ("/request_human").

`MessengerOutput` sends with the Send API (aiohttp, never blocking the server) to the
configurable `graph_url`, renders Rasa buttons as quick replies (bot/channels/buttons.py),
retries network errors and 5xx with backoff, records what it could not deliver (on the
conversation's handoff ticket, opened if there is none), and tags agent messages: a message whose metadata (or custom JSON) has `"agent": true` is sent
with `messaging_type: MESSAGE_TAG, tag: HUMAN_AGENT` when the customer's last message is
more than 24 hours old (or unknown), and as `RESPONSE` otherwise. The customer's last
inbound time is kept per sender in hotro's database (bot/channels/state.py), so a
restart or another replica sees it.

An agent reply goes out through Rasa's HTTP API, for example:
POST /conversations/<psid>/tracker/events?output_channel=facebook&execute_side_effects=true
     {"event": "bot", "text": "...", "metadata": {"agent": true}}

Credentials (credentials.yml, under `bot.channels.messenger.MessengerInput`): `verify`,
`secret`, `page-access-token` (as Rasa's), plus `graph_url` (default
https://graph.facebook.com/v19.0), `retry_attempts`, `retry_backoff`, `timeout`. Values
may be "${ENV_VAR}" strings (quoted, so Rasa leaves them alone): they are expanded here and
an unset variable leaves the channel unconfigured (every webhook refused with 403) instead
of stopping the server.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import case, select

from bot.channels.buttons import (MESSENGER_MAX_TEXT_CHARS, clean_id,
                                  clean_text, messenger_messages, normalize_buttons, split_text,
                                  unreadable_message)
from bot.channels.state import ChannelStore, MessengerInboundRow, upsert
# expand_env stays importable from here (it used to live here).
from bot.channels.webhook_base import (NETWORK_ERRORS, ChannelSendError, OnNewMessage,
                                       RetryingHttpClient, WebhookInputMixin, expand_env,
                                       keep_undelivered)
from bot.handoff.store import ticket_store
from bot.signing import sha256_signature, verify_sha256_signature

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v19.0"
MAX_BODY_BYTES = 512 * 1024
STANDARD_WINDOW_SECONDS = 24 * 3600
AGENT_FLAG = "agent"


# ---------------------------------------------------------------- signatures

# One implementation with the helpdesk notifier's (bot/signing.py).
signature_256 = sha256_signature  # the `X-Hub-Signature-256` value Meta sends for a body
verify_signature_256 = verify_sha256_signature


# ---------------------------------------------------------------- state (hotro's database)

class MessengerStore(ChannelStore):
    """Per-customer state every replica shares (bot/channels/state.py): the last inbound
    message time and the event ids already handled."""

    channel = "facebook"

    def record_inbound(self, sender: str, at: float) -> None:
        """Moves the customer's last inbound time forward (never back: events may arrive
        out of order)."""
        upsert(self.engine, MessengerInboundRow, {"sender": sender}, {"at": at},
               {"at": case((MessengerInboundRow.at < at, at), else_=MessengerInboundRow.at)})

    def last_inbound(self, sender: str) -> Optional[float]:
        with self.engine.connect() as db:
            return db.execute(select(MessengerInboundRow.at)
                              .where(MessengerInboundRow.sender == sender)).scalar()


def undelivered_messages(sender_id: str, url: Optional[str] = None) -> List[Dict[str, Any]]:
    """Messages to this Messenger customer that could not be delivered, oldest first (on
    their handoff tickets, in the database at `url`, default hotro's)."""
    return ticket_store(url).undelivered_to(MessengerStore.channel, sender_id)


# ---------------------------------------------------------------- Send API client

class SendError(ChannelSendError):
    pass


class GraphClient(RetryingHttpClient):
    """POSTs to {graph_url}/me/messages with the page token; retries what may pass later."""

    def __init__(self, page_access_token: str, graph_url: str = DEFAULT_GRAPH_URL,
                 retry_attempts: int = 3, retry_backoff: float = 0.5,
                 timeout: float = 15) -> None:
        super().__init__(retry_attempts, retry_backoff, timeout)
        self.page_access_token = page_access_token
        self.graph_url = graph_url.rstrip("/")

    async def _post_once(self, body: Dict[str, Any]) -> Dict[str, Any]:
        try:
            async with self._get_session().post(
                    f"{self.graph_url}/me/messages",
                    params={"access_token": self.page_access_token}, json=body) as reply:
                status = reply.status
                text = await reply.text()
        except NETWORK_ERRORS as error:
            raise SendError(f"network error: {error!r}", "network", retryable=True)
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        if status >= 500:
            raise SendError(f"HTTP {status}: {text[:200]}", status, retryable=True)
        error = data.get("error") if isinstance(data, dict) else None
        if status >= 400 or error:
            error = error if isinstance(error, dict) else {}
            code = error.get("code", status)
            subcode = error.get("error_subcode")
            retryable = bool(error.get("is_transient")) or code in (1, 2)
            raise SendError(f"HTTP {status} code {code}"
                            f"{f'/{subcode}' if subcode else ''}: {error.get('message', text[:200])}",
                            f"{code}/{subcode}" if subcode else code, retryable)
        return data if isinstance(data, dict) else {}

    async def post(self, body: Dict[str, Any], retries: bool = True) -> Dict[str, Any]:
        return await self._with_retries(lambda: self._post_once(body),
                                        self.retry_attempts if retries else 1, SendError,
                                        logger, "messenger")


# ---------------------------------------------------------------- output channel

def is_agent_message(message: Dict[str, Any]) -> bool:
    """A message marked as written by a human agent: `"agent": true` in the event's
    metadata (merged into the message by Rasa) or in its custom JSON."""
    if message.get(AGENT_FLAG) is True:
        return True
    custom = message.get("custom")
    return isinstance(custom, dict) and custom.get(AGENT_FLAG) is True


class MessengerOutput(OutputChannel):
    """Sends bot and agent messages to a Messenger customer (page-scoped id)."""

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    def __init__(self, client: GraphClient, store: MessengerStore,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.client = client
        self.store = store
        self.clock = clock

    def messaging_type(self, recipient_id: str, agent: bool) -> Dict[str, str]:
        """RESPONSE, or the HUMAN_AGENT tag for an agent message past the 24-hour window."""
        if agent:
            last = self.store.last_inbound(recipient_id)
            if last is None or self.clock() - last > STANDARD_WINDOW_SECONDS:
                return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        return {"messaging_type": "RESPONSE"}

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        message = dict(message)
        agent = is_agent_message(message)
        message[AGENT_FLAG] = agent
        custom = message.get("custom")
        if isinstance(custom, dict) and set(custom) <= {AGENT_FLAG}:
            message.pop("custom")  # only the flag: nothing to send
        await super().send_response(recipient_id, message)

    async def _send(self, recipient_id: str, message: Dict[str, Any], agent: bool,
                    shown_text: str) -> bool:
        body = {"recipient": {"id": recipient_id}, "message": message,
                **self.messaging_type(recipient_id, agent)}
        try:
            await self.client.post(body)
            return True
        except SendError as error:
            window_closed = str(error.code).startswith("10/") or str(error.code) == "551/1545041"
            log = logger.warning if window_closed else logger.error
            log("messenger message to %s not delivered (%s); recorded as undelivered",
                recipient_id, error)
            await keep_undelivered(self.store.channel, recipient_id, shown_text, error.code,
                                   str(error), window_closed, logger)
            return False

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in split_text(text, MESSENGER_MAX_TEXT_CHARS):
            await self._send(recipient_id, {"text": part}, bool(kwargs.get(AGENT_FLAG)), part)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text,
                                     buttons: List[Dict[Text, Any]], **kwargs: Any) -> None:
        for message in messenger_messages(text, normalize_buttons(buttons)):
            await self._send(recipient_id, message, bool(kwargs.get(AGENT_FLAG)),
                             message.get("text", ""))

    async def send_quick_replies(self, recipient_id: Text, text: Text,
                                 quick_replies: List[Dict[Text, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, {"attachment": {"type": "image", "payload": {
            "url": image, "is_reusable": True}}}, bool(kwargs.get(AGENT_FLAG)), image)

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, dict):
            await self._send(recipient_id, {"attachment": attachment},
                             bool(kwargs.get(AGENT_FLAG)), json.dumps(attachment))
        else:
            await self.send_text_message(recipient_id, str(attachment), **kwargs)

    async def send_elements(self, recipient_id: Text, elements: Iterable[Dict[Text, Any]],
                            **kwargs: Any) -> None:
        elements = [dict(e) for e in elements]
        for element in elements:
            for button in element.get("buttons", []) or []:
                if isinstance(button, dict):
                    button.setdefault("type", "postback")
        await self._send(recipient_id, {"attachment": {"type": "template", "payload": {
            "template_type": "generic", "elements": elements[:10]}}},
            bool(kwargs.get(AGENT_FLAG)), json.dumps(elements, ensure_ascii=False))

    async def send_custom_json(self, recipient_id: Text, json_message: Any, **kwargs: Any) -> None:
        """Custom JSON is a Send API `message` object (or a list of them)."""
        messages = json_message if isinstance(json_message, list) else [json_message]
        for message in messages:
            if not isinstance(message, dict):
                continue
            message = {k: v for k, v in message.items() if k != AGENT_FLAG}
            if message:
                await self._send(recipient_id, message, bool(kwargs.get(AGENT_FLAG)),
                                 json.dumps(message, ensure_ascii=False))

    async def send_action(self, recipient_id: str, action: str) -> None:
        """mark_seen / typing_on: best effort, one attempt, failures only logged."""
        try:
            await self.client.post({"recipient": {"id": recipient_id}, "sender_action": action},
                                   retries=False)
        except SendError as error:
            logger.info("messenger sender action %s to %s failed: %s", action, recipient_id, error)


# ---------------------------------------------------------------- input channel

def _as_id(value: Any) -> Optional[str]:
    return clean_id(value.get("id") if isinstance(value, dict) else value)


def classify_event(event: Any) -> Tuple[str, Optional[str], Optional[str], Optional[str]]:
    """(kind, sender, text, event key) of one `messaging` entry.

    kind: "text" (text is what Rasa gets: the quick-reply/postback payload or the typed
    text), "unreadable" (attachments only), "ignore" (echo, receipt, reaction...),
    "invalid" (not an event).
    """
    if not isinstance(event, dict):
        return "invalid", None, None, None
    sender = _as_id(event.get("sender"))
    message, postback = event.get("message"), event.get("postback")
    if isinstance(message, dict) and message.get("is_echo"):
        return "ignore", sender, None, None
    if sender is None:
        return ("invalid" if message or postback else "ignore"), None, None, None
    if isinstance(postback, dict):
        payload = postback.get("payload")
        if not isinstance(payload, str) or not payload.strip():
            return "invalid", sender, None, None
        key = clean_id(postback.get("mid"), 256) or \
            f"postback:{sender}:{clean_id(event.get('timestamp'))}:{clean_text(payload)[:200]}"
        return "text", sender, clean_text(payload), key
    if isinstance(message, dict):
        key = clean_id(message.get("mid"), 256)
        quick_reply = message.get("quick_reply")
        if isinstance(quick_reply, dict) and isinstance(quick_reply.get("payload"), str) \
                and quick_reply["payload"].strip():
            return "text", sender, clean_text(quick_reply["payload"]), key
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            return "text", sender, clean_text(text), key
        if message.get("sticker_id"):
            return "unreadable", sender, unreadable_message("sticker"), key
        attachments = message.get("attachments")
        if attachments:
            first = attachments[0] if isinstance(attachments, list) and attachments else {}
            return "unreadable", sender, unreadable_message(
                str(first.get("type") or "") if isinstance(first, dict) else ""), key
        return "invalid", sender, None, key
    return "ignore", sender, None, None  # delivery, read, reaction, referral, optin...


class MessengerInput(WebhookInputMixin, FacebookInput):
    """Rasa's Facebook input channel, verifying X-Hub-Signature-256 (see module doc)."""

    label, log, max_body_bytes = "messenger", logger, MAX_BODY_BYTES

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = {k: expand_env(v) for k, v in (credentials or {}).items()}
        return cls(
            credentials.get("verify") or "",
            credentials.get("secret") or "",
            credentials.get("page-access-token") or "",
            graph_url=credentials.get("graph_url") or DEFAULT_GRAPH_URL,
            retry_attempts=int(credentials.get("retry_attempts") or 3),
            retry_backoff=float(credentials.get("retry_backoff") or 0.5),
            timeout=float(credentials.get("timeout") or 15),
        )

    def __init__(self, fb_verify: Text, fb_secret: Text, fb_access_token: Text,
                 graph_url: str = DEFAULT_GRAPH_URL,
                 retry_attempts: int = 3, retry_backoff: float = 0.5,
                 timeout: float = 15) -> None:
        super().__init__(fb_verify, fb_secret, fb_access_token)
        self.client = GraphClient(fb_access_token, graph_url, retry_attempts, retry_backoff,
                                  timeout)
        self.store = MessengerStore()
        self._init_webhook_state()
        missing = [name for name, value in (("verify", fb_verify), ("secret", fb_secret),
                                            ("page-access-token", fb_access_token)) if not value]
        self.configured = not missing
        if missing:
            logger.warning("Messenger channel not configured (%s empty): its webhook refuses "
                           "every request", ", ".join(missing))

    def get_output_channel(self) -> OutputChannel:
        return MessengerOutput(self.client, self.store)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        fb_webhook = Blueprint("hotro_fb_webhook", __name__)
        self._add_webhook_routes(fb_webhook, on_new_message)

        @fb_webhook.route("/webhook", methods=["GET"])
        async def token_verification(request: Request) -> HTTPResponse:
            mode = request.args.get("hub.mode")
            token = request.args.get("hub.verify_token")
            challenge = request.args.get("hub.challenge")
            if not self.configured:
                return self._reject(request, 403, "messenger channel not configured")
            if mode == "subscribe" and token is not None and challenge is not None \
                    and hmac.compare_digest(token.encode(), self.fb_verify.encode()):
                return response.text(challenge)
            return self._reject(request, 403, "wrong verify token or hub.mode")

        return fb_webhook

    async def _receive(self, request: Request,
                       on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        refused = self._precheck(request)
        if refused is not None:
            return refused
        body = request.body or b""
        if not verify_signature_256(self.fb_secret, body,
                                    request.headers.get("X-Hub-Signature-256")):
            problem = ("missing X-Hub-Signature-256" if not
                       request.headers.get("X-Hub-Signature-256") else
                       "wrong X-Hub-Signature-256")
            return self._reject(request, 403, problem)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self._reject(request, 400, "body is not JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
            return self._reject(request, 400, "body is not a webhook event ({\"entry\": [...]})")
        if payload.get("object") not in (None, "page"):
            logger.info("ignored messenger webhook for object %.80r", payload.get("object"))
            return response.text("EVENT_RECEIVED")
        messages = []
        for entry in payload["entry"]:
            events = entry.get("messaging") if isinstance(entry, dict) else None
            if not isinstance(events, list):
                logger.info("ignored messenger entry without messaging events")
                continue
            messages.extend(m for m in map(self._classify, events) if m is not None)
        # The database writes of the whole call in one thread, off the event loop; then the
        # messages in order, with no wait between them (a flood is refused at once).
        fresh, error = await asyncio.to_thread(self._remember, messages)
        for message, new in zip(messages, fresh):
            if new:
                self._accept(*message, on_new_message)
            else:
                logger.info("ignored duplicate messenger event %s from %s", message[3], message[1])
        if error is not None:  # 503: Meta sends the call again; what was recorded is handled
            raise error
        return response.text("EVENT_RECEIVED")

    @staticmethod
    def _classify(event: Any) -> Optional[Tuple[str, str, Optional[str], Optional[str]]]:
        """(kind, sender, text, key) of a message event; None, with a log line, otherwise."""
        kind, sender, text, key = classify_event(event)
        if kind == "ignore":
            logger.debug("ignored messenger event (echo/receipt) from %s", sender)
            return None
        if kind == "invalid":
            logger.info("ignored messenger event that is not a message: %.200s",
                        json.dumps(event, default=str))
            return None
        return kind, sender, text, key

    def _remember(self, messages: List[Tuple[str, str, Optional[str], Optional[str]]]
                  ) -> Tuple[List[bool], Optional[Exception]]:
        """Records each message's key and its sender's inbound time: whether each message
        is new (not a redelivery, to this replica or another), up to the first failure,
        and that failure."""
        now = time.time()
        fresh: List[bool] = []
        try:
            for _, sender, _, key in messages:
                fresh.append(key is None or self.store.first_time(key))
                if fresh[-1]:
                    self.store.record_inbound(sender, now)
        except Exception as error:  # a message whose key was recorded is still handled
            return fresh, error
        return fresh, None

    def _accept(self, kind: str, sender: str, text: Optional[str], key: Optional[str],
                on_new_message: OnNewMessage) -> None:
        if self._too_fast(sender, key, lambda notice: MessengerOutput(
                self.client, self.store).send_text_message(sender, notice)):
            return
        text = self._clip(text, key, sender)
        self._spawn(self._handle(kind, sender, text, key, on_new_message))

    async def _handle(self, kind: str, sender: str, text: Optional[str], key: Optional[str],
                      on_new_message: OnNewMessage) -> None:
        async def work() -> None:
            out = MessengerOutput(self.client, self.store)
            if kind == "unreadable":
                logger.info("messenger customer %s sent something the bot cannot read: %s", sender, text)
            await out.send_action(sender, "mark_seen")
            await out.send_action(sender, "typing_on")
            await on_new_message(UserMessage(text, out, sender, input_channel=self.name(),
                                             metadata={"mid": key} if key else None))
        await self._in_order(sender, key, work)
