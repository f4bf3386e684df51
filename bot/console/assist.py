"""Agent assist: the FAQ entries that best match the customer's latest message on a ticket,
with their scores and their answer in the ticket's language, for the agent to put into the
composer, edit and send (nothing is sent from here).

  GET /api/tickets/{id}/suggestions
      {"message": {"text", "time"} or null, "language": "vi"|"en", "floor",
       "decision": the bot's ("answer"|"suggest"|"abstain"), "confidence",
       "best": the top score (also when nothing is shown),
       "suggestions": [{"entry_id", "question", "answer", "answer_language", "score"}]}
      agents, leads and admins (editors do not reply: 403); an unknown ticket 404;
      503 when the FAQ cannot be searched.

The search is the bot's own (bot/kb/service.py: the process's KnowledgeBase, following the
published FAQ), run in a worker thread. The agent sees what the bot itself could stand
behind: nothing when the bot's own decision for the message is "don't know" (the index's
calibrated decision, fitted on the shop's own FAQ, bot/kb/calibration.py), and otherwise the
best entries whose fused score reaches the floor the bot needs to offer an entry as a
suggestion (the calibrated `suggest_floor` for a Vietnamese message, none for an English one
whose scores sit lower, `kb.suggest_threshold` for an index without a calibrated decision).
Measured on the sample FAQ's dev queries (bench/assist_floor.md): the right entry is shown
for 97 % of the answerable Vietnamese messages and 81 % of the English ones, and something
is shown for 43 % of the out-of-scope messages (60 % with the floor alone, 69 % with the
fixed threshold, 100 % with the top three always).
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
from bot.nlu.identifiers import without_identifiers
from bot.text import prepare

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


def suggestion_floor(kb: KnowledgeBase, language: str) -> float:
    """The fused score an entry needs to be shown for a message in `language`: the bot's
    own for offering it as a suggestion (bot.kb.search.decide_calibrated / decide_from_hits)."""
    model = kb.decision_model
    if model is None:
        return float(kb.params.suggest_threshold)
    return 0.0 if language == "en" else float(model.suggest_floor)


def suggest(kb: KnowledgeBase, text: str, language: str) -> Dict[str, Any]:
    """The entries shown for `text` (see the module docstring), each with its answer in
    `language`, the ticket's."""
    message = prepare(without_identifiers(text))
    searched = kb.query(message, language).language  # the message's own, else the ticket's
    decision = kb.decide(message, language=language)
    hits = kb.search(message, k=SHOWN, language=language)
    floor = suggestion_floor(kb, searched)
    shown = [{"entry_id": h.entry_id, "question": suggestion_title(h.entry, language),
              "answer": h.entry.answer(language),
              "answer_language": "en" if language == "en" and h.entry.answer_en else "vi",
              "score": round(h.score, 4)}
             for h in hits if h.score >= floor and decision.kind != "abstain"]
    return {"floor": round(floor, 4), "decision": decision.kind,
            "confidence": round(decision.confidence, 4),
            "best": round(hits[0].score, 4) if hits else 0.0, "suggestions": shown}


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
                           "decision": None, "confidence": 0.0, "best": 0.0, "suggestions": []}
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
