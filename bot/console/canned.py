"""Canned replies: answers agents send often, kept by admins, picked with `/` in the
composer. A reply may use {customer_name}, {agent_name} and {ticket}; they are filled for
the ticket at hand (GET /api/tickets/{id}/canned), and the agent can still edit the text
before sending.

  GET  /admin/canned                         the admins' page (list, add, edit, delete)
  POST /admin/canned, /admin/canned/{id}, /admin/canned/{id}/delete   the page's forms
  GET  /api/canned                           the list, raw (every signed-in user)
  POST /api/admin/canned                     {"shortcut", "title", "text"} → {"reply"}
  POST /api/admin/canned/{id}                the same, edits; POST /api/admin/canned/{id}/delete
  GET  /api/tickets/{id}/canned              the list filled for that ticket
Bad input 400 naming the field, a shortcut in use 409, unknown id 404. /admin/ and
/api/admin/ need the admin role (security.py).
"""
from __future__ import annotations

import logging
import re
import string
import threading
import unicodedata
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional

from aiohttp import web
from sqlalchemy import Column, DateTime, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.console import pages
from bot.console.tickets import Refused, check_exists
from bot.console.web import TICKETS, blocking, html, json_body, user_of
from bot.db import utcnow
from bot.limits import MAX_MESSAGE_CHARS

log = logging.getLogger(__name__)

VARIABLES = ("customer_name", "agent_name", "ticket")
SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MAX_TITLE_CHARS = 100
# A customer whose name is not known is addressed as the conversation's language does.
NO_NAME = {"vi": "bạn", "en": "there"}
CannedBase = declarative_base()
CANNED = web.AppKey("canned", object)


class CannedRow(CannedBase):
    __tablename__ = "canned_replies"
    id = Column(Integer, primary_key=True)
    shortcut = Column(String(32), unique=True, nullable=False)
    title = Column(String(100), nullable=False, default="")
    text = Column(Text, nullable=False)
    updated_by = Column(String(255), nullable=False)
    updated_at = Column(DateTime, nullable=False, default=utcnow)


def _as_dict(row: CannedRow) -> Dict[str, Any]:
    return {"id": row.id, "shortcut": row.shortcut, "title": row.title, "text": row.text,
            "updated_by": row.updated_by,
            "updated_at": row.updated_at.replace(tzinfo=timezone.utc).isoformat(
                timespec="seconds")}


class CannedStore:
    def __init__(self, engine) -> None:
        self.engine = engine  # from engine_for: tables made by bot/migrations
        self.session = sessionmaker(engine, future=True, expire_on_commit=False)
        self._lock = threading.Lock()

    def all(self) -> List[Dict[str, Any]]:
        with self.session() as session:
            return [_as_dict(r) for r in session.execute(
                select(CannedRow).order_by(CannedRow.shortcut)).scalars().all()]

    def save(self, values: Dict[str, str], by: str, reply_id: Optional[int] = None
             ) -> Dict[str, Any]:
        """Creates (no id) or edits; Refused 404 (no such reply), 409 (shortcut in use)."""
        try:
            with self._lock, self.session() as session, session.begin():
                if reply_id is None:
                    row = CannedRow()
                    session.add(row)
                else:
                    row = session.get(CannedRow, reply_id)
                    if row is None:
                        raise Refused(404, "Không có câu trả lời mẫu này / No such canned reply")
                row.shortcut, row.title, row.text = (values["shortcut"], values["title"],
                                                     values["text"])
                row.updated_by, row.updated_at = by, utcnow()
                session.flush()
                return _as_dict(row)
        except IntegrityError:
            raise Refused(409, f"Lối tắt /{values['shortcut']} đã có / Shortcut "
                               f"/{values['shortcut']} already exists",
                          field="shortcut") from None

    def delete(self, reply_id: int) -> None:
        with self._lock, self.session() as session, session.begin():
            row = session.get(CannedRow, reply_id)
            if row is None:
                raise Refused(404, "Không có câu trả lời mẫu này / No such canned reply")
            session.delete(row)


def _nfc(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()


def canned_values(data: Any) -> Dict[str, str]:
    """{"shortcut", "title", "text"} checked, or Refused(400) naming the field."""
    data = data if isinstance(data, Mapping) else {}
    shortcut = _nfc(data.get("shortcut")).lstrip("/").lower()
    title = _nfc(data.get("title"))
    text = _nfc(data.get("text"))
    if not SHORTCUT.fullmatch(shortcut):
        raise Refused(400, "Lối tắt: 1–32 chữ thường không dấu, số, - hoặc _ / Shortcut: 1–32 "
                           "lower-case letters, digits, - or _", field="shortcut")
    if len(title) > MAX_TITLE_CHARS:
        raise Refused(400, f"Tiêu đề quá dài (tối đa {MAX_TITLE_CHARS}) / Title too long "
                           f"(max {MAX_TITLE_CHARS})", field="title")
    if not text or len(text) > MAX_MESSAGE_CHARS:
        raise Refused(400, f"Nội dung: 1–{MAX_MESSAGE_CHARS} ký tự / Text: 1–{MAX_MESSAGE_CHARS} "
                           "characters", field="text")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        names = {"{"}
    unknown = sorted(names - set(VARIABLES))
    if unknown:
        allowed = ", ".join("{" + v + "}" for v in VARIABLES)
        raise Refused(400, f"Biến không hợp lệ / Unknown variable: {', '.join(unknown)} "
                           f"(dùng / use {allowed})", field="text")
    return {"shortcut": shortcut, "title": title, "text": text}


def fill(text: str, customer_name: Optional[str], agent_name: str, ticket_id: int,
         language: str = "vi") -> str:
    """The canned text for one ticket (variables checked when it was saved)."""
    name = (customer_name or "").strip() or NO_NAME.get(language, NO_NAME["vi"])
    return text.format(customer_name=name, agent_name=agent_name, ticket=ticket_id)


# --- HTTP -------------------------------------------------------------------------------

def _refusal(refused: Refused) -> web.Response:
    return web.json_response({"error": refused.message, **refused.extra},
                             status=refused.status)


async def api_list(request: web.Request) -> web.Response:
    return web.json_response({"replies": await blocking(request.app[CANNED].all)})


async def api_for_ticket(request: web.Request) -> web.Response:
    user = user_of(request)
    try:
        ticket = check_exists(await blocking(request.app[TICKETS].get,
                                             int(request.match_info["id"])))
    except Refused as refused:
        return _refusal(refused)
    replies = await blocking(request.app[CANNED].all)
    for reply in replies:
        reply["text"] = fill(reply["text"], ticket.customer_name,
                             user.display_name or user.username, ticket.id, ticket.language)
    return web.json_response({"replies": replies})


async def _save(request: web.Request, data: Any, reply_id: Optional[int]) -> Dict[str, Any]:
    user = user_of(request)
    try:
        values = canned_values(data)
        saved = await blocking(request.app[CANNED].save, values, user.username, reply_id)
    except Refused as refused:
        log.warning("console: canned reply by %s refused: %s", user.username, refused.message)
        raise
    log.info("console: %s saved canned reply /%s", user.username, saved["shortcut"])
    return saved


def _id(request: web.Request) -> Optional[int]:
    return int(request.match_info["id"]) if "id" in request.match_info else None


async def api_save(request: web.Request) -> web.Response:
    data = await json_body(request)
    try:
        return web.json_response({"reply": await _save(request, data, _id(request))})
    except Refused as refused:
        return _refusal(refused)


async def api_delete(request: web.Request) -> web.Response:
    await json_body(request)
    try:
        await blocking(request.app[CANNED].delete, _id(request))
    except Refused as refused:
        return _refusal(refused)
    log.info("console: %s deleted canned reply #%d", user_of(request).username, _id(request))
    return web.json_response({"ok": True})


async def canned_view(request: web.Request, error: str = "", status: int = 200,
                      form: Optional[Dict[str, str]] = None) -> web.Response:
    replies = await blocking(request.app[CANNED].all)
    return html(pages.layout("Câu trả lời mẫu / Canned replies",
                             canned_body(replies, error, form or {}), user_of(request),
                             page="canned"), status=status)


async def form_save(request: web.Request) -> web.StreamResponse:
    form = dict(await request.post())
    try:
        await _save(request, form, _id(request))
    except Refused as refused:
        return await canned_view(request, refused.message, refused.status, form)
    raise web.HTTPSeeOther("/admin/canned")


async def form_delete(request: web.Request) -> web.StreamResponse:
    try:
        await blocking(request.app[CANNED].delete, _id(request))
    except Refused as refused:
        return await canned_view(request, refused.message, refused.status)
    raise web.HTTPSeeOther("/admin/canned")


def canned_body(replies: List[Dict[str, Any]], error: str, form: Dict[str, str]) -> str:
    esc = pages.esc
    rows = "\n".join(f"""
<tr data-canned="{r['id']}"><td colspan="4">
  <form method="post" action="/admin/canned/{r['id']}" class="canned-edit">
    <input name="shortcut" value="{esc(r['shortcut'])}" required maxlength="32" size="12">
    <input name="title" value="{esc(r['title'])}" maxlength="{MAX_TITLE_CHARS}">
    <textarea name="text" rows="2" maxlength="{MAX_MESSAGE_CHARS}">{esc(r['text'])}</textarea>
    <button type="submit">Lưu / Save</button>
  </form>
  <form method="post" action="/admin/canned/{r['id']}/delete" class="inline">
    <button type="submit" class="danger">Xóa / Delete</button>
  </form>
  <span class="muted">{esc(r['updated_by'])}</span>
</td></tr>""" for r in replies)
    notice = f'<p class="error" role="alert" id="canned-error">{esc(error)}</p>' if error else ""
    variables = " ".join(f"<code>{{{v}}}</code>" for v in VARIABLES)
    return f"""
<h1>Câu trả lời mẫu / Canned replies</h1>
<p class="muted">Nhân viên gõ <code>/</code> trong ô trả lời để chọn. Biến / Variables:
  {variables}. Agents type <code>/</code> in the reply box to pick one.</p>
{notice}
<table class="canned"><tbody>{rows}</tbody></table>
<h2>Thêm / Add</h2>
<form method="post" action="/admin/canned" class="stacked" id="canned-add">
  <label>Lối tắt / Shortcut <input name="shortcut" id="c-shortcut" required maxlength="32"
    value="{esc(form.get('shortcut', ''))}" placeholder="doi-hang"></label>
  <label>Tiêu đề / Title <input name="title" id="c-title" maxlength="{MAX_TITLE_CHARS}"
    value="{esc(form.get('title', ''))}"></label>
  <label>Nội dung / Text <textarea name="text" id="c-text" rows="3"
    maxlength="{MAX_MESSAGE_CHARS}">{esc(form.get('text', ''))}</textarea></label>
  <button type="submit" id="c-add">Thêm / Add</button>
</form>"""


def add_routes(app: web.Application, engine) -> None:
    app[CANNED] = CannedStore(engine)
    r = app.router
    r.add_get("/admin/canned", canned_view)
    r.add_post("/admin/canned", form_save)
    r.add_post(r"/admin/canned/{id:\d+}", form_save)
    r.add_post(r"/admin/canned/{id:\d+}/delete", form_delete)
    r.add_get("/api/canned", api_list)
    r.add_post("/api/admin/canned", api_save)
    r.add_post(r"/api/admin/canned/{id:\d+}", api_save)
    r.add_post(r"/api/admin/canned/{id:\d+}/delete", api_delete)
    r.add_get(r"/api/tickets/{id:\d+}/canned", api_for_ticket)
