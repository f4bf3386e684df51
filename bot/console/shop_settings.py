"""The admin's shop settings: the shop's name, hotline, email, office hours, holidays and
its greeting and out-of-hours words (bot/shop.py keeps them in the database; the bot reads
them from its next message on, on every replica).

  GET  /admin/shop        the form with the current values and the last change (who, when)
  POST /admin/shop        save the form: 303 back; 400 with an error beside each wrong
                          field; 409 when someone saved in between (the form's `version`)
  GET  /api/admin/shop    {"profile", "version", "updated_at", "updated_by", "timezone",
                           "variables"}
  POST /api/admin/shop    {"version": n, <fields to change>}: 200 {"profile", ...};
                          400 {"error", "fields": {field: message}}; 409 {"error", "current"}
Admins only (bot/console/security.py answers 403 to anyone else); POSTs pass the origin
check like every other form.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.console import pages
from bot.console.web import SETTINGS, blocking, html, json_body, json_error, user_of
from bot.shop import (EDITABLE, GREETING_VARIABLES, OUT_OF_HOURS_VARIABLES, ShopProfile,
                      ShopProfileConflict, ShopProfileError, save_shop_profile, shop_profile)

log = logging.getLogger(__name__)

INVALID = "Có trường chưa hợp lệ, xem bên dưới. / Some fields are not valid, see below."
UNAVAILABLE = ("Chưa lưu được: cơ sở dữ liệu không phản hồi, hãy thử lại. / Not saved: the "
               "database did not answer, please retry.")
SAVED = "Đã lưu. Bot dùng thông tin mới từ tin nhắn tiếp theo. / Saved. The bot uses it " \
        "from the next message on."


def _state(profile: ShopProfile) -> Dict[str, Any]:
    return {"profile": profile.editable(), "version": profile.version,
            "updated_at": profile.updated_at.isoformat(timespec="seconds")
            if profile.updated_at else None,
            "updated_by": profile.updated_by, "timezone": profile.timezone,
            "variables": {"greeting": list(GREETING_VARIABLES),
                          "out_of_hours": list(OUT_OF_HOURS_VARIABLES)}}


def _version(value: Any) -> Optional[int]:
    """The form's or body's version; None when absent, -1 (never current) when garbage."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _page(request: web.Request, profile: ShopProfile, values: Optional[Dict[str, Any]] = None,
          version: Optional[int] = None, status: int = 200, **notes: Any) -> web.Response:
    """The form; shown again after an error with what the admin typed (`values`) and the
    version it was made from, so a save in between is still caught."""
    return html(pages.shop_page(
        user_of(request), values if values is not None else profile.editable(),
        profile.version if version is None else version, profile.timezone, profile.updated_at, profile.updated_by,
        GREETING_VARIABLES, OUT_OF_HOURS_VARIABLES, **notes), status=status)


def changes_from_form(form) -> Dict[str, Any]:
    """The form's fields as save_shop_profile's changes (all of them: the form shows all)."""
    def text(name: str) -> str:
        return str(form.get(name, ""))

    return {"name": text("name"), "hotline": text("hotline"), "email": text("email"),
            "office_hours": {"days": [str(d) for d in form.getall("days", [])],
                             "open": text("open"), "close": text("close")},
            "holidays": text("holidays"),
            "greeting": {"vi": text("greeting_vi"), "en": text("greeting_en")},
            "out_of_hours": {"vi": text("out_of_hours_vi"), "en": text("out_of_hours_en")}}


async def _save(request: web.Request, changes: Dict[str, Any],
                version: Optional[int]) -> ShopProfile:
    user = user_of(request)
    try:
        return await blocking(save_shop_profile, changes, user.username, version,
                              settings=request.app[SETTINGS])
    except ShopProfileError as error:
        log.warning("console: %s's shop profile change refused: %s", user.username, error)
        raise
    except ShopProfileConflict as conflict:
        log.warning("console: %s's shop profile save refused: made from version %s, saved "
                    "is %d (by %s)", user.username, version, conflict.current.version,
                    conflict.current.updated_by)
        raise


async def shop_view(request: web.Request) -> web.Response:
    profile = await blocking(shop_profile, request.app[SETTINGS], fresh=True)
    message = SAVED if request.query.get("saved") else ""
    return _page(request, profile, message=message)


async def shop_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    changes = changes_from_form(form)
    version = _version(form.get("version"))
    try:
        await _save(request, changes, version)
    except ShopProfileError as error:
        profile = await blocking(shop_profile, request.app[SETTINGS])
        return _page(request, profile, changes, version, status=400, errors=error.fields,
                     error=INVALID)
    except ShopProfileConflict as conflict:  # the form shows what is saved now
        return _page(request, conflict.current, status=409, error=str(conflict))
    except SQLAlchemyError:
        log.exception("console: saving the shop profile failed")
        profile = await blocking(shop_profile, request.app[SETTINGS])
        return _page(request, profile, changes, version, status=503, error=UNAVAILABLE)
    raise web.HTTPSeeOther("/admin/shop?saved=1")


async def api_shop(request: web.Request) -> web.Response:
    profile = await blocking(shop_profile, request.app[SETTINGS], fresh=True)
    return web.json_response(_state(profile))


async def api_shop_save(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        return json_error(400, "Cần một đối tượng JSON. / Expected a JSON object.")
    changes = {k: v for k, v in body.items() if k != "version"}
    if not changes:
        return json_error(400, f"Không có gì để lưu; các trường: {', '.join(EDITABLE)}. / "
                               f"Nothing to save; the fields are: {', '.join(EDITABLE)}.")
    try:
        profile = await _save(request, changes, _version(body.get("version")))
    except ShopProfileError as error:
        return json_error(400, INVALID, fields=error.fields)
    except ShopProfileConflict as conflict:
        return json_error(409, str(conflict), current=_state(conflict.current))
    except SQLAlchemyError:
        log.exception("console: saving the shop profile failed")
        return json_error(503, UNAVAILABLE)
    return web.json_response(_state(profile))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/admin/shop", shop_view)
    app.router.add_post("/admin/shop", shop_submit)
    app.router.add_get("/api/admin/shop", api_shop)
    app.router.add_post("/api/admin/shop", api_shop_save)
