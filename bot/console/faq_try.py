"""The FAQ editor's look at the draft (the store as it is now, unpublished saves included)
through the bot's own search (bot/kb/draft.py), for the roles editor and admin:

  POST /api/faq/try {"text", "language"?}   the entries the bot would rank for a customer's
                                            message, with scores, and its decision: answer /
                                            suggest / abstain ("don't know")
  GET  /api/faq/similar?q=text[&topic=t]    search by meaning: the draft's entries nearest q

The draft's index is built once per store version (the first look after a save embeds the
changed entries); both answer 503 with a message while no index can be built.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Tuple

from aiohttp import web

from bot.console.faq_editor import faq_store, not_editor
from bot.console.web import SETTINGS, blocking, json_body, json_error
from bot.kb.draft import DraftKnowledgeBases, try_message
from bot.kb.search import KnowledgeBase
from bot.limits import MAX_MESSAGE_CHARS

log = logging.getLogger(__name__)

DRAFTS = web.AppKey("faq_drafts", DraftKnowledgeBases)
SIMILAR = 20  # entries a search by meaning lists
UNAVAILABLE = ("Chưa tìm được: chỉ mục FAQ chưa sẵn sàng, hãy thử lại sau ít phút / "
               "The FAQ index is not ready yet, please retry in a few minutes")


async def _draft(request: web.Request) -> Tuple[KnowledgeBase, int]:
    return await blocking(request.app[DRAFTS].get, faq_store(request))


def _text(value: Any) -> Tuple[str, str]:
    """(the message, "") or ("", the error) for a customer's message to try."""
    if not isinstance(value, str) or not value.strip():
        return "", "Nhập tin nhắn của khách / Type a customer's message"
    if len(value) > MAX_MESSAGE_CHARS:
        return "", (f"Tin nhắn quá dài: tối đa {MAX_MESSAGE_CHARS} ký tự / "
                    f"The message is too long: at most {MAX_MESSAGE_CHARS} characters")
    return value, ""


async def api_try(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    body = await json_body(request)
    body = body if isinstance(body, dict) else {}
    text, problem = _text(body.get("text"))
    if problem:
        log.info("console: FAQ try refused: %s", problem)
        return json_error(400, problem, fields={"text": [problem]})
    language = body.get("language") if body.get("language") in ("vi", "en") else None
    try:
        kb, version = await _draft(request)
        result: Dict[str, Any] = await blocking(try_message, kb, text, language)
    except Exception:  # noqa: BLE001 - the editor gets a message, the log the cause
        log.exception("console: the FAQ draft could not be searched")
        return json_error(503, UNAVAILABLE)
    pub = await blocking(faq_store(request).published)
    return web.json_response({**result, "store_version": version,
                              "published_version": pub.version if pub else None})


async def api_similar(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    text, problem = _text(request.query.get("q", ""))
    if problem:
        return json_error(400, problem, fields={"q": [problem]})
    topic = request.query.get("topic", "").strip()
    try:
        kb, version = await _draft(request)
        hits = await blocking(kb.search, text, SIMILAR)
    except Exception:  # noqa: BLE001
        log.exception("console: the FAQ draft could not be searched")
        return json_error(503, UNAVAILABLE)
    rows = [{"id": h.entry_id, "topic": h.entry.topic, "question": h.entry.question,
             "score": round(h.score, 4)} for h in hits if not topic or h.entry.topic == topic]
    return web.json_response({"entries": rows, "store_version": version})


def add_routes(app: web.Application) -> None:
    app[DRAFTS] = DraftKnowledgeBases(app[SETTINGS])
    app.router.add_post("/api/faq/try", api_try)
    app.router.add_get("/api/faq/similar", api_similar)
