"""The inbox and ticket pages and their JSON API: list, read, assign, reply, resolve.

The rules (who may do what, the 409 cases) are bot/console/tickets.py's; here they meet
HTTP, the ticket store and Rasa. Agent replies go through Rasa's HTTP API so they are in
the tracker and reach the customer's channel; taking a ticket and replying pause the bot
(Rasa's `pause` event: the customer's messages reach the tracker and the agent, the bot
says nothing), resolving resumes it and asks for a rating (RATING_ACTION).
"""
from __future__ import annotations

import asyncio
import functools
import logging
from typing import Awaitable, Callable

from aiohttp import web

from bot.console import pages
from bot.console.inbox_rows import customer_of, inbox_rows
from bot.console.rasa import PAUSE, RasaError
from bot.console.search import keep_final_transcript
from bot.console.tickets import (ALREADY_RESOLVED, CLAIM, NO_SUCH_TICKET, RESOLVE, TAKE_OVER,
                                 Refused, assignment, check_claimed, check_exists,
                                 check_may_reply, check_not_held_by_other, check_works_tickets,
                                 claim, reply_text, resolution, summary)
from bot.console.transcripts import linked_transcripts, live_transcript
from bot.console.web import (CONFIG, INBOX, PROFILES, RASA, RESUME_PENDING, TICKETS,
                             blocking, html, json_body, json_error, now_iso, user_of)

log = logging.getLogger(__name__)

RATING_ACTION = "utter_ask_rating"  # the bot asks for CSAT once a person is done


def ticket_id_of(request: web.Request) -> int:
    return int(request.match_info["id"])


def refusals_as_json(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    """A `Refused` from the rules becomes its JSON error response."""
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refused as refused:
            return json_error(refused.status, refused.message, **refused.extra)
    return wrapped


def inbox_changed(request: web.Request) -> None:
    request.app[INBOX]["dirty"].set()  # bot/console/live.py re-reads the list at once


# --- pages ------------------------------------------------------------------------------

async def inbox(request: web.Request) -> web.Response:
    user = user_of(request)
    if user.works_tickets:
        await blocking(request.app[TICKETS].touch_agent, user.username)
    return html(pages.inbox_page(user, request.app[CONFIG]["timezone"]))


async def ticket_view(request: web.Request) -> web.Response:
    user = user_of(request)
    ticket = await blocking(request.app[TICKETS].get, ticket_id_of(request))
    if ticket is None:
        return html(pages.error_page("404", NO_SUCH_TICKET, user), status=404)
    return html(pages.ticket_page(user, ticket.id, request.app[CONFIG]["timezone"]))


# --- JSON API ---------------------------------------------------------------------------

async def api_tickets(request: web.Request) -> web.Response:
    tickets = await blocking(request.app[TICKETS].list)
    rows = await inbox_rows(request.app, tickets, [summary(t) for t in tickets], fresh=True)
    return web.json_response({"tickets": rows, "now": now_iso()})


@refusals_as_json
async def api_ticket(request: web.Request) -> web.Response:
    ticket = check_exists(await blocking(request.app[TICKETS].get, ticket_id_of(request)))
    (lines, source, error), linked, undelivered = await asyncio.gather(
        live_transcript(request.app, ticket.conversation_id, ticket),
        linked_transcripts(request.app, ticket),
        blocking(request.app[TICKETS].undelivered, ticket.id))
    contacts = await blocking(request.app[PROFILES].contacts_of,
                              [(ticket.channel, ticket.conversation_id)])
    customer = customer_of(ticket, contacts.get((ticket.channel or "", ticket.conversation_id)))
    return web.json_response({"ticket": summary(ticket), "customer": customer,
                              "transcript": lines,
                              "source": source, "rasa_error": error, "linked": linked,
                              "undelivered": undelivered, "now": now_iso()})


async def _workable(request: web.Request) -> tuple:
    """(user, ticket) for assign/reply/resolve, or Refused (403, 404)."""
    user = user_of(request)
    check_works_tickets(user)
    ticket = check_exists(await blocking(request.app[TICKETS].get, ticket_id_of(request)))
    return user, ticket


@refusals_as_json
async def api_assign(request: web.Request) -> web.Response:
    await json_body(request)
    user, ticket = await _workable(request)
    store = request.app[TICKETS]
    step = assignment(user, ticket)
    if step == TAKE_OVER:
        ticket = await blocking(store.assign, ticket.id, user.username)
    elif step == CLAIM:
        ticket = check_claimed(user, await blocking(claim, store, ticket.id, user.username))
    log.info("console: ticket #%d assigned to %s", ticket.id, user.username)
    inbox_changed(request)
    try:  # a person has the conversation now: the bot goes quiet
        await request.app[RASA].pause(ticket.conversation_id)
    except RasaError as failure:
        log.error("console: ticket #%d taken by %s but the bot was NOT paused: %s",
                  ticket.id, user.username, failure)
        return json_error(502, "Đã nhận yêu cầu nhưng chưa tạm dừng được bot; bấm Nhận xử lý "
                               "lần nữa để thử lại. / Ticket taken but the bot was not "
                               "paused; press Assign again to retry.",
                          detail=str(failure), ticket=summary(ticket))
    return web.json_response({"ticket": summary(ticket)})


@refusals_as_json
async def api_reply(request: web.Request) -> web.Response:
    body = await json_body(request)
    user, ticket = await _workable(request)
    text = reply_text(body.get("text") if isinstance(body, dict) else None)
    check_may_reply(user, ticket)
    store = request.app[TICKETS]
    if not ticket.assigned_to:  # replying takes the ticket
        ticket = check_exists(await blocking(claim, store, ticket.id, user.username))
        check_not_held_by_other(user, ticket)
        inbox_changed(request)
    event = {"event": "bot", "text": text,
             "metadata": {"agent": user.username, "agent_name": user.display_name}}
    try:  # pause first: the bot stays quiet while the agent talks (whatever the hours)
        await request.app[RASA].post_events(ticket.conversation_id, [PAUSE, event], send=True)
    except RasaError as failure:
        log.error("console: reply of %s on ticket #%d NOT delivered: %s", user.username,
                  ticket.id, failure)
        return json_error(502, "Chưa gửi được tin nhắn tới khách, hãy thử lại. / The message "
                               "was not delivered to the customer, please retry.",
                          detail=str(failure))
    log.info("console: %s replied on ticket #%d (%d chars)", user.username, ticket.id,
             len(text))
    await blocking(store.touch_agent, user.username)
    return web.json_response({"ok": True, "ticket": summary(ticket)})


@refusals_as_json
async def api_resolve(request: web.Request) -> web.Response:
    await json_body(request)
    user, ticket = await _workable(request)
    store, pending = request.app[TICKETS], request.app[RESUME_PENDING]
    if resolution(user, ticket, await blocking(pending.has, ticket.id)) == RESOLVE:
        # Pending until Rasa has resumed the bot: resolving again retries it, from any
        # console replica, after a restart too (bot/console/resumes.py).
        await blocking(pending.add, ticket.id)
        ticket = await blocking(store.resolve, ticket.id)
        inbox_changed(request)
        log.info("console: %s resolved ticket #%d", user.username, ticket.id)
        await keep_final_transcript(request.app, ticket)  # searchable later (search.py)
    elif not await blocking(pending.claim, ticket.id):  # another agent is retrying it
        raise Refused(409, ALREADY_RESOLVED, ticket=summary(ticket))
    rasa = request.app[RASA]
    try:
        await rasa.post_events(ticket.conversation_id, [{"event": "resume"}])
        await rasa.execute_action(ticket.conversation_id, RATING_ACTION)
        await blocking(pending.discard, ticket.id)
    except RasaError as failure:
        await blocking(pending.add, ticket.id)
        log.error("console: ticket #%d resolved but the bot was NOT resumed: %s", ticket.id,
                  failure)
        return json_error(502, "Đã đóng yêu cầu nhưng chưa bật lại được bot; bấm Đã giải quyết "
                               "lần nữa để thử lại. / Ticket resolved but the bot was not "
                               "resumed; press Resolve again to retry.",
                          detail=str(failure), ticket=summary(ticket))
    return web.json_response({"ok": True, "ticket": summary(ticket)})
