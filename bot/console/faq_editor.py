"""The console's FAQ editor API (JSON), for the roles editor and admin: the FAQ store
(bot/kb/store.py) behind the console's sessions and origin check.

  GET  /api/faq/entries[?q=text&topic=t]      entries now (latest saves, each marked when saved
                                              since the last publish), the published version,
                                              the number of unpublished saves
  GET  /api/faq/entries/{id}                  the entry's latest version (also a deletion)
  POST /api/faq/entries/{id}                  save {topic, question, phrasings, answer_vi,
                                              answer_en, tags, base_version} (base_version 0 = new)
  POST /api/faq/entries/{id}/delete           {base_version}
  GET  /api/faq/entries/{id}/history          every version, newest first, each with its diff
                                              to the version before
  POST /api/faq/entries/{id}/restore          {version, base_version}
  POST /api/faq/publish                       every server answers from the store as it is now

Answers: 200 the saved version; 400 {"error", "fields": {field: [messages]}} for bad input;
403 for other roles; 404 no such entry/version; 409 {"error": "conflict", "current": the
version saved meanwhile (who, when, entry), "changes": what it changed} when the save was
made from an out-of-date version: nothing is overwritten.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from aiohttp import web

from bot.console.web import SETTINGS, blocking, json_body, json_error, refused, user_of
from bot.db import database_url
from bot.kb.corpus import Entry
from bot.kb.store import EntryConflict, EntryInvalid, FaqStore, field_changes
from bot.text import fold

log = logging.getLogger(__name__)

FORBIDDEN = "Chỉ biên tập viên và quản trị viên / Editors and admins only"
CONFLICT = ("Người khác đã lưu câu hỏi này trong lúc bạn sửa; xem thay đổi của họ rồi lưu lại / "
            "Someone saved this entry while you were editing it; review their change and save again")
STORE = web.AppKey("faq_store", FaqStore)


def faq_store(request: web.Request) -> FaqStore:
    return request.app[STORE]


def not_editor(request: web.Request) -> Optional[web.Response]:
    """403 for a user who may not edit the FAQ (the guard of every FAQ API call)."""
    return refused(request, user_of(request).edits_faq, "FAQ: editors and admins", FORBIDDEN)


def _bad(fields: Dict[str, List[str]]) -> web.Response:
    log.info("console: FAQ entry refused: %s", fields)
    return json_error(400, "Dữ liệu không hợp lệ / Invalid input", fields=fields)


def _conflict(conflict: EntryConflict) -> web.Response:
    """409 with the version saved meanwhile (who, when, the entry) and what it changed."""
    return web.json_response({**conflict.to_dict(), "message": CONFLICT, "detail": str(conflict)}, status=409)


def _int(body: Dict[str, Any], key: str) -> Optional[int]:
    value = body.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def entry_of(entry_id: str, body: Any) -> tuple:
    """(Entry, {field: [messages]}) from a save request's JSON."""
    problems: Dict[str, List[str]] = {}
    if not isinstance(body, dict):
        return None, {"body": ["expected a JSON object"]}

    def text(key: str) -> str:
        value = body.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            problems[key] = ["phải là chữ / must be text"]
            return ""
        return value

    def texts(key: str) -> List[str]:
        value = body.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems[key] = ["phải là danh sách chữ / must be a list of texts"]
            return []
        return value

    entry = Entry(id=entry_id, topic=text("topic"), question=text("question"), phrasings=texts("phrasings"),
                  answer_vi=text("answer_vi"), answer_en=text("answer_en") or None, tags=texts("tags"))
    return entry, problems


async def api_list(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    store = faq_store(request)
    q = fold(request.query.get("q", "")).lower().strip()
    topic = request.query.get("topic", "").strip()

    def read():
        stored = store.stored()
        pub = store.published()
        return stored, pub, store.unpublished()

    stored, pub, unpublished = await blocking(read)
    rows = []
    for x in stored:
        e = x.entry
        if topic and e.topic != topic:
            continue
        if q and q not in fold(" ".join([e.id, e.question, *e.phrasings, e.answer_vi, e.answer_en or ""])).lower():
            continue
        rows.append({"id": e.id, "topic": e.topic, "question": e.question, "version": x.version,
                     "author": x.author, "saved_at": x.to_dict()["saved_at"],
                     "unpublished": pub is None or x.seq > pub.version})
    return web.json_response({"entries": rows, "topics": sorted({x.entry.topic for x in stored}),
                              "published_version": pub.version if pub else None,
                              "unpublished": unpublished})


async def api_get(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    current = await blocking(faq_store(request).current, request.match_info["id"])
    if current is None:
        return json_error(404, "Không có câu hỏi này / No such entry")
    return web.json_response(current.to_dict())


async def api_save(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    body = await json_body(request)
    entry, problems = entry_of(request.match_info["id"], body)
    base = _int(body, "base_version") if isinstance(body, dict) else None
    if base is None:
        problems["base_version"] = ["cần số phiên bản đã sửa từ / the version edited from is required (0: new)"]
    if problems:
        return _bad(problems)
    user = user_of(request)
    try:
        saved = await blocking(faq_store(request).save, entry, user.username, base, str(body.get("note") or ""))
    except EntryConflict as conflict:
        log.info("console: %s", conflict)
        return _conflict(conflict)
    except EntryInvalid as invalid:
        return _bad(invalid.fields)
    return web.json_response(saved.to_dict())


async def api_delete(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    body = await json_body(request)
    base = _int(body, "base_version") if isinstance(body, dict) else None
    if base is None:
        return _bad({"base_version": ["cần số phiên bản / the version deleted is required"]})
    try:
        gone = await blocking(faq_store(request).delete, request.match_info["id"], user_of(request).username, base)
    except EntryConflict as conflict:
        return _conflict(conflict)
    except KeyError:
        return json_error(404, "Không có câu hỏi này / No such entry")
    return web.json_response(gone.to_dict())


async def api_history(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    history = await blocking(faq_store(request).history, request.match_info["id"])
    if not history:
        return json_error(404, "Không có câu hỏi này / No such entry")
    out = []
    for i, version in enumerate(history):
        before = history[i + 1] if i + 1 < len(history) else None
        d = version.to_dict()
        d["diff"] = field_changes(before.entry if before and not before.deleted else None,
                                  None if version.deleted else version.entry)
        out.append(d)
    return web.json_response({"id": request.match_info["id"], "versions": out})


async def api_restore(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    body = await json_body(request)
    version = _int(body, "version") if isinstance(body, dict) else None
    base = _int(body, "base_version") if isinstance(body, dict) else None
    if not version or base is None:
        return _bad({"version": ["cần phiên bản cần khôi phục và phiên bản hiện tại / "
                                 "version and base_version are required"]})
    try:
        restored = await blocking(faq_store(request).restore, request.match_info["id"], version,
                                  user_of(request).username, base)
    except EntryConflict as conflict:
        return _conflict(conflict)
    except EntryInvalid as invalid:
        return _bad(invalid.fields)
    except KeyError:
        return json_error(404, "Không có phiên bản này / No such version")
    return web.json_response(restored.to_dict())


async def api_publish(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    try:
        pub = await blocking(faq_store(request).publish, user_of(request).username)
    except EntryInvalid as invalid:
        return _bad(invalid.fields)
    return web.json_response({"published_version": pub.version, "entries": pub.entries,
                              "author": pub.author})


def add_routes(app: web.Application) -> None:
    app[STORE] = FaqStore(database_url(app[SETTINGS]))
    r = app.router
    r.add_get("/api/faq/entries", api_list)
    r.add_get(r"/api/faq/entries/{id}", api_get)
    r.add_post(r"/api/faq/entries/{id}", api_save)
    r.add_post(r"/api/faq/entries/{id}/delete", api_delete)
    r.add_get(r"/api/faq/entries/{id}/history", api_history)
    r.add_post(r"/api/faq/entries/{id}/restore", api_restore)
    r.add_post("/api/faq/publish", api_publish)
