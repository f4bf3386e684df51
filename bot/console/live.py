"""Live updates: the `/ws` websocket pushes the inbox and the open ticket to each page,
and a watcher polls the ticket store (the action server writes it) for changes.

Server → page: {"type": "inbox", "tickets", "now"} when the inbox changes (each ticket with
its `customer` and `last_message`, inbox_rows.py);
{"type": "ticket", "ticket"}, {"type": "transcript", "ticket", "start", "lines",
"source"} (lines from index `start` on replace the page's) and {"type": "undelivered",
"ticket", "messages"} (all of them, when they changed) for the subscribed ticket.
Page → server: {"type": "subscribe", "ticket": id} / {"type": "unsubscribe"}.
A socket closes with code 4401 when its session ends (logout, expiry).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Dict, List, Optional

from aiohttp import WSMsgType, web

from bot.console.auth import User
from bot.console.inbox_rows import forget_previews, inbox_rows
from bot.console.tickets import summary
from bot.console.transcripts import live_transcript
from bot.console.web import (CONFIG, INBOX, SOCKETS, TICKETS, USERS, blocking,
                             now_iso, user_of)

log = logging.getLogger(__name__)


class Subscriber:
    """One websocket: what it was last sent, so only changes are pushed."""

    def __init__(self, ws: web.WebSocketResponse, user: User, token: str) -> None:
        self.ws, self.user, self.token = ws, user, token
        self.wake = asyncio.Event()
        self.inbox_version = -1
        self.ticket_id: Optional[int] = None
        self.ticket_state: Optional[Dict[str, Any]] = None
        self.lines: Optional[List[Dict[str, Any]]] = None
        self.source: Optional[str] = None
        self.undelivered: Optional[List[Dict[str, Any]]] = None
        self.closing = False
        self.ended = False  # logged out here: close at once


def common_prefix(old: List[Any], new: List[Any]) -> int:
    n = 0
    for a, b in zip(old, new):
        if a != b:
            break
        n += 1
    return n


def end_live_pages(app: web.Application, session_token: str) -> None:
    """The session ended (logout): its open pages are sent to /login."""
    for sub in list(app[SOCKETS]):
        if sub.token == session_token:
            sub.ended = True
            sub.wake.set()


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024)
    await ws.prepare(request)
    sub = Subscriber(ws, user_of(request), request["session_token"])
    request.app[SOCKETS].add(sub)
    pusher = asyncio.create_task(_push(request.app, sub))
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            if data.get("type") == "subscribe":
                try:
                    sub.ticket_id = int(data.get("ticket"))
                except (TypeError, ValueError):
                    continue
                sub.ticket_state = sub.lines = sub.source = sub.undelivered = None
                sub.wake.set()
            elif data.get("type") == "unsubscribe":
                sub.ticket_id = None
    finally:
        if sub.closing:  # the pusher is closing the socket itself, with its code
            await asyncio.wait([pusher], timeout=5)
        pusher.cancel()
        request.app[SOCKETS].discard(sub)
    return ws


async def _push(app: web.Application, sub: Subscriber) -> None:
    interval = app[CONFIG]["poll_seconds"]
    store, users = app[TICKETS], app[USERS]
    checked = time.monotonic()
    touched = 0.0
    ws = sub.ws
    try:
        while not ws.closed:
            now = time.monotonic()
            if sub.ended or now - checked > 5:  # the session may have ended (logout, expiry)
                checked = now
                if sub.ended or await blocking(users.session_user, sub.token) is None:
                    sub.closing = True
                    await ws.close(code=4401, message=b"session ended")
                    return
            if sub.user.works_tickets and now - touched > 30:
                touched = now
                await blocking(store.touch_agent, sub.user.username)
            inbox = app[INBOX]
            if inbox["version"] != sub.inbox_version and inbox["tickets"] is not None:
                sub.inbox_version = inbox["version"]
                await ws.send_json({"type": "inbox", "tickets": inbox["tickets"],
                                    "now": now_iso()})
            if sub.ticket_id is not None:
                await _push_ticket(app, sub)
            sub.wake.clear()
            try:
                await asyncio.wait_for(sub.wake.wait(), interval)
            except asyncio.TimeoutError:
                pass
    except (ConnectionResetError, RuntimeError, asyncio.CancelledError):
        return
    except Exception:  # noqa: BLE001 - a broken push must not go unnoticed
        log.exception("console: websocket push failed for %s", sub.user.username)
        sub.closing = True
        await ws.close(code=1011, message=b"server error")


async def _push_ticket(app: web.Application, sub: Subscriber) -> None:
    ticket_id = sub.ticket_id
    ticket = await blocking(app[TICKETS].get, ticket_id)
    if ticket is None:
        if sub.ticket_state != {}:
            sub.ticket_state = {}
            await sub.ws.send_json({"type": "ticket", "ticket": None, "id": ticket_id})
        return
    state = summary(ticket)
    if state != sub.ticket_state:
        sub.ticket_state = state
        await sub.ws.send_json({"type": "ticket", "ticket": state, "now": now_iso()})
    undelivered = await blocking(app[TICKETS].undelivered, ticket_id)
    if undelivered != sub.undelivered and sub.ticket_id == ticket_id:
        sub.undelivered = undelivered
        await sub.ws.send_json({"type": "undelivered", "ticket": ticket_id,
                                "messages": undelivered})
    lines, source, error = await live_transcript(app, ticket.conversation_id, ticket)
    if sub.ticket_id != ticket_id:  # re-subscribed while Rasa answered
        return
    if source != sub.source and error:
        log.warning("console: live transcript of ticket #%d unavailable, showing the "
                    "snapshot: %s", ticket_id, error)
    if lines != sub.lines or source != sub.source:
        start = common_prefix(sub.lines or [], lines) if source == sub.source else 0
        sub.lines, sub.source = lines, source
        await sub.ws.send_json({"type": "transcript", "ticket": ticket_id, "start": start,
                                "lines": lines[start:], "source": source})


async def _watch_inbox(app: web.Application) -> None:
    """Polls the ticket store (the action server writes it) and wakes the websockets when
    the waiting/open list changed. Changes made here wake it at once (`dirty`)."""
    inbox = app[INBOX]
    interval = app[CONFIG]["poll_seconds"]
    failing = False
    while True:
        try:
            listed = await blocking(app[TICKETS].list)
            tickets = await inbox_rows(app, listed, [summary(t) for t in listed])
            forget_previews(app, [t.conversation_id for t in listed])
            failing = False
            if tickets != inbox["tickets"]:
                inbox["tickets"] = tickets
                inbox["version"] += 1
                for sub in list(app[SOCKETS]):
                    sub.wake.set()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            if not failing:
                log.exception("console: reading the ticket store failed")
            failing = True
        inbox["dirty"].clear()
        try:
            await asyncio.wait_for(inbox["dirty"].wait(), interval)
        except asyncio.TimeoutError:
            pass


def setup_live(app: web.Application) -> None:
    """The websockets' state and the inbox watcher, started and stopped with the app."""
    app[SOCKETS] = set()
    app[INBOX] = {"version": 0, "tickets": None, "dirty": asyncio.Event()}
    app.cleanup_ctx.append(_background)
    app.on_shutdown.append(_close_sockets)


async def _background(app: web.Application):
    watcher = asyncio.create_task(_watch_inbox(app))
    yield
    watcher.cancel()
    try:
        await watcher
    except asyncio.CancelledError:
        pass


async def _close_sockets(app: web.Application) -> None:
    for sub in list(app[SOCKETS]):
        await sub.ws.close(code=1001, message=b"server shutdown")
