"""CheckedRestInput: Rasa's REST channel with its input checked before the bot sees it.

Rasa's RestInput trusts the body: invalid JSON or a missing field ends in a 500 and a
100 kB message goes through the whole NLU. This channel answers those with a 4xx, a
clear error and a log line, and a sender sending faster than bot/channels/rate_limit.py
allows with 429, Retry-After and the reason in both languages; a valid request is
handled exactly as Rasa's, but for a failure: Rasa answers a message it could not handle
(its lock store, tracker store or event broker down: the turn was not saved) with `200 []`,
which a client takes as "received, no reply": the message was lost. This channel answers
it with 503 and Retry-After instead, so the client sends it again
(tests/integration/test_faults.py: kill -9 of Redis under load lost 12 of 20 messages).
"""
from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple, Union

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels import action_fallback, tracker_errors
from bot.catalogue import bilingual_text
from bot.channels.rate_limit import sender_rate_limit
from bot.limits import MAX_MESSAGE_CHARS

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_CHARS = MAX_MESSAGE_CHARS
MAX_SENDER_CHARS = 128
RETRY_AFTER_FAILURE = 2  # seconds

# Did Rasa fail to handle this request's message? Sanic serves a request's middleware and
# handler in one task, so the handler's setting is seen by the response middleware.
_not_handled: ContextVar[bool] = ContextVar("rest_not_handled", default=False)


def read_rest_body(raw: bytes, max_message_chars: int) -> Union[Dict[str, Any], Tuple[int, str]]:
    """The body, when it is a message the bot should read; else (status, error)."""
    if len(raw) > 8 * max_message_chars + 4096:  # cheap bound before parsing
        return 413, f"message too long: body of {len(raw)} bytes, limit {max_message_chars} characters"
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        return 400, "body must be JSON: {\"sender\": \"...\", \"message\": \"...\"}"
    if not isinstance(body, dict):
        return 400, "body must be a JSON object"
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        return 400, f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters"
    if not isinstance(message, str) or not message.strip():
        return 400, "'message' must be a non-empty string"
    if len(message) > max_message_chars:
        return 413, f"message too long: {len(message)} characters, limit {max_message_chars}"
    if "metadata" in body and not isinstance(body["metadata"], (dict, type(None))):
        return 400, "'metadata' must be a JSON object"
    return body


class CheckedRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"  # same webhook path as Rasa's: /webhooks/rest/webhook

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "CheckedRestInput":
        credentials = credentials or {}
        return cls(int(credentials.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)))

    def __init__(self, max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS) -> None:
        self.max_message_chars = max_message_chars
        self.rate_limit = sender_rate_limit("rest")

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        async def handle(message: UserMessage) -> None:
            try:
                await on_new_message(message)
            except Exception:
                _not_handled.set(True)  # RestInput logs it and answers 200 []
                raise

        blueprint = super().blueprint(handle)
        action_fallback.install(blueprint)
        tracker_errors.install(blueprint)

        @blueprint.middleware("request")
        async def reject_bad_input(request: Request) -> Optional[response.HTTPResponse]:
            if request.method != "POST":
                return None
            _not_handled.set(False)  # a keep-alive connection's requests share one task
            body = read_rest_body(request.body, self.max_message_chars)
            if isinstance(body, tuple):
                status, error = body
                logger.warning("rejected REST message from %s (%d): %s",
                               request.remote_addr or request.ip, status, error)
                return response.json({"error": error}, status=status)
            sender = body["sender"]
            allowed, _ = self.rate_limit.check(sender)
            if allowed:
                return None
            wait = self.rate_limit.retry_after(sender)
            logger.warning("rejected REST message from sender %.64s (429): more than %d messages "
                           "at once or %g a minute", sender, self.rate_limit.burst,
                           self.rate_limit.per_second * 60)
            return response.json({"error": bilingual_text("utter_refused_too_fast")}, status=429,
                                 headers={"Retry-After": str(wait)})

        @blueprint.middleware("response")
        async def not_handled_is_not_received(request: Request, _response: Any
                                              ) -> Optional[response.HTTPResponse]:
            if request.method != "POST" or not _not_handled.get():
                return None
            logger.error("REST message not handled (see the error above): answered 503, the "
                         "client sends it again")
            return response.json({"error": bilingual_text("utter_refused_not_handled")},
                                 status=503, headers={"Retry-After": str(RETRY_AFTER_FAILURE)})

        return blueprint
