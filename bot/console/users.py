"""The admin's users page: list the console's users, add one (agents, editors, leads,
admins). The admin role is checked by bot/console/security.py for every /admin/ path."""
from __future__ import annotations

import logging
from urllib.parse import quote

from aiohttp import web

from bot.console import pages
from bot.console.auth import UserError
from bot.console.web import USERS, blocking, html, user_of

log = logging.getLogger(__name__)


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
