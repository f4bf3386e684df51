"""Transfer a ticket to another agent (or reassign it, for leads and admins), or hand the
conversation back to the bot without resolving it.

  GET  /api/agents                      who can take tickets: {"agents": [{"username",
                                        "display_name", "role", "online", "available"}]}
  POST /api/tickets/{id}/transfer       {"to": username, "note": optional text}
  POST /api/tickets/{id}/handback       {"note": optional text}: the bot answers again
                                        (Rasa's `resume`), the ticket waits in the queue
                                        unassigned; same rules as a transfer, and a note

The rules, as plain functions (tickets.py's style):
- only agents, leads and admins work tickets (403);
- the agent holding the ticket may hand it to a colleague; a ticket another agent holds
  only a lead or an admin may reassign (409 with who holds it); an unassigned ticket may
  be given to anyone who works tickets;
- a resolved ticket is not transferred (409);
- the colleague must be an active user who works tickets (400), not the one holding it
  already (400).
The new holder has the conversation: the bot stays paused (Rasa's `pause`, as on assign),
and an internal note says who handed it to whom (with the optional note's text), so the
colleague reads why.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from aiohttp import web

from bot.console.auth import User
from bot.console.notes import NOTES, note_text
from bot.console.rasa import RasaError
from bot.console.tickets import (ALREADY_RESOLVED, Refused, check_exists,
                                 check_not_held_by_other, check_works_tickets, summary)
from bot.console.web import (INBOX, RASA, TICKETS, USERS, blocking, json_body, json_error,
                             user_of)
from bot.handoff.store import RESOLVED, Ticket

log = logging.getLogger(__name__)


def check_may_transfer(user: User, ticket: Ticket) -> None:
    check_works_tickets(user)
    if ticket.status == RESOLVED:
        raise Refused(409, ALREADY_RESOLVED)
    check_not_held_by_other(user, ticket)


def check_colleague(ticket: Ticket, colleague: Optional[User], name: Any) -> User:
    if colleague is None or not colleague.active or not colleague.works_tickets:
        raise Refused(400, f"Không có nhân viên nhận được yêu cầu tên {name!s:.64} / No agent "
                           f"who can take tickets is called {name!s:.64}", field="to")
    if colleague.username == ticket.assigned_to:
        raise Refused(400, f"{colleague.username} đang xử lý yêu cầu này rồi / "
                           f"{colleague.username} already holds this ticket", field="to")
    return colleague


def handover_note(user: User, colleague: User, text: Optional[str]) -> str:
    line = (f"Chuyển cho / Transferred to {colleague.display_name or colleague.username}"
            f" ({colleague.username})")
    return f"{line}: {text}" if text else line


async def api_agents(request: web.Request) -> web.Response:
    users = await blocking(request.app[USERS].list_users)
    store = request.app[TICKETS]
    online = set(await blocking(store.online_usernames))
    away = set(await blocking(store.away_usernames))
    return web.json_response({"agents": [
        {"username": u.username, "display_name": u.display_name, "role": u.role,
         "online": u.username in online and u.username not in away,
         "available": u.username not in away}
        for u in users if u.active and u.works_tickets]})


async def _held_ticket(request: web.Request, user) -> tuple:
    """(the ticket the request names, which `user` may hand on; the request's JSON body; the
    optional note's text). Raises Refused."""
    body = await json_body(request)
    body = body if isinstance(body, dict) else {}
    ticket = check_exists(await blocking(request.app[TICKETS].get, int(request.match_info["id"])))
    check_may_transfer(user, ticket)
    note = body.get("note")
    blank = note is None or (isinstance(note, str) and not note.strip())
    return ticket, body, None if blank else note_text(note)


async def api_transfer(request: web.Request) -> web.Response:
    user = user_of(request)
    try:
        ticket, body, extra = await _held_ticket(request, user)
        name = body.get("to")
        colleague = await blocking(request.app[USERS].get_user, name) \
            if isinstance(name, str) and name else None
        colleague = check_colleague(ticket, colleague, name)
    except Refused as refused:
        log.warning("console: transfer by %s refused: %s", user.username, refused.message)
        return json_error(refused.status, refused.message, **refused.extra)
    ticket = await blocking(request.app[TICKETS].assign, ticket.id, colleague.username)
    await blocking(request.app[NOTES].add, ticket.id, user.username,
                   user.display_name or user.username, handover_note(user, colleague, extra))
    request.app[INBOX]["dirty"].set()
    log.info("console: %s transferred ticket #%d to %s", user.username, ticket.id,
             colleague.username)
    try:  # a person has the conversation: the bot stays quiet
        await request.app[RASA].pause(ticket.conversation_id)
    except RasaError as failure:
        log.error("console: ticket #%d transferred but the bot was NOT paused: %s", ticket.id,
                  failure)
        return json_error(502, "Đã chuyển nhưng chưa tạm dừng được bot; người nhận bấm Nhận xử "
                               "lý để thử lại. / Transferred but the bot was not paused; the "
                               "new holder can press Assign to retry.",
                          detail=str(failure), ticket=summary(ticket))
    return web.json_response({"ok": True, "ticket": summary(ticket)})


HANDED_BACK = "Trả lại cho bot / Handed back to the bot"


async def api_handback(request: web.Request) -> web.Response:
    user = user_of(request)
    try:
        ticket, _, extra = await _held_ticket(request, user)
    except Refused as refused:
        log.warning("console: hand-back by %s refused: %s", user.username, refused.message)
        return json_error(refused.status, refused.message, **refused.extra)
    try:  # resume first: a ticket back in the queue with the bot still paused helps nobody
        # Then listen: rules only read a customer turn that follows action_listen (rasa.py).
        await request.app[RASA].post_events(ticket.conversation_id, [
            {"event": "resume"}, {"event": "action", "name": "action_listen"}])
    except RasaError as failure:
        log.error("console: hand-back of ticket #%d failed, the bot was NOT resumed: %s",
                  ticket.id, failure)
        return json_error(502, "Chưa bật lại được bot, hãy thử lại. / The bot was not resumed, "
                               "please retry.", detail=str(failure))
    ticket = await blocking(request.app[TICKETS].release, ticket.id)
    await blocking(request.app[NOTES].add, ticket.id, user.username,
                   user.display_name or user.username,
                   f"{HANDED_BACK}: {extra}" if extra else HANDED_BACK)
    request.app[INBOX]["dirty"].set()
    log.info("console: %s handed ticket #%d back to the bot", user.username, ticket.id)
    return web.json_response({"ok": True, "ticket": summary(ticket)})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/agents", api_agents)
    app.router.add_post(r"/api/tickets/{id:\d+}/handback", api_handback)
    app.router.add_post(r"/api/tickets/{id:\d+}/transfer", api_transfer)
