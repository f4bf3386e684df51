"""Webhook scaffolding shared by the Messenger and Zalo channels.

Holds: `expand_env` (credentials), `keep_undelivered` (a message that could not go out,
onto the conversation's handoff ticket), `ChannelSendError` + `RetryingHttpClient`
(pooled aiohttp session per event loop, retries with exponential backoff) and
`WebhookInputMixin` (rejections with a log line, background tasks, per-sender locks and
rate limit, health route and the never-500 webhook wrapper, which takes calls one at a time
in the order they came, their database writes in a thread, off the event loop).

A webhook is acknowledged before its message is handled (Meta and Zalo want a quick 200 and
never resend what was acknowledged), so a message that failed because a store was down
(`store_unavailable`: Redis lock store, PostgreSQL tracker store or event broker, hotro's
database) is handled again, with backoff, until it is back (`STORE_RETRY_FOR`): else it
would be lost, in no tracker and seen by no agent (tests/integration/test_faults.py).
Log lines keep each channel's logger and wording: tests and operators grep them.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import time
import weakref
from typing import Any, Awaitable, Callable, Dict, Optional, Type

import aiohttp
import redis.exceptions
import sqlalchemy.exc
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import action_fallback, tracker_errors
from bot.catalogue import bilingual_text
from bot.channels.rate_limit import sender_rate_limit
from bot.handoff.handoff import hand_off_undelivered
from bot.limits import MAX_MESSAGE_CHARS

MAX_TEXT_CHARS = MAX_MESSAGE_CHARS  # as the REST channel
# What a request to the channel's API raises when the network, not the API, failed.
NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)

# ---------------------------------------------------------------- configuration

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: Any) -> Any:
    """"${VAR}" / "${VAR:-default}" in a string replaced from the environment ("" if unset)."""
    if not isinstance(value, str):
        return value
    return _ENV.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)


async def keep_undelivered(channel: str, sender: str, text: str, error_code: Any, error: str,
                           window_closed: bool, log: logging.Logger) -> None:
    """A message that could not go out: kept on the conversation's handoff ticket (opened if
    there is none; bot/handoff), so a person sees it instead of it being lost."""
    try:  # blocking SQL, off the event loop; the channel must go on whatever happens
        await asyncio.to_thread(hand_off_undelivered, sender, channel, text, error,
                                window_closed, error_code)
    except Exception:
        log.exception("%s message to %s not put on a handoff ticket; its text: %r", channel,
                      sender, text)


# ---------------------------------------------------------------- HTTP client

class ChannelSendError(Exception):
    """A send that failed; `retryable` when a later attempt may pass."""

    def __init__(self, message: str, code: Any = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class RetryingHttpClient:
    """Pooled aiohttp session and retry with exponential backoff for a channel's API."""

    def __init__(self, retry_attempts: int, retry_backoff: float, timeout: float) -> None:
        self.retry_attempts = max(1, int(retry_attempts))
        self.retry_backoff = float(retry_backoff)
        self.timeout = aiohttp.ClientTimeout(total=float(timeout))
        self._session: Optional[aiohttp.ClientSession] = None
        self._session_loop: Optional[asyncio.AbstractEventLoop] = None

    def _get_session(self) -> aiohttp.ClientSession:
        """One pooled session per event loop (the server has one; tests may have several)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
            self._session_loop = loop
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def _with_retries(self, attempt_once: Callable[[], Awaitable[Dict[str, Any]]],
                            attempts: int, error_type: Type[ChannelSendError],
                            log: logging.Logger, label: str) -> Dict[str, Any]:
        for attempt in range(1, attempts + 1):
            try:
                return await attempt_once()
            except error_type as error:
                if not error.retryable or attempt == attempts:
                    raise
                delay = self.retry_backoff * 2 ** (attempt - 1)
                log.warning("%s send failed (%s), retry %d/%d in %.1fs",
                            label, error, attempt, attempts - 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")


# ---------------------------------------------------------------- stores down

STORE_RETRY_FIRST = 1.0  # seconds before the first retry, doubling...
STORE_RETRY_MAX = 30.0  # ...up to this
STORE_RETRY_FOR = 300.0  # seconds after which a message is given up


def store_unavailable(error: BaseException) -> bool:
    """Did handling fail because a store could not be reached (so it will pass once the
    store is back), rather than because of a bug? LockError: Redis lost the conversation's
    lock (restarted empty) or could not give it."""
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        return isinstance(error, (sqlalchemy.exc.OperationalError,
                                  sqlalchemy.exc.InterfaceError)) or error.connection_invalidated
    return isinstance(error, (LockError, redis.exceptions.ConnectionError,
                              redis.exceptions.TimeoutError, ConnectionError))


# ---------------------------------------------------------------- input channel


class KeyedLocks:
    """One asyncio.Lock per key (a customer), dropped once nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: "weakref.WeakValueDictionary[str, asyncio.Lock]" = weakref.WeakValueDictionary()

    def __call__(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class WebhookInputMixin:
    """For an InputChannel: subclasses set `label` ("messenger", "zalo") and `log`, call
    `_init_webhook_state()` and implement `_receive(request, on_new_message)`."""

    label: str = ""
    log: logging.Logger = logging.getLogger(__name__)
    max_body_bytes: int = 0
    configured: bool = False

    def _init_webhook_state(self) -> None:
        self._tasks: set = set()  # strong references: the loop keeps only weak ones
        # Webhook calls are taken one at a time, in the order they arrived (asyncio's lock is
        # first come, first served): their dedupe writes run in a thread, off the event
        # loop, and a customer's messages still reach the bot in the order they were sent.
        self._taking = asyncio.Lock()
        self._lock = KeyedLocks()  # a sender's messages are handled one after another
        self.rate_limit = sender_rate_limit(self.label)

    def _reject(self, request: Request, status: int, error: str) -> HTTPResponse:
        self.log.warning("rejected %s webhook from %s (%d): %s",
                         self.label, request.remote_addr or request.ip, status, error)
        return response.json({"error": error}, status=status)

    def _precheck(self, request: Request) -> Optional[HTTPResponse]:
        """The refusal of a request to an unconfigured channel or with a too large body."""
        if not self.configured:
            return self._reject(request, 403, f"{self.label} channel not configured")
        body = request.body or b""
        if len(body) > self.max_body_bytes:
            return self._reject(request, 413, f"body of {len(body)} bytes is too large")
        return None

    def _clip(self, text: Optional[str], key: Optional[str], sender: Optional[str]
              ) -> Optional[str]:
        """A too long message cut to what the bot reads, with a log line."""
        if text is not None and len(text) > MAX_TEXT_CHARS:
            self.log.warning("%s message %s from %s has %d characters; the bot reads the "
                             "first %d", self.label, key, sender, len(text), MAX_TEXT_CHARS)
            text = text[:MAX_TEXT_CHARS]
        return text

    def _too_fast(self, sender: str, key: Optional[str],
                  tell: Callable[[str], Awaitable[Any]]) -> bool:
        """True when `sender` sends faster than the rate limit: the message is dropped with
        a log line, and the first of a streak is answered, through `tell`, with why."""
        allowed, first = self.rate_limit.check(sender)
        if allowed:
            return False
        self.log.warning("dropped %s message %s from %s: more than %d messages at once or %g "
                         "a minute", self.label, key, sender, self.rate_limit.burst,
                         self.rate_limit.per_second * 60)
        if first:
            notice = bilingual_text("utter_refused_too_fast")
            self._spawn(self._in_order(sender, key, lambda: tell(notice)))
        return True

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _in_order(self, sender: str, key: Optional[str],
                        work: Callable[[], Awaitable[Any]]) -> None:
        """Runs `work` after the sender's earlier messages (which wait behind it). A store
        down: run again with backoff for up to STORE_RETRY_FOR. Other failures (a bug) are
        only logged: running again could send the replies twice. (A store lost in the middle
        of a turn, after its replies went out, may answer it twice: better than lost.)"""
        lock = self._lock(sender)  # strong reference while this task runs
        async with lock:
            deadline = time.monotonic() + STORE_RETRY_FOR
            delay = STORE_RETRY_FIRST
            for attempt in itertools.count(1):
                try:
                    await work()
                    return
                except Exception as error:
                    if not store_unavailable(error):
                        self.log.exception("failed to handle %s message %s from %s",
                                           self.label, key, sender)
                        return
                    if time.monotonic() + delay > deadline:
                        self.log.error("gave up on %s message %s from %s after %d attempts in "
                                       "%.0f s: a store stayed unavailable; the message is "
                                       "lost", self.label, key, sender, attempt,
                                       STORE_RETRY_FOR, exc_info=True)
                        return
                    self.log.warning("%s message %s from %s not handled, a store is "
                                     "unavailable (%s: %s): retry %d in %.0f s", self.label,
                                     key, sender, type(error).__name__, error, attempt, delay)
                await asyncio.sleep(delay)
                delay = min(2 * delay, STORE_RETRY_MAX)

    def _add_webhook_routes(self, blueprint: Blueprint, on_new_message: OnNewMessage) -> None:
        """GET / health and POST /webhook, which never answers 500 (503 while a store is down,
        before the message was taken: Meta resends what was not acknowledged)."""
        action_fallback.install(blueprint)
        tracker_errors.install(blueprint)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self._take_webhook(request, on_new_message)

    async def _take_webhook(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """One POST /webhook: `_receive` it after the calls that came before, never a 500."""
        async with self._taking:
            try:
                return await self._receive(request, on_new_message)  # type: ignore[attr-defined]
            except Exception as error:  # never a 500 for what a caller sent
                if store_unavailable(error):  # hotro's database (the dedupe): not taken
                    self.log.error("%s webhook not taken, a store is unavailable (%s: %s): "
                                   "answered 503, the platform sends it again", self.label,
                                   type(error).__name__, error)
                    return response.json({"error": "temporarily unavailable"}, status=503,
                                         headers={"Retry-After": "2"})
                self.log.exception("rejected %s webhook: unexpected error", self.label)
                return response.json({"error": "could not handle the request"}, status=400)
