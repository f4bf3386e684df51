"""Agent assist: the FAQ entries that best match the customer's latest message on a ticket,
with their scores and their answer in the ticket's language, for the agent to put into the
composer, edit and send (nothing is sent from here).

  GET /api/tickets/{id}/suggestions
      {"message": {"text", "time"} or null, "language": "vi"|"en", "floor",
       "best": the top score (also when under the floor),
       "suggestions": [{"entry_id", "question", "answer", "answer_language", "score"}]}
      agents, leads and admins (editors do not reply: 403); an unknown ticket 404;
      503 when the FAQ cannot be searched.

The search is the bot's own (bot/kb/service.py: the process's KnowledgeBase, following the
published FAQ), run in a worker thread. An entry is shown only when its fused score reaches
the floor at which the bot itself would offer it to a customer as a suggestion: the index's
calibrated `suggest_floor` (the fused score that 70 % of the off-topic messages of
bot/kb/calibration.py stay under, fitted on the shop's own FAQ), or `kb.suggest_threshold`
for an index built without a calibrated decision. Below it the agent reads "no good match"
rather than three unrelated entries (measured: bench/assist_floor.md).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from aiohttp import web

from bot.console.tickets import Refused, check_exists, check_works_tickets
from bot.console.transcripts import live_transcript
from bot.console.web import SETTINGS, TICKETS, blocking, json_error, user_of
from bot.kb.search import KnowledgeBase
from bot.kb.service import get_knowledge_base, suggestion_title

log = logging.getLogger(__name__)

SHOWN = 3  # entries offered to the agent at most
UNREADABLE = "unreadable"  # the channel's stand-in intent for stickers, files, ...


def latest_question(lines: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The customer's latest message worth searching: typed text, not a button payload
    ("/rate{...}") nor something the channel could not read (a sticker)."""
    for line in reversed(lines):
        text = (line.get("text") or "").strip()
        if (line.get("role") == "customer" and text and not text.startswith("/")
                and line.get("intent") != UNREADABLE):
            return {"text": text, "time": line.get("time")}
    return None


def suggestion_floor(kb: KnowledgeBase) -> float:
    """The fused score an entry needs to be shown (see the module docstring)."""
    model = kb.decision_model
    return float(model.suggest_floor) if model is not None else float(kb.params.suggest_threshold)


def suggest(kb: KnowledgeBase, text: str, language: str) -> Dict[str, Any]:
    """The entries for `text` above the floor, each with its answer in `language`."""
    hits = kb.search(text, k=SHOWN, language=language)
    floor = suggestion_floor(kb)
    shown = [{"entry_id": h.entry_id, "question": suggestion_title(h.entry, language),
              "answer": h.entry.answer(language),
              "answer_language": "en" if language == "en" and h.entry.answer_en else "vi",
              "score": round(h.score, 4)}
             for h in hits if h.score >= floor]
    return {"floor": round(floor, 4), "best": round(hits[0].score, 4) if hits else 0.0,
            "suggestions": shown}


def _search(settings: Dict[str, Any], text: str, language: str) -> Dict[str, Any]:
    return suggest(get_knowledge_base(settings), text, language)


async def api_suggestions(request: web.Request) -> web.Response:
    user = user_of(request)
    ticket_id = int(request.match_info["id"])
    try:
        check_works_tickets(user)
        ticket = check_exists(await blocking(request.app[TICKETS].get, ticket_id))
    except Refused as refused:
        return json_error(refused.status, refused.message)
    language = ticket.language if ticket.language in ("vi", "en") else "vi"
    lines, _, _ = await live_transcript(request.app, ticket.conversation_id, ticket)
    message = latest_question(lines)
    out: Dict[str, Any] = {"message": message, "language": language, "floor": None,
                           "best": 0.0, "suggestions": []}
    if message is None:
        return web.json_response(out)
    try:
        found = await blocking(_search, request.app[SETTINGS], message["text"], language)
    except Exception as failure:  # noqa: BLE001 - the agent can still answer by hand
        log.exception("console: FAQ suggestions for ticket #%d failed", ticket_id)
        return json_error(503, "Chưa tìm được trong FAQ, hãy thử lại sau. / The FAQ cannot be "
                               "searched right now, please retry later.",
                          detail=f"{type(failure).__name__}: {failure}")
    return web.json_response({**out, **found})


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/api/tickets/{id:\d+}/suggestions", api_suggestions)
