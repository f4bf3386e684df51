"""The agents' console: `create_app(settings)` builds the aiohttp application.

Routes (all but /login, /healthz and /static/ need a session; /admin/ needs the admin role):
  GET  /login, POST /login, POST /logout      sign in and out
  GET  /healthz                               readiness (no login)
  GET  /                                      inbox: waiting and open tickets
  GET  /tickets/{id}                          one ticket: live transcript, assign, reply, resolve
  GET  /api/me, /api/tickets, /api/tickets/{id} (with the messages the channel could not
       deliver and the customer's conversations on other channels, bot/handoff/profiles.py)
  POST /api/tickets/{id}/assign | reply | resolve   (JSON)
  GET  /ws                                    live updates (websocket, see `_push`)
  GET  /admin/users, POST /admin/users        users (admin only)
Unauthenticated page requests are redirected to /login, API and websocket ones get 401.
Every POST and the websocket handshake must come from the console's own origin (CSRF).

Settings (hotro.yml): handoff.database_url; console.rasa_url (env HOTRO_RASA_URL wins),
console.rasa_token (env HOTRO_RASA_TOKEN), console.session_hours (12),
console.poll_seconds (1.0), console.secure_cookie (false; true behind HTTPS),
console.allowed_origins ([]: extra origins, e.g. the public HTTPS address behind a proxy),
console.login_max_failures (5), console.login_window_seconds (300).
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import time
import unicodedata
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import quote, urlsplit

from aiohttp import WSMsgType, web

from bot.console import pages
from bot.console.auth import User, UserError, UserStore, login
from bot.console.rasa import RasaClient, RasaError
from bot.console.tickets import claim, common_prefix, snapshot_lines, summary
from bot.handoff.profiles import CustomerProfiles, customer_profiles
from bot.handoff.store import RESOLVED, Ticket, TicketStore, ticket_store, utcnow
from bot.handoff.transcript import build_transcript

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
COOKIE = "hotro_session"
MAX_REPLY_CHARS = 4000
MAX_LINKED = 10  # the customer's most recent other conversations shown on a ticket
RATING_ACTION = "utter_ask_rating"  # the bot asks for CSAT once a person is done
PUBLIC_PATHS = {"/login", "/healthz"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")

CONFIG = web.AppKey("config", dict)
TICKETS = web.AppKey("tickets", TicketStore)
PROFILES = web.AppKey("profiles", CustomerProfiles)
USERS = web.AppKey("users", UserStore)
RASA = web.AppKey("rasa", RasaClient)
INBOX = web.AppKey("inbox", dict)
SOCKETS = web.AppKey("sockets", set)
RESUME_PENDING = web.AppKey("resume_pending", set)  # resolved, bot not resumed yet


# --- settings ---------------------------------------------------------------------------

def database_url(settings: Dict[str, Any]) -> str:
    """handoff.database_url with a relative SQLite path made relative to the project."""
    from bot.settings import project_path

    url = (settings.get("handoff") or {}).get("database_url") or "sqlite:///var/hotro.db"
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        path = project_path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    return url


def console_config(settings: Dict[str, Any]) -> Dict[str, Any]:
    console = dict(settings.get("console") or {})
    return {
        "rasa_url": os.environ.get("HOTRO_RASA_URL") or console.get("rasa_url")
                    or "http://127.0.0.1:5005",
        "rasa_token": os.environ.get("HOTRO_RASA_TOKEN") or console.get("rasa_token") or None,
        "session_hours": float(console.get("session_hours", 12)),
        "poll_seconds": float(console.get("poll_seconds", 1.0)),
        "secure_cookie": bool(console.get("secure_cookie", False)),
        "allowed_origins": [o.rstrip("/") for o in console.get("allowed_origins") or []],
        "login_max_failures": int(console.get("login_max_failures", 5)),
        "login_window_seconds": float(console.get("login_window_seconds", 300)),
        "timezone": (settings.get("support") or {}).get("timezone") or "Asia/Ho_Chi_Minh",
    }


# --- helpers ----------------------------------------------------------------------------

async def blocking(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Runs a database call in a worker thread, off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(
        None, functools.partial(fn, *args, **kwargs))


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/ws"


def client_ip(request: web.Request) -> str:
    return request.remote or "?"


def _origin_of(request: web.Request) -> Optional[str]:
    origin = request.headers.get("Origin")
    if origin:
        return origin
    referer = request.headers.get("Referer")
    if referer:
        parts = urlsplit(referer)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return None


def same_origin(request: web.Request, origin: Optional[str]) -> bool:
    if not origin or origin == "null":
        return False
    if origin.rstrip("/") in request.app[CONFIG]["allowed_origins"]:
        return True
    parts = urlsplit(origin)
    # Scheme is not compared: behind a TLS proxy the app itself sees plain http.
    return parts.scheme in ("http", "https") and parts.netloc == request.host


def safe_next(path: Optional[str]) -> str:
    """Only a path on this site: no scheme, host or protocol-relative `//`."""
    if (not path or not path.startswith("/") or path.startswith("//") or "\\" in path
            or any(ord(c) < 32 for c in path)):
        return "/"
    return path


def user_of(request: web.Request) -> User:
    return request["user"]


def ticket_id_of(request: web.Request) -> int:
    return int(request.match_info["id"])


async def live_transcript(app: web.Application, conversation_id: str,
                          ticket: Optional[Ticket] = None) -> tuple:
    """(lines, "live", None) from Rasa's tracker, or (snapshot lines, "snapshot", error)
    if Rasa fails: the snapshot is `ticket`'s, else the conversation's latest ticket's."""
    try:
        events = await app[RASA].tracker_events(conversation_id)
        return build_transcript(events), "live", None
    except RasaError as error:
        if ticket is None:
            ticket = await blocking(app[TICKETS].latest_ticket_for, conversation_id)
        return (snapshot_lines(ticket) if ticket else []), "snapshot", str(error)


async def linked_transcripts(app: web.Application, ticket: Ticket) -> List[Dict[str, Any]]:
    """The customer's conversations on their other channel identities (same phone or
    email), most recent last."""
    others = await blocking(app[PROFILES].linked_conversations, ticket.channel,
                            ticket.conversation_id)
    # Rasa keeps one tracker per sender id whatever the channel: that one is shown already.
    others = [(c, s) for c, s in others if s != ticket.conversation_id][-MAX_LINKED:]
    found = await asyncio.gather(*(live_transcript(app, s) for _, s in others))
    return [{"channel": channel, "conversation_id": sender, "transcript": lines,
             "source": source}
            for (channel, sender), (lines, source, _) in zip(others, found)]


# --- middlewares ------------------------------------------------------------------------

def _harden(headers) -> None:
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def security_headers(request: web.Request, handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _harden(exc.headers)
        raise
    if not response.prepared:
        _harden(response.headers)
    return response


@web.middleware
async def origin_check(request: web.Request, handler) -> web.StreamResponse:
    """CSRF: state-changing requests and the websocket must come from our own pages."""
    if request.method in UNSAFE_METHODS or request.path == "/ws":
        origin = _origin_of(request)
        if not same_origin(request, origin):
            log.warning("console: refused %s %s from origin %r (ip %s)", request.method,
                        request.path, origin, client_ip(request))
            message = "Nguồn yêu cầu không hợp lệ / Cross-site request refused"
            if is_api(request.path):
                return json_error(403, message)
            return html(pages.error_page("403", message), status=403)
    return await handler(request)


@web.middleware
async def require_session(request: web.Request, handler) -> web.StreamResponse:
    path = request.path
    if path in PUBLIC_PATHS or path.startswith("/static/"):
        return await handler(request)
    token = request.cookies.get(COOKIE)
    user = await blocking(request.app[USERS].session_user, token) if token else None
    if user is None:
        if is_api(path):
            return json_error(401, "Cần đăng nhập / Login required")
        if request.method == "GET":
            raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='/')}")
        raise web.HTTPSeeOther("/login")
    request["user"], request["session_token"] = user, token
    if (path == "/admin" or path.startswith("/admin/")) and not user.is_admin:
        log.warning("console: %s (%s) refused %s %s", user.username, user.role,
                    request.method, path)
        return html(pages.error_page("403 Không có quyền / Forbidden",
                                     "Trang này chỉ dành cho quản trị viên / "
                                     "This page is for administrators only.", user), status=403)
    return await handler(request)


# --- login ------------------------------------------------------------------------------

async def login_form(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    if token and await blocking(request.app[USERS].session_user, token):
        raise web.HTTPFound(safe_next(request.query.get("next")))
    return html(pages.login_page(safe_next(request.query.get("next"))))


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", ""))[:255]
    password = str(form.get("password", ""))[:1024]
    next_path = safe_next(str(form.get("next", "/")))
    user, token, blocked = await blocking(login, request.app[USERS], username, password,
                                          client_ip(request))
    if blocked:
        minutes = max(1, (blocked + 59) // 60)
        message = (f"Quá nhiều lần đăng nhập sai. Vui lòng thử lại sau {minutes} phút. / "
                   f"Too many failed logins. Try again in {minutes} minute(s).")
        response = html(pages.login_page(next_path, message, username), status=429)
        response.headers["Retry-After"] = str(blocked)
        return response
    if user is None:
        return html(pages.login_page(next_path, "Sai tên đăng nhập hoặc mật khẩu. / "
                                     "Wrong username or password.", username), status=401)
    response = web.HTTPSeeOther(next_path)
    config = request.app[CONFIG]
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/",
                        secure=config["secure_cookie"],
                        max_age=int(config["session_hours"] * 3600))
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    await blocking(request.app[USERS].delete_session, request["session_token"])
    for sub in list(request.app[SOCKETS]):  # this session's live pages go to /login now
        if sub.token == request["session_token"]:
            sub.ended = True
            sub.wake.set()
    log.info("console logout: user=%r", user_of(request).username)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


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
        return html(pages.error_page("404", "Không có yêu cầu này / No such ticket", user),
                    status=404)
    return html(pages.ticket_page(user, ticket.id, request.app[CONFIG]["timezone"]))


async def users_view(request: web.Request) -> web.Response:
    users = await blocking(request.app[USERS].list_users)
    created = request.query.get("created", "")
    message = f"Đã thêm / Added: {created}" if created else ""
    return html(pages.users_page(user_of(request), users, message=message))


async def users_create(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    fields = {k: str(form.get(k, "")) for k in ("username", "display_name", "role", "password")}
    try:
        created = await blocking(request.app[USERS].add_user, fields["username"],
                                 fields["password"], fields["role"] or "agent",
                                 fields["display_name"] or None)
    except UserError as error:
        users = await blocking(request.app[USERS].list_users)
        fields.pop("password")
        return html(pages.users_page(user_of(request), users, error=str(error), form=fields),
                    status=400)
    log.info("console: %s added user %r (%s)", user_of(request).username, created.username,
             created.role)
    raise web.HTTPSeeOther(f"/admin/users?created={quote(created.username)}")


# --- JSON API ---------------------------------------------------------------------------

def _me(user: User) -> Dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role}


async def api_me(request: web.Request) -> web.Response:
    return web.json_response(_me(user_of(request)))


async def api_tickets(request: web.Request) -> web.Response:
    tickets = await blocking(request.app[TICKETS].list)
    return web.json_response({"tickets": [summary(t) for t in tickets],
                              "now": _now_iso()})


async def api_ticket(request: web.Request) -> web.Response:
    ticket = await blocking(request.app[TICKETS].get, ticket_id_of(request))
    if ticket is None:
        return json_error(404, "Không có yêu cầu này / No such ticket")
    (lines, source, error), linked, undelivered = await asyncio.gather(
        live_transcript(request.app, ticket.conversation_id, ticket),
        linked_transcripts(request.app, ticket),
        blocking(request.app[TICKETS].undelivered, ticket.id))
    return web.json_response({"ticket": summary(ticket), "transcript": lines,
                              "source": source, "rasa_error": error, "linked": linked,
                              "undelivered": undelivered, "now": _now_iso()})


def _now_iso() -> str:
    from datetime import timezone

    return utcnow().replace(tzinfo=timezone.utc).isoformat(timespec="seconds")


async def _workable(request: web.Request) -> tuple:
    """(user, ticket, None) or (.., .., error response) for assign/reply/resolve."""
    user = user_of(request)
    if not user.works_tickets:
        return user, None, json_error(403, "Vai trò này không xử lý yêu cầu / "
                                           "This role does not work tickets")
    ticket = await blocking(request.app[TICKETS].get, ticket_id_of(request))
    if ticket is None:
        return user, None, json_error(404, "Không có yêu cầu này / No such ticket")
    return user, ticket, None


def _held_by_other(user: User, ticket: Ticket) -> Optional[web.Response]:
    if ticket.assigned_to and ticket.assigned_to != user.username and not user.supervises:
        return json_error(409, f"Yêu cầu đang do {ticket.assigned_to} xử lý / "
                               f"Ticket is handled by {ticket.assigned_to}",
                          assigned_to=ticket.assigned_to)
    return None


async def _json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"error": "Content-Type must be application/json"}),
            content_type="application/json")
    try:
        return await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"error": "invalid JSON"}),
                                 content_type="application/json") from None


async def api_assign(request: web.Request) -> web.Response:
    await _json_body(request)
    user, ticket, error = await _workable(request)
    if error is not None:
        return error
    if ticket.status == RESOLVED:
        return json_error(409, "Yêu cầu đã được giải quyết / Ticket already resolved")
    store = request.app[TICKETS]
    if ticket.assigned_to and ticket.assigned_to != user.username:
        if not user.supervises:
            return _held_by_other(user, ticket)
        ticket = await blocking(store.assign, ticket.id, user.username)  # lead takes over
    elif not ticket.assigned_to:
        ticket = await blocking(claim, store, ticket.id, user.username)
        if ticket is None:
            return json_error(404, "Không có yêu cầu này / No such ticket")
        if ticket.assigned_to != user.username:  # someone else was quicker
            held = _held_by_other(user, ticket)
            return held if held is not None else json_error(
                409, "Yêu cầu đã thay đổi / Ticket changed")
    log.info("console: ticket #%d assigned to %s", ticket.id, user.username)
    request.app[INBOX]["dirty"].set()
    return web.json_response({"ticket": summary(ticket)})


async def api_reply(request: web.Request) -> web.Response:
    body = await _json_body(request)
    user, ticket, error = await _workable(request)
    if error is not None:
        return error
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return json_error(400, "Tin nhắn trống / Empty message")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()
    if len(text) > MAX_REPLY_CHARS:
        return json_error(400, f"Tin nhắn quá dài (tối đa {MAX_REPLY_CHARS} ký tự) / "
                               f"Message too long (max {MAX_REPLY_CHARS} characters)")
    if ticket.status == RESOLVED:
        return json_error(409, "Yêu cầu đã được giải quyết / Ticket already resolved")
    held = _held_by_other(user, ticket)
    if held is not None:
        return held
    store = request.app[TICKETS]
    if not ticket.assigned_to:  # replying takes the ticket
        ticket = await blocking(claim, store, ticket.id, user.username)
        if ticket is None:
            return json_error(404, "Không có yêu cầu này / No such ticket")
        held = _held_by_other(user, ticket)
        if held is not None:
            return held
        request.app[INBOX]["dirty"].set()
    event = {"event": "bot", "text": text,
             "metadata": {"agent": user.username, "agent_name": user.display_name}}
    try:
        await request.app[RASA].post_events(ticket.conversation_id, [event], send=True)
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


async def api_resolve(request: web.Request) -> web.Response:
    await _json_body(request)
    user, ticket, error = await _workable(request)
    if error is not None:
        return error
    held = _held_by_other(user, ticket)
    if held is not None:
        return held
    store, pending = request.app[TICKETS], request.app[RESUME_PENDING]
    if ticket.status != RESOLVED:
        ticket = await blocking(store.resolve, ticket.id)
        request.app[INBOX]["dirty"].set()
        log.info("console: %s resolved ticket #%d", user.username, ticket.id)
    elif ticket.id not in pending:  # resolving twice would ask the customer twice
        return json_error(409, "Yêu cầu đã được giải quyết / Ticket already resolved",
                          ticket=summary(ticket))
    # Resolving again after Rasa failed re-sends these (retry from the page).
    rasa = request.app[RASA]
    pending.add(ticket.id)
    try:
        await rasa.post_events(ticket.conversation_id, [{"event": "resume"}])
        await rasa.execute_action(ticket.conversation_id, RATING_ACTION)
        pending.discard(ticket.id)
    except RasaError as failure:
        log.error("console: ticket #%d resolved but the bot was NOT resumed: %s", ticket.id,
                  failure)
        return json_error(502, "Đã đóng yêu cầu nhưng chưa bật lại được bot; bấm Đã giải quyết "
                               "lần nữa để thử lại. / Ticket resolved but the bot was not "
                               "resumed; press Resolve again to retry.",
                          detail=str(failure), ticket=summary(ticket))
    return web.json_response({"ok": True, "ticket": summary(ticket)})


# --- live updates -----------------------------------------------------------------------

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


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Server → page: {"type": "inbox", "tickets", "now"} when the inbox changes;
    {"type": "ticket", "ticket"}, {"type": "transcript", "ticket", "start", "lines",
    "source"} (lines from index `start` on replace the page's) and {"type": "undelivered",
    "ticket", "messages"} (all of them, when they changed) for the subscribed ticket.
    Page → server: {"type": "subscribe", "ticket": id} / {"type": "unsubscribe"}.
    Closes with code 4401 when the session ends (logout, expiry)."""
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
                                    "now": _now_iso()})
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
        await sub.ws.send_json({"type": "ticket", "ticket": state, "now": _now_iso()})
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
            tickets = [summary(t) for t in await blocking(app[TICKETS].list)]
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


async def _background(app: web.Application):
    await app[RASA].start()
    watcher = asyncio.create_task(_watch_inbox(app))
    yield
    watcher.cancel()
    try:
        await watcher
    except asyncio.CancelledError:
        pass
    await app[RASA].close()


async def _close_sockets(app: web.Application) -> None:
    for sub in list(app[SOCKETS]):
        await sub.ws.close(code=1001, message=b"server shutdown")


# --- the app ----------------------------------------------------------------------------

def create_app(settings: Optional[Dict[str, Any]] = None) -> web.Application:
    if settings is None:
        from bot.settings import load_settings

        settings = load_settings()
    config = console_config(settings)
    tickets = ticket_store(database_url(settings))
    app = web.Application(middlewares=[security_headers, origin_check, require_session],
                          client_max_size=256 * 1024)
    app[CONFIG] = config
    app[TICKETS] = tickets
    app[PROFILES] = customer_profiles(tickets)
    app[USERS] = UserStore(tickets.engine, session_hours=config["session_hours"],
                           max_failures=config["login_max_failures"],
                           failure_window=config["login_window_seconds"])
    app[RASA] = RasaClient(config["rasa_url"], config["rasa_token"])
    app[SOCKETS] = set()
    app[RESUME_PENDING] = set()
    app[INBOX] = {"version": 0, "tickets": None, "dirty": asyncio.Event()}
    app.cleanup_ctx.append(_background)
    app.on_shutdown.append(_close_sockets)

    r = app.router
    r.add_get("/healthz", healthz)
    r.add_get("/login", login_form)
    r.add_post("/login", login_submit)
    r.add_post("/logout", logout)
    r.add_get("/", inbox)
    r.add_get(r"/tickets/{id:\d+}", ticket_view)
    r.add_get("/api/me", api_me)
    r.add_get("/api/tickets", api_tickets)
    r.add_get(r"/api/tickets/{id:\d+}", api_ticket)
    r.add_post(r"/api/tickets/{id:\d+}/assign", api_assign)
    r.add_post(r"/api/tickets/{id:\d+}/reply", api_reply)
    r.add_post(r"/api/tickets/{id:\d+}/resolve", api_resolve)
    r.add_get("/ws", websocket)
    r.add_get("/admin/users", users_view)
    r.add_post("/admin/users", users_create)
    r.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
    return app

