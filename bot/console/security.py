"""The console's protections, as aiohttp middlewares: hardening headers on every response,
the origin check on every state-changing request (CSRF), and the session and role checks.

Every page, API call and the websocket needs a session except PUBLIC_PATHS and /static/;
unauthenticated page requests are redirected to /login, API and websocket ones get 401.
/admin/ pages and /api/admin/ calls need the admin role (403 otherwise). A number in
the path too long for a database id is no such thing: 404, not the database's error; a
form body that does not parse is the sender's error: 400 before any handler reads it.
"""
from __future__ import annotations

import logging
from typing import Optional
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot.console import pages
from bot.console.web import CONFIG, USERS, blocking, client_ip, html, is_api, json_error

log = logging.getLogger(__name__)

COOKIE = "hotro_session"
PUBLIC_PATHS = {"/login", "/healthz"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
FORBIDDEN_ADMIN = ("Trang này chỉ dành cho quản trị viên / "
                   "This page is for administrators only.")


def _harden(headers) -> None:
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cache-Control", "no-store")


def origin_of(request: web.Request) -> Optional[str]:
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


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/") or path.startswith("/api/admin/")


MAX_ID_DIGITS = 18  # every id below 10**18 fits the 64-bit integers of SQLite and PostgreSQL


@web.middleware
async def bounded_ids(request: web.Request, handler) -> web.StreamResponse:
    if any(v.isdigit() and len(v) > MAX_ID_DIGITS for v in request.match_info.values()):
        log.warning("console: %s %s: id out of range", request.method, request.path[:120])
        if is_api(request.path):
            return json_error(404, "Không tìm thấy / Not found")
        raise web.HTTPNotFound()
    return await handler(request)


FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
BAD_FORM = "Dữ liệu gửi lên không đọc được / The form data could not be read"


@web.middleware
async def readable_forms(request: web.Request, handler) -> web.StreamResponse:
    if request.method in UNSAFE_METHODS and request.content_type in FORM_TYPES:
        try:
            await request.post()  # parsed once; aiohttp keeps it for the handler
        except web.HTTPException:
            raise  # e.g. 413 for a body over client_max_size
        except Exception as error:  # noqa: BLE001 - aiohttp raises several kinds on a broken body
            log.warning("console: %s %s: unreadable form body (%s)", request.method,
                        request.path[:120], type(error).__name__)
            if is_api(request.path):
                return json_error(400, BAD_FORM)
            raise web.HTTPBadRequest(text=BAD_FORM) from None
    return await handler(request)


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
        origin = origin_of(request)
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
    if is_admin_path(path) and not user.is_admin:
        log.warning("console: %s (%s) refused %s %s", user.username, user.role,
                    request.method, path)
        if is_api(path):
            return json_error(403, FORBIDDEN_ADMIN)
        return html(pages.error_page("403 Không có quyền / Forbidden", FORBIDDEN_ADMIN, user),
                    status=403)
    return await handler(request)
