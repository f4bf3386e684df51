"""An agent's availability toggle: "away" agents are not counted online, so the handoff
decision (bot/handoff/handoff.py: nobody online → the customer is told so and asked for a
call-back number) and the queue estimate (minutes per ticket ÷ agents online) leave them
out, though their console is open. Kept in the ticket database (table `agent_away`), so
every process and a restart see it.

  GET  /api/availability    {"available": bool, "online": agents online now}
  POST /api/availability    {"available": bool}; agents, leads and admins (403 otherwise),
                            anything but a boolean 400.
"""
from __future__ import annotations

import logging

from aiohttp import web

from bot.console.tickets import Refused, check_works_tickets
from bot.console.web import INBOX, TICKETS, blocking, json_body, json_error, user_of

log = logging.getLogger(__name__)


async def _state(request: web.Request) -> web.Response:
    store, user = request.app[TICKETS], user_of(request)
    away = await blocking(store.away_usernames)
    return web.json_response({"available": user.username not in away,
                              "online": await blocking(store.agents_online)})


async def api_get(request: web.Request) -> web.Response:
    return await _state(request)


async def api_set(request: web.Request) -> web.Response:
    body = await json_body(request)
    user = user_of(request)
    try:
        check_works_tickets(user)
        available = body.get("available") if isinstance(body, dict) else None
        if not isinstance(available, bool):
            raise Refused(400, "Cần available: true hoặc false / available must be true or "
                               "false", field="available")
    except Refused as refused:
        log.warning("console: availability of %s refused: %s", user.username, refused.message)
        return json_error(refused.status, refused.message, **refused.extra)
    store = request.app[TICKETS]
    await blocking(store.set_available, user.username, available)
    if available:
        await blocking(store.touch_agent, user.username)
    request.app[INBOX]["dirty"].set()
    log.info("console: %s is %s", user.username, "available" if available else "away")
    return await _state(request)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/availability", api_get)
    app.router.add_post("/api/availability", api_set)
