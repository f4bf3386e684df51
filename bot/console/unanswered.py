"""Unanswered questions, for editors and admins: the customers' messages the bot failed,
grouped by meaning (unanswered_groups.py), turned into FAQ content; and the phrasings that
customers' picked suggestions propose.

  GET  /unanswered                             the page (static/unanswered.js)
  GET  /api/unanswered?from=&to=&channel=&offset=&limit=
                                               groups, largest first (the dashboard's filters)
  POST /api/unanswered/ignore      {keys}      ignore a group's messages (and later similar ones)
  POST /api/unanswered/phrasings   {entry_id, base_version, keys}
                                               the messages become phrasings of the entry
                                               (409 with the other change when it changed)
  POST /api/unanswered/added       {entry_id, keys}   the messages made a new entry (saved
                                               through /api/faq/entries/{id} by the page)
  GET  /api/unanswered/proposals?from=&to=&channel=   picked suggestions as phrasings
  POST /api/unanswered/proposals/accept  {items: [{entry_id, keys}], publish}
  POST /api/unanswered/proposals/dismiss {keys}
  GET  /api/dashboard/unanswered?from=&to=&channel=   the top groups, for the leads' dashboard
Saves go through the FAQ store (bot/kb/store.py) with the version they start from; other
roles get 403 (the dashboard's top groups: leads and admins), and every POST passes the
console's origin check (security.py).
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from bot.console import unanswered_embedding, unanswered_page
from bot.console.dashboard import FORBIDDEN as DASHBOARD_FORBIDDEN
from bot.console.dashboard import Filters, FilterError, parse_filters, shop_today
from bot.console.faq_editor import CONFLICT, STORE
from bot.console.unanswered_groups import messages_by_key, proposals, unanswered_groups
from bot.console.unanswered_marks import ADDED, DISMISSED, IGNORED, MarkStore
from bot.console.unanswered_vectors import VectorStore
from bot.console.web import SETTINGS, TICKETS, blocking, html, json_body, json_error, refused, user_of
from bot.kb.corpus import phrasing_key
from bot.kb.service import KnowledgeBaseUnavailable
from bot.kb.store import EntryConflict, EntryInvalid, FaqStore
from bot.shop import shop_profile

log = logging.getLogger(__name__)

MARKS = web.AppKey("unanswered_marks", MarkStore)
VECTORS = web.AppKey("unanswered_vectors", VectorStore)
FORBIDDEN = ("Trang này dành cho biên tập viên và quản trị viên / "
             "This page is for editors and administrators only.")
KEY_RE = re.compile(r"^[0-9a-f]{20}$")
MAX_KEYS = 5000
MAX_LIMIT = 100
MAX_ITEMS = 200
TOP_GROUPS = 5  # on the dashboard


class BadRequest(ValueError):
    """A request the page would not send; the message says why in both languages."""


def _refused(request: web.Request, api: bool = True) -> Optional[web.Response]:
    return refused(request, user_of(request).edits_faq, "unanswered: editors and admins", FORBIDDEN, api)


def _keys(body: Any, name: str = "keys") -> List[str]:
    keys = body.get(name) if isinstance(body, dict) else None
    if (not isinstance(keys, list) or not keys or len(keys) > MAX_KEYS
            or not all(isinstance(k, str) and KEY_RE.match(k) for k in keys)):
        raise BadRequest(f"Cần danh sách mã tin nhắn (1–{MAX_KEYS}) / `{name}` must be a list "
                         f"of 1–{MAX_KEYS} message keys")
    return list(dict.fromkeys(keys))


def _entry_id(body: Any) -> str:
    entry_id = body.get("entry_id") if isinstance(body, dict) else None
    if not isinstance(entry_id, str) or not entry_id.strip() or len(entry_id) > 200:
        raise BadRequest("Cần mã câu hỏi FAQ / `entry_id` (the FAQ entry) is required")
    return entry_id.strip()


def _bad(error: Exception) -> web.Response:
    log.info("console unanswered: bad request: %s", error)
    return json_error(400, str(error))


async def _selection(request: web.Request) -> Filters:
    """The dashboard's filters: the shop's days from/to and a channel (FilterError)."""
    shop = await blocking(shop_profile, request.app[SETTINGS])
    return parse_filters(request.query, shop_today(shop))


def _paging(request: web.Request) -> Tuple[int, int]:
    try:
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "20"))
    except ValueError:
        raise BadRequest("offset và limit phải là số / offset and limit must be numbers") from None
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"offset ≥ 0, limit 1–{MAX_LIMIT}")
    return offset, limit


def with_phrasings(store: FaqStore, entry_id: str, base_version: int, texts: List[str],
                   author: str, note: str):
    """Saves the entry with `texts` added to its phrasings (those it does not have yet), as
    the version after `base_version` (EntryConflict when that is not the latest)."""
    current = store.current(entry_id)
    if current is None or current.deleted:
        raise KeyError(entry_id)
    entry = current.entry
    known = {phrasing_key(t) for t in [entry.question, *entry.phrasings]}
    new = []
    for text in texts:
        if phrasing_key(text) not in known:
            known.add(phrasing_key(text))
            new.append(text)
    return store.save(replace(entry, phrasings=[*entry.phrasings, *new]), author, base_version,
                      note), new


# --- handlers ---------------------------------------------------------------------------

async def unanswered_view(request: web.Request) -> web.Response:
    refused = _refused(request, api=False)
    if refused is not None:
        return refused
    try:
        selection = await _selection(request)
    except FilterError as error:
        return html(unanswered_page.unanswered_page(user_of(request), None, error=str(error)),
                    status=400)
    return html(unanswered_page.unanswered_page(user_of(request), selection))


async def api_groups(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    try:
        selection = await _selection(request)
        offset, limit = _paging(request)
    except (FilterError, BadRequest) as error:
        return _bad(error)
    data = await _groups(request, selection, offset, limit)
    return data if isinstance(data, web.Response) else web.json_response(data)


async def _groups(request: web.Request, selection: Filters, offset: int, limit: int):
    """The groups, or 503 when the bot's FAQ search (its embedder) cannot be loaded."""
    try:
        return await blocking(unanswered_groups, request.app[SETTINGS], selection,
                              request.app[MARKS], request.app[STORE], request.app[VECTORS],
                              offset, limit)
    except KnowledgeBaseUnavailable as error:
        log.error("console unanswered: the FAQ search is unavailable: %s", error)
        return json_error(503, "Chưa nhóm được: tìm kiếm FAQ chưa sẵn sàng / Cannot group: "
                               "the FAQ search is not available")


async def _mark(request: web.Request, status: str, entry_id: Optional[str] = None,
                keys: Optional[List[str]] = None) -> int:
    texts = await blocking(messages_by_key, request.app[SETTINGS], keys)
    return await blocking(request.app[MARKS].mark, texts.items(), status,
                          user_of(request).username, entry_id)


def marking(status: str, answer: str):
    """A handler that marks the messages of {keys} `status` (ignore a group, dismiss proposals)."""
    async def handler(request: web.Request) -> web.Response:
        if (refused := _refused(request)) is not None:
            return refused
        try:
            keys = _keys(await json_body(request))
        except BadRequest as error:
            return _bad(error)
        return web.json_response({answer: await _mark(request, status, keys=keys)})
    return handler


async def api_phrasings(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    body = await json_body(request)
    try:
        keys, entry_id = _keys(body), _entry_id(body)
        base = body.get("base_version")
        if not isinstance(base, int) or isinstance(base, bool) or base < 1:
            raise BadRequest("Cần phiên bản đang sửa / `base_version` (the entry's version) is required")
    except BadRequest as error:
        return _bad(error)
    texts = await blocking(messages_by_key, request.app[SETTINGS], keys)
    if not texts:
        return json_error(404, "Không tìm thấy các tin nhắn này / No such messages")
    user = user_of(request)
    try:
        saved, new = await blocking(with_phrasings, request.app[STORE], entry_id, base,
                                    list(dict.fromkeys(texts.values())), user.username,
                                    "phrasings from unanswered questions")
    except KeyError:
        return json_error(404, "Không có câu hỏi FAQ này / No such FAQ entry")
    except EntryConflict as conflict:
        log.info("console unanswered: %s", conflict)
        return web.json_response({**conflict.to_dict(), "message": CONFLICT, "detail": str(conflict)},
                                 status=409)
    except EntryInvalid as invalid:
        log.info("console unanswered: phrasings refused: %s", invalid.fields)
        return json_error(400, "Dữ liệu không hợp lệ / Invalid input", fields=invalid.fields)
    await blocking(request.app[MARKS].mark, texts.items(), ADDED, user.username, entry_id)
    return web.json_response({"saved": saved.to_dict(), "added": new})


async def api_added(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    body = await json_body(request)
    try:
        keys, entry_id = _keys(body), _entry_id(body)
    except BadRequest as error:
        return _bad(error)
    current = await blocking(request.app[STORE].current, entry_id)
    if current is None or current.deleted:
        return json_error(404, "Không có câu hỏi FAQ này / No such FAQ entry")
    return web.json_response({"added": await _mark(request, ADDED, entry_id, keys)})


async def api_proposals(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    try:
        selection = await _selection(request)
    except FilterError as error:
        return _bad(error)
    return web.json_response(await blocking(proposals, request.app[SETTINGS], selection,
                                            request.app[MARKS], request.app[STORE]))


def accept_proposals(store: FaqStore, marks: MarkStore, texts: Dict[str, str],
                     items: List[Tuple[str, List[str]]], author: str, publish: bool
                     ) -> Dict[str, Any]:
    """Each entry saved once with its accepted phrasings (from its latest version), then
    one publish; an entry that cannot take them is reported, the others are saved."""
    by_entry: Dict[str, List[str]] = {}
    for entry_id, keys in items:
        by_entry.setdefault(entry_id, []).extend(k for k in keys if k in texts)
    results = []
    for entry_id, keys in by_entry.items():
        current = store.current(entry_id)
        if current is None or current.deleted:
            results.append({"entry_id": entry_id, "error": "Không có câu hỏi FAQ này / No such FAQ entry"})
            continue
        try:
            saved, new = with_phrasings(store, entry_id, current.version,
                                        list(dict.fromkeys(texts[k] for k in keys)), author,
                                        "phrasings from picked suggestions")
        except (EntryConflict, EntryInvalid) as error:
            results.append({"entry_id": entry_id, "error": str(error)})
            continue
        marks.mark(((k, texts[k]) for k in keys), ADDED, author, entry_id)
        results.append({"entry_id": entry_id, "version": saved.version, "added": new})
    published = None
    if publish and any("version" in r for r in results):
        published = store.publish(author).version
    return {"results": results, "published_version": published}


async def api_accept(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    body = await json_body(request)
    items = body.get("items") if isinstance(body, dict) else None
    try:
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
            raise BadRequest(f"Cần 1–{MAX_ITEMS} đề xuất / `items`: 1–{MAX_ITEMS} proposals")
        parsed = [(_entry_id(item), _keys(item)) for item in items]
    except BadRequest as error:
        return _bad(error)
    texts = await blocking(messages_by_key, request.app[SETTINGS],
                           [k for _, keys in parsed for k in keys])
    try:
        result = await blocking(accept_proposals, request.app[STORE], request.app[MARKS], texts,
                                parsed, user_of(request).username, bool(body.get("publish")))
    except EntryInvalid as invalid:  # the publish was refused
        return json_error(400, "Không xuất bản được / Cannot publish", fields=invalid.fields)
    return web.json_response(result)


async def api_dashboard_top(request: web.Request) -> web.Response:
    """The largest unanswered groups for the dashboard's filters (leads and admins)."""
    if (no := refused(request, user_of(request).sees_dashboard, "dashboard: leads and admins",
                      DASHBOARD_FORBIDDEN)) is not None:
        return no
    try:
        selection = await _selection(request)
    except FilterError as error:
        return _bad(error)
    data = await _groups(request, selection, 0, TOP_GROUPS)
    if isinstance(data, web.Response):
        return data
    top = [{"example": g["examples"][0]["text"], "size": g["size"], "channels": g["channels"],
            "nearest": g["nearest"]} for g in data["groups"]]
    return web.json_response({"groups": top, "total_groups": data["total_groups"],
                              "messages": data["messages"], "link": "/unanswered?" + selection.query()})


def add_routes(app: web.Application) -> None:
    app[MARKS] = MarkStore(app[TICKETS].engine)
    app[VECTORS] = VectorStore(app[TICKETS].engine)
    unanswered_embedding.setup(app, app[MARKS], app[VECTORS])
    r = app.router
    r.add_get("/unanswered", unanswered_view)
    r.add_get("/api/unanswered", api_groups)
    r.add_post("/api/unanswered/ignore", marking(IGNORED, "ignored"))
    r.add_post("/api/unanswered/phrasings", api_phrasings)
    r.add_post("/api/unanswered/added", api_added)
    r.add_get("/api/unanswered/proposals", api_proposals)
    r.add_post("/api/unanswered/proposals/accept", api_accept)
    r.add_post("/api/unanswered/proposals/dismiss", marking(DISMISSED, "dismissed"))
    r.add_get("/api/dashboard/unanswered", api_dashboard_top)
