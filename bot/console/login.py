"""Signing in and out of the console: the login form, the session cookie, logout."""
from __future__ import annotations

import logging

from aiohttp import web

from bot.console import pages
from bot.console.auth import login
from bot.console.live import end_live_pages
from bot.console.security import COOKIE, safe_next
from bot.console.web import CONFIG, USERS, blocking, client_ip, html, user_of

log = logging.getLogger(__name__)


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
    end_live_pages(request.app, request["session_token"])  # they go to /login now
    log.info("console logout: user=%r", user_of(request).username)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response
