"""What every console feature module shares: the application's keys, blocking calls run
off the event loop, JSON and HTML responses, the signed-in user and JSON request bodies."""
from __future__ import annotations

import asyncio
import functools
import json
import logging
from datetime import timezone
from typing import Any, Callable, Dict, Optional

from aiohttp import web

from bot.console import pages
from bot.console.auth import User, UserStore
from bot.console.rasa import RasaClient
from bot.console.resumes import PendingResumes
from bot.db import utcnow
from bot.handoff.profiles import CustomerProfiles
from bot.handoff.store import TicketStore

CONFIG = web.AppKey("config", dict)            # bot/console/config.py console_config()
SETTINGS = web.AppKey("settings", dict)        # the whole hotro.yml the console runs with
TICKETS = web.AppKey("tickets", TicketStore)
PROFILES = web.AppKey("profiles", CustomerProfiles)
USERS = web.AppKey("users", UserStore)
RASA = web.AppKey("rasa", RasaClient)
INBOX = web.AppKey("inbox", dict)              # bot/console/live.py: the watched ticket list
SOCKETS = web.AppKey("sockets", set)           # live.Subscriber of each open websocket
RESUME_PENDING = web.AppKey("resume_pending", PendingResumes)  # resolved, bot not resumed


async def blocking(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Runs a database call in a worker thread, off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(
        None, functools.partial(fn, *args, **kwargs))


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def refused(request: web.Request, allowed: bool, who: str, message: str,
            api: bool = True) -> Optional[web.Response]:
    """None when the user may; else a 403 saying `message` (JSON, or a page when not `api`),
    and a log line naming `who` may ("editors and admins")."""
    if allowed:
        return None
    user = user_of(request)
    logging.getLogger(__name__).warning("console: %s (%s) refused %s %s (%s only)", user.username,
                                        user.role, request.method, request.path, who)
    if api:
        return json_error(403, message)
    return html(pages.error_page("403 Không có quyền / Forbidden", message, user), status=403)


def is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/ws"


def client_ip(request: web.Request) -> str:
    return request.remote or "?"


def user_of(request: web.Request) -> User:
    return request["user"]


def me(user: User) -> Dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role}


def now_iso() -> str:
    return utcnow().replace(tzinfo=timezone.utc).isoformat(timespec="seconds")


async def json_body(request: web.Request, max_bytes: Optional[int] = None) -> Any:
    """The request's JSON (415 if it is not JSON, 400 if it does not parse); `max_bytes`: a
    larger body limit than the console's (413 above it)."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"error": "Content-Type must be application/json"}),
            content_type="application/json")
    if max_bytes:
        request = request.clone(client_max_size=max_bytes)
    try:
        return await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"error": "invalid JSON"}),
                                 content_type="application/json") from None


async def healthz(request: web.Request) -> web.Response:
    """Readiness, no login needed."""
    return web.json_response({"status": "ok"})


async def api_me(request: web.Request) -> web.Response:
    return web.json_response(me(user_of(request)))
