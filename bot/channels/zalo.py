"""Zalo Official Account: a Rasa input and output channel for the OA OpenAPI v3.

Webhook (`POST /webhooks/zalo/webhook`):
- verifies `X-ZEvent-Signature: mac=<hex sha256(app_id + raw body + timestamp + OA secret
  key)>` (plain SHA-256 of the concatenation, not an HMAC; `timestamp` is the body's
  field) and answers a missing or wrong signature with 403 and a log line;
- answers 200 at once and handles the event in the background (Zalo retries a webhook
  that has not answered within about 2 seconds), in order per customer;
- `user_send_text` goes to the bot; a reply "1", "2"... to numbered choices becomes that
  button's payload; other `user_send_*` (image, sticker, file, location, audio...) get a
  polite answer that the bot reads only text; `oa_send_*` echoes, receipts, follows and
  other events are ignored; a redelivered `message.msg_id` is dropped (ids kept in
  hotro's database, bounded, so a redelivery to another replica is dropped too).

Sending (`ZaloOutput`): the consultation (customer-service) message API,
POST {openapi_url}/v3.0/oa/message/cs with header `access_token`. On an expired or
invalid token (-216, -220, -124) it refreshes once with the refresh token
(POST {oauth_url}/v4/oa/access_token, header `secret_key`) and retries; the refresh
token rotates and is single-use, so the refresh holds a lock on the pair's row in
hotro's database (bot/channels/state.py): one replica spends it and stores the new pair
before using it, the others wait and use that pair; a restart uses it too. Network
errors, HTTP 5xx and rate limiting (-32) are retried with exponential backoff. A message
that still cannot go out (messaging window closed: -230 "not interacted in the past 7
days", -232, -213 not a follower, -211/-218 out of quota, -227 inactive, -244
restricted; or any other final error) is never lost: it is put on the conversation's
handoff ticket (opened if there is none, so an agent sees it) with its error code
(`undelivered_messages(sender_id)`) and logged.

Buttons (bot/channels/buttons.py): `buttons: numbered` (default) sends them as numbered
lines; `buttons: list` sends the text and then a `list` template whose `oa.query.hide`
buttons send the payload back (Zalo documents no v3 `list` template for consultation
messages, hence not the default). Either way the numbers are remembered per customer.

Credentials (under `bot.channels.zalo.ZaloInput`): `app_id`, `app_secret` (token
refresh), `oa_secret_key` (webhook signature; defaults to app_secret), `access_token`,
`refresh_token`, `openapi_url` (default https://openapi.zalo.me), `oauth_url` (default
https://oauth.zaloapp.com), `buttons`, `retry_attempts`, `retry_backoff`,
`timeout`. "${ENV_VAR}" values are expanded here (see bot/channels/webhook_base.py); a
missing app id or secret leaves the webhook refusing every request instead of stopping
the server.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from bot.channels.buttons import (ZALO_MAX_TEXT_CHARS, choice_from_reply,
                                  choices_of, clean_id, clean_text, normalize_buttons,
                                  numbered_text, split_text, unreadable_message,
                                  zalo_list_template)
from bot.channels.state import ChannelStore, ZaloChoicesRow, ZaloTokensRow, upsert
from bot.channels.webhook_base import (NETWORK_ERRORS, ChannelSendError, OnNewMessage,
                                       RetryingHttpClient, WebhookInputMixin, expand_env,
                                       keep_undelivered)
from bot.handoff.store import ticket_store

logger = logging.getLogger(__name__)

DEFAULT_OPENAPI_URL = "https://openapi.zalo.me"
DEFAULT_OAUTH_URL = "https://oauth.zaloapp.com"
MAX_BODY_BYTES = 256 * 1024
CHOICES_TTL_SECONDS = 24 * 3600
REFRESH_MARGIN_SECONDS = 300

TOKEN_ERRORS = {-216, -220, -124}  # access token invalid / expired / removed
RETRYABLE_ERRORS = {-32}  # rate limited
WINDOW_CLOSED_ERRORS = {
    -230: "user has not interacted with the OA in the past 7 days",
    -232: "user has not interacted with the OA, or the last interaction expired",
    -213: "user has not followed the OA",
    -211: "out of quota",
    -218: "out of quota for this receiver",
    -227: "user is banned or inactive for more than 45 days",
    -244: "user has restricted this message type",
}


# ---------------------------------------------------------------- signatures

def zalo_signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The `X-ZEvent-Signature` header value Zalo sends for `body`."""
    digest = hashlib.sha256(app_id.encode("utf-8") + body + str(timestamp).encode("utf-8")
                            + oa_secret_key.encode("utf-8")).hexdigest()
    return f"mac={digest}"


def verify_zalo_signature(app_id: Optional[str], oa_secret_key: Optional[str], body: bytes,
                          timestamp: Any, header: Optional[str]) -> bool:
    """True when `header` is "mac=<sha256(app_id + body + timestamp + OA secret key)>".

    Nothing verifies without an app id, a secret and a string or integer timestamp.
    """
    if not app_id or not oa_secret_key or not header or not isinstance(header, str):
        return False
    if isinstance(timestamp, bool) or not isinstance(timestamp, (str, int)) or timestamp == "":
        return False
    method, _, digest = header.strip().partition("=")
    if method.strip().lower() != "mac" or not digest:
        return False
    expected = zalo_signature(app_id, body, str(timestamp), oa_secret_key)[len("mac="):]
    return hmac.compare_digest(expected, digest.strip().lower())


# ---------------------------------------------------------------- state (hotro's database)

TokenPair = Tuple[str, str, Optional[float]]  # access token, refresh token, expires at


class ZaloStore(ChannelStore):
    """What every replica shares (bot/channels/state.py): the rotating token pair, handled
    msg_ids and the numbered choices pending per customer."""

    channel = "zalo"

    # tokens ---------------------------------------------------------------
    def load_tokens(self, app_id: str, access_token: str, refresh_token: str) -> TokenPair:
        """The token pair to use: the stored (rotated) one, unless credentials now hold a
        different refresh token than the one the stored pair descends from (an admin
        authorized the app again), in which case the credentials' pair is used and stored."""
        row = self._tokens_row(app_id)
        if row is not None and (not refresh_token or row.seed_refresh_token == refresh_token):
            return row.access_token, row.refresh_token, row.expires_at
        if access_token or refresh_token:
            upsert(self.engine, ZaloTokensRow, {"app_id": app_id},
                   {"access_token": access_token, "refresh_token": refresh_token,
                    "expires_at": None, "seed_refresh_token": refresh_token,
                    "updated_at": time.time()})
        return access_token, refresh_token, None

    def tokens(self, app_id: str) -> Optional[Dict[str, Any]]:
        row = self._tokens_row(app_id)
        return None if row is None else {"access_token": row.access_token,
                                         "refresh_token": row.refresh_token,
                                         "expires_at": row.expires_at}

    def _tokens_row(self, app_id: str, db: Optional[Connection] = None) -> Any:
        if db is None:
            with self.engine.connect() as db:
                return self._tokens_row(app_id, db)
        return db.execute(select(ZaloTokensRow).where(ZaloTokensRow.app_id == app_id)).first()

    def refresh_once(self, app_id: str, failed_token: Optional[str], refresh_token: str,
                     spend: Callable[[str], TokenPair]) -> TokenPair:
        """The pair after `failed_token`, refreshed once across every process: the row is
        locked (PostgreSQL: the row until commit; SQLite: the database's write lock) while
        `spend(refresh token)` trades the single-use refresh token for a new pair, so a
        replica that comes second waits, then finds and uses the pair the first stored.
        `refresh_token`: what to spend when nothing is stored yet. Blocking."""
        with self.engine.begin() as db:
            db.execute(update(ZaloTokensRow).where(ZaloTokensRow.app_id == app_id)
                       .values(updated_at=ZaloTokensRow.updated_at))  # takes the lock
            row = self._tokens_row(app_id, db)
            if row is not None and failed_token is not None \
                    and row.access_token != failed_token:
                logger.info("zalo access token already refreshed by another process")
                return row.access_token, row.refresh_token, row.expires_at
            pair = spend(row.refresh_token if row is not None else refresh_token)
            values = dict(zip(("access_token", "refresh_token", "expires_at"), pair),
                          updated_at=time.time())
            if row is None:
                db.execute(insert(ZaloTokensRow).values(app_id=app_id, **values))
            else:
                db.execute(update(ZaloTokensRow).where(ZaloTokensRow.app_id == app_id)
                           .values(**values))
            return pair

    # numbered choices -----------------------------------------------------
    def set_choices(self, sender: str, choices: List[Dict[str, str]]) -> None:
        if choices:
            upsert(self.engine, ZaloChoicesRow, {"sender": sender},
                   {"choices": json.dumps(choices, ensure_ascii=False), "at": time.time()})
        else:
            with self.engine.begin() as db:
                db.execute(delete(ZaloChoicesRow).where(ZaloChoicesRow.sender == sender))

    def take_choices(self, sender: str) -> List[Dict[str, str]]:
        """The customer's pending choices (then forgotten: they answer one message)."""
        with self.engine.begin() as db:
            row = db.execute(select(ZaloChoicesRow.choices, ZaloChoicesRow.at)
                             .where(ZaloChoicesRow.sender == sender)).first()
            db.execute(delete(ZaloChoicesRow).where(ZaloChoicesRow.sender == sender))
        if not row or time.time() - row.at > CHOICES_TTL_SECONDS:
            return []
        try:
            return json.loads(row.choices)
        except ValueError:
            return []


def undelivered_messages(sender_id: str, url: Optional[str] = None) -> List[Dict[str, Any]]:
    """Messages to this Zalo customer that could not be delivered, oldest first (on their
    handoff tickets, in the database at `url`, default hotro's): dicts with sender, text,
    error_code (Zalo's code as text, or "network"/"http 503"...), error (description),
    window_closed, ticket_id and created_at."""
    return ticket_store(url).undelivered_to(ZaloStore.channel, sender_id)


# ---------------------------------------------------------------- OpenAPI client

class ZaloError(ChannelSendError):
    pass


class ZaloClient(RetryingHttpClient):
    """Consultation messages with token refresh and retries (see module doc)."""

    def __init__(self, store: ZaloStore, app_id: str, app_secret: str, access_token: str,
                 refresh_token: str, openapi_url: str = DEFAULT_OPENAPI_URL,
                 oauth_url: str = DEFAULT_OAUTH_URL, retry_attempts: int = 3,
                 retry_backoff: float = 0.5, timeout: float = 15) -> None:
        super().__init__(retry_attempts, retry_backoff, timeout)
        self.store = store
        self.app_id = app_id
        self.app_secret = app_secret
        self.openapi_url = openapi_url.rstrip("/")
        self.oauth_url = oauth_url.rstrip("/")
        self.access_token, self.refresh_token, self.expires_at = (
            store.load_tokens(app_id, access_token, refresh_token) if app_id
            else (access_token, refresh_token, None))
        self._refresh_lock: Optional[asyncio.Lock] = None
        self._refresh_lock_loop: Optional[asyncio.AbstractEventLoop] = None

    async def _request(self, url: str, **kwargs: Any) -> Dict[str, Any]:
        try:
            async with self._get_session().post(url, **kwargs) as reply:
                status, text = reply.status, await reply.text()
        except NETWORK_ERRORS as error:
            raise ZaloError(f"network error: {error!r}", "network", retryable=True)
        if status >= 500:
            raise ZaloError(f"HTTP {status}: {text[:200]}", f"http {status}", retryable=True)
        try:
            data = json.loads(text)
        except ValueError:
            raise ZaloError(f"HTTP {status}, not JSON: {text[:200]}", f"http {status}")
        if not isinstance(data, dict):
            raise ZaloError(f"HTTP {status}, unexpected answer: {text[:200]}", f"http {status}")
        return data

    async def refresh(self, failed_token: Optional[str]) -> None:
        """New access and refresh tokens after `failed_token`: one refresh at a time in this
        process, and the refresh token spent once across processes (ZaloStore.refresh_once)."""
        if self._refresh_lock is None or self._refresh_lock_loop is not asyncio.get_running_loop():
            self._refresh_lock = asyncio.Lock()
            self._refresh_lock_loop = asyncio.get_running_loop()
        async with self._refresh_lock:
            if failed_token is not None and self.access_token != failed_token:
                return  # another send refreshed it meanwhile
            if not self.app_secret:
                raise ZaloError("access token expired and no app secret", "refresh")
            loop = asyncio.get_running_loop()

            def spend(refresh_token: str) -> TokenPair:  # in the worker thread, holding the lock
                return asyncio.run_coroutine_threadsafe(self._spend(refresh_token), loop).result()
            self.access_token, self.refresh_token, self.expires_at = await asyncio.to_thread(
                self.store.refresh_once, self.app_id, failed_token, self.refresh_token, spend)

    async def _spend(self, refresh_token: str) -> TokenPair:
        """Trades the single-use `refresh_token` for a new pair at Zalo's OAuth endpoint."""
        if not refresh_token:
            raise ZaloError("access token expired and no refresh token", "refresh")
        data = await self._request(
            f"{self.oauth_url}/v4/oa/access_token", headers={"secret_key": self.app_secret},
            data={"app_id": self.app_id, "refresh_token": refresh_token,
                  "grant_type": "refresh_token"})
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not access or not isinstance(refresh, str) \
                or not refresh:
            logger.error("zalo token refresh failed: %s. An OA admin must authorize the "
                         "app again and put the new tokens in the credentials.",
                         json.dumps(data, ensure_ascii=False)[:300])
            raise ZaloError(f"token refresh failed: {data.get('error_name') or data}",
                            "refresh")
        try:
            expires_at = time.time() + float(data.get("expires_in") or 0) or None
        except (TypeError, ValueError):
            expires_at = None
        logger.info("zalo access token refreshed (refresh token rotated and stored)")
        return access, refresh, expires_at

    async def _send_once(self, body: Dict[str, Any], refreshed: bool) -> Dict[str, Any]:
        if not refreshed and self.expires_at and \
                time.time() > self.expires_at - REFRESH_MARGIN_SECONDS:
            await self.refresh(self.access_token)
        token = self.access_token
        data = await self._request(f"{self.openapi_url}/v3.0/oa/message/cs",
                                   headers={"access_token": token or ""}, json=body)
        code = data.get("error", 0)
        if code == 0:
            return data
        message = str(data.get("message", ""))[:200]
        if code in TOKEN_ERRORS and not refreshed:
            logger.info("zalo access token rejected (%s %s); refreshing", code, message)
            await self.refresh(token)
            return await self._send_once(body, refreshed=True)
        raise ZaloError(f"error {code}: {message}", code, retryable=code in RETRYABLE_ERRORS)

    async def send(self, body: Dict[str, Any]) -> Dict[str, Any]:
        return await self._with_retries(lambda: self._send_once(body, refreshed=False),
                                        self.retry_attempts, ZaloError, logger, "zalo")


# ---------------------------------------------------------------- output channel

class ZaloOutput(OutputChannel):
    """Sends bot and agent messages to a Zalo user (OA-scoped user_id)."""

    @classmethod
    def name(cls) -> Text:
        return "zalo"

    def __init__(self, client: ZaloClient, buttons_style: str = "numbered") -> None:
        super().__init__()
        self.client = client
        self.store = client.store
        self.buttons_style = buttons_style

    async def _deliver(self, recipient_id: str, message: Dict[str, Any]) -> Optional[ZaloError]:
        try:
            await self.client.send({"recipient": {"user_id": recipient_id}, "message": message})
            return None
        except ZaloError as error:
            return error

    async def _send(self, recipient_id: str, message: Dict[str, Any], shown_text: str) -> bool:
        """Sends; what cannot be delivered is logged and kept in the undelivered table."""
        error = await self._deliver(recipient_id, message)
        if error is None:
            return True
        if error.code in WINDOW_CLOSED_ERRORS:
            logger.warning("zalo message to %s not delivered: messaging window closed "
                           "(%s, %s); recorded as undelivered", recipient_id, error.code,
                           WINDOW_CLOSED_ERRORS[error.code])
        else:
            logger.error("zalo message to %s not delivered (%s); recorded as undelivered",
                         recipient_id, error)
        await keep_undelivered(self.store.channel, recipient_id, shown_text, error.code, str(error),
                               error.code in WINDOW_CLOSED_ERRORS, logger)
        return False

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in split_text(text, ZALO_MAX_TEXT_CHARS):
            await self._send(recipient_id, {"text": part}, part)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text,
                                     buttons: List[Dict[Text, Any]], **kwargs: Any) -> None:
        parsed = normalize_buttons(buttons)
        language = kwargs.get("language", "vi")  # of the reply (bot.nlg), for the hints
        # SQL off the event loop: on PostgreSQL it is a round trip to another host
        await asyncio.to_thread(self.store.set_choices, recipient_id, choices_of(parsed))
        if self.buttons_style != "list" or not parsed:
            await self.send_text_message(recipient_id, numbered_text(text, parsed, language))
            return
        await self.send_text_message(recipient_id, text)
        error = await self._deliver(recipient_id, zalo_list_template(parsed, language))
        if error is not None:
            # The list template is not documented for v3 consultation messages: when it is
            # refused, the same choices go out as numbered text (the numbers work either way).
            logger.info("zalo list template to %s refused (%s); sending numbered choices",
                        recipient_id, error)
            await self.send_text_message(recipient_id, numbered_text("", parsed, language))

    async def send_quick_replies(self, recipient_id: Text, text: Text,
                                 quick_replies: List[Dict[Text, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, {"attachment": {"type": "template", "payload": {
            "template_type": "media", "elements": [{"media_type": "image", "url": image}]}}},
            image)

    async def send_elements(self, recipient_id: Text, elements: Iterable[Dict[Text, Any]],
                            **kwargs: Any) -> None:
        for element in elements:
            title = " — ".join(str(element.get(k)) for k in ("title", "subtitle")
                               if element.get(k))
            await self.send_text_with_buttons(recipient_id, title,
                                              element.get("buttons") or [], **kwargs)

    async def send_custom_json(self, recipient_id: Text, json_message: Any, **kwargs: Any) -> None:
        """Custom JSON with "text" or "attachment" is sent as the Zalo `message` object."""
        messages = json_message if isinstance(json_message, list) else [json_message]
        for message in messages:
            if isinstance(message, dict):
                message = {k: v for k, v in message.items() if k in ("text", "attachment")}
                if message:
                    await self._send(recipient_id, message,
                                     json.dumps(message, ensure_ascii=False))


# ---------------------------------------------------------------- input channel

def classify_event(event: Dict[str, Any]) -> Tuple[str, Optional[str], Optional[str], Optional[str]]:
    """(kind, sender, text, msg_id): kind "text", "unreadable" (other user_send_*),
    "ignore" (echo, receipt, follow... and events that are not a customer message)."""
    name = event.get("event_name")
    if not isinstance(name, str) or not name.startswith("user_send_") \
            or name.startswith("user_send_group_"):
        return "ignore", None, None, None
    sender = event.get("sender")
    sender = clean_id(sender.get("id") if isinstance(sender, dict) else None)
    if sender is None:
        return "ignore", None, None, None
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    msg_id = clean_id(message.get("msg_id"), 256)
    if name == "user_send_text":
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            return "text", sender, clean_text(text), msg_id
    return "unreadable", sender, unreadable_message(name[len("user_send_"):]), msg_id


class ZaloInput(WebhookInputMixin, InputChannel):
    """Zalo OA webhook and channel (see module doc)."""

    label, log, max_body_bytes = "zalo", logger, MAX_BODY_BYTES

    @classmethod
    def name(cls) -> Text:
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        c = {k: expand_env(v) for k, v in (credentials or {}).items()}
        return cls(app_id=str(c.get("app_id") or ""), app_secret=str(c.get("app_secret") or ""),
                   oa_secret_key=str(c.get("oa_secret_key") or ""),
                   access_token=str(c.get("access_token") or ""),
                   refresh_token=str(c.get("refresh_token") or ""),
                   openapi_url=c.get("openapi_url") or DEFAULT_OPENAPI_URL,
                   oauth_url=c.get("oauth_url") or DEFAULT_OAUTH_URL,
                   buttons=c.get("buttons") or "numbered",
                   retry_attempts=int(c.get("retry_attempts") or 3),
                   retry_backoff=float(c.get("retry_backoff") or 0.5),
                   timeout=float(c.get("timeout") or 15))

    def __init__(self, app_id: str, app_secret: str, oa_secret_key: str = "",
                 access_token: str = "", refresh_token: str = "",
                 openapi_url: str = DEFAULT_OPENAPI_URL, oauth_url: str = DEFAULT_OAUTH_URL,
                 buttons: str = "numbered", retry_attempts: int = 3,
                 retry_backoff: float = 0.5, timeout: float = 15) -> None:
        self.app_id = app_id
        self.oa_secret_key = oa_secret_key or app_secret
        if buttons not in ("numbered", "list"):
            raise ValueError(f"zalo `buttons` must be 'numbered' or 'list', not {buttons!r}")
        self.buttons_style = buttons
        self.store = ZaloStore()
        self.client = ZaloClient(self.store, app_id, app_secret, access_token, refresh_token,
                                 openapi_url, oauth_url, retry_attempts, retry_backoff, timeout)
        self._init_webhook_state()
        self.configured = bool(app_id and self.oa_secret_key)
        if not self.configured:
            logger.warning("Zalo channel not configured (app_id or OA secret key empty): its "
                           "webhook refuses every request")
        elif not (self.client.access_token or self.client.refresh_token):
            logger.warning("Zalo channel has no access or refresh token: replies will be "
                           "recorded as undelivered")

    def get_output_channel(self) -> OutputChannel:
        return ZaloOutput(self.client, self.buttons_style)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        zalo_webhook = Blueprint("hotro_zalo_webhook", __name__)
        self._add_webhook_routes(zalo_webhook, on_new_message)
        return zalo_webhook

    async def _receive(self, request: Request,
                       on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        refused = self._precheck(request)
        if refused is not None:
            return refused
        body = request.body or b""
        header = request.headers.get("X-ZEvent-Signature")
        if not header:
            return self._reject(request, 403, "missing X-ZEvent-Signature")
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self._reject(request, 400, "body is not JSON")
        if not isinstance(event, dict):
            return self._reject(request, 400, "body is not a JSON object")
        if not verify_zalo_signature(self.app_id, self.oa_secret_key, body,
                                     event.get("timestamp"), header):
            return self._reject(request, 403, "wrong X-ZEvent-Signature")
        kind, sender, text, msg_id = classify_event(event)
        name = clean_text(str(event.get("event_name")))[:64]
        if kind == "ignore":
            logger.debug("ignored zalo event %s", name)
            return response.json({"status": "ignored"})
        if msg_id is not None and not await asyncio.to_thread(self.store.first_time, msg_id):
            logger.info("ignored duplicate zalo message %s from %s", msg_id, sender)
            return response.json({"status": "duplicate"})
        if self._too_fast(sender, msg_id, lambda notice: ZaloOutput(
                self.client, self.buttons_style).send_text_message(sender, notice)):
            return response.json({"status": "too_fast"})
        text = self._clip(text, msg_id, sender)
        self._spawn(self._handle(kind, name, sender, text, msg_id, on_new_message))
        return response.json({"status": "ok"})

    async def _handle(self, kind: str, event_name: str, sender: str, text: Optional[str],
                      msg_id: Optional[str], on_new_message: OnNewMessage) -> None:
        async def work() -> None:
            out = ZaloOutput(self.client, self.buttons_style)
            choices = await asyncio.to_thread(self.store.take_choices, sender)
            if kind == "unreadable":
                logger.info("zalo customer %s sent %s, which the bot cannot read", sender, event_name)
                if choices:  # keep the question open
                    await asyncio.to_thread(self.store.set_choices, sender, choices)
            payload = choice_from_reply(text, choices) if kind == "text" else None
            if payload is not None:
                logger.info("zalo customer %s chose %r", sender, payload)
            await on_new_message(UserMessage(
                payload if payload is not None else text, out, sender,
                input_channel=self.name(),
                metadata={"msg_id": msg_id, "typed": text} if payload is not None
                else ({"msg_id": msg_id} if msg_id else None)))
        await self._in_order(sender, msg_id, work)
