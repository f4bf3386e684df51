"""The FAQ editor's import, for the roles editor and admin: a shop's spreadsheet (.xlsx or
CSV), read by the importer of `hotro kb import` (bot.kb.corpus.read_sheet_bytes), previewed,
then applied.

  POST /api/faq/import/preview   the file itself as the body (text/csv, or the .xlsx type):
                                 what it would add,
                                 change and conflict with (bot/kb/import_preview.py);
                                 nothing is saved
  POST /api/faq/import/apply     {"entries": [{id, topic, question, phrasings, answer_vi,
                                 answer_en, tags, base_version}]}: the previewed rows, each
                                 saved through the store as the editor (a version of its own);
                                 {"saved": [...], "conflict": [...], "invalid": [...]}

A file over MAX_CSV_BYTES gets 413, one that is not a readable sheet 400, both with a message.
Rows changed by someone else between preview and apply come back as conflicts, not saved.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List

from aiohttp import web

from bot.console.faq_editor import entry_of, faq_store, not_editor
from bot.console.security import FORM_TYPES
from bot.console.web import blocking, json_body, json_error, user_of
from bot.kb.corpus import read_sheet_bytes
from bot.kb.import_preview import preview_import
from bot.kb.store import EntryConflict, EntryInvalid

log = logging.getLogger(__name__)

MAX_CSV_BYTES = 2 * 1024 * 1024  # a 1,000-entry sheet with phrasings is about 700 KB
MAX_IMPORT_ENTRIES = 5000
TOO_BIG = (f"Tệp quá lớn: tối đa {MAX_CSV_BYTES // (1024 * 1024)} MB / "
           f"The file is too large: at most {MAX_CSV_BYTES // (1024 * 1024)} MB")


def _big(request: web.Request) -> web.Response:
    log.warning("console: %s sent a FAQ import over %d bytes", user_of(request).username, MAX_CSV_BYTES)
    return json_error(413, TOO_BIG)


async def api_preview(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    if request.content_type in FORM_TYPES:  # the page sends the file itself as the body
        return json_error(415, "Hãy gửi chính tệp .xlsx hoặc CSV (Content-Type: text/csv) / "
                               "Send the .xlsx or CSV file itself as the body (Content-Type: text/csv)")
    try:  # the console's usual body limit is smaller
        data = await request.clone(client_max_size=MAX_CSV_BYTES).read()
    except web.HTTPRequestEntityTooLarge:
        return _big(request)
    if not data.strip():
        return json_error(400, "Tệp trống / The file is empty")
    name = request.query.get("name", "upload.csv")[:200]
    entries, problems = await blocking(read_sheet_bytes, data, name)  # a workbook takes a moment
    if not entries:
        shown = [str(p) for p in problems] or ["no rows"]
        log.info("console: FAQ import refused: %s", shown)
        return json_error(400, "Không đọc được bảng tính: cần tệp .xlsx hoặc CSV UTF-8 có cột question và "
                               "answer / Cannot read the sheet: an .xlsx or UTF-8 CSV with question and "
                               "answer columns is needed", problems=shown)
    if len(entries) > MAX_IMPORT_ENTRIES:
        return json_error(413, f"Quá nhiều dòng: tối đa {MAX_IMPORT_ENTRIES} / "
                               f"Too many rows: at most {MAX_IMPORT_ENTRIES}")
    plan = await blocking(preview_import, faq_store(request), entries, problems)
    return web.json_response({"file": name, "rows": len(entries), **plan})


async def api_apply(request: web.Request) -> web.Response:
    if (refused := not_editor(request)) is not None:
        return refused
    try:
        body = await json_body(request, MAX_CSV_BYTES)
    except web.HTTPRequestEntityTooLarge:
        return _big(request)
    rows = body.get("entries") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows or len(rows) > MAX_IMPORT_ENTRIES:
        return json_error(400, "Không có dòng nào để áp dụng / Nothing to apply",
                          fields={"entries": [f"1 to {MAX_IMPORT_ENTRIES} entries"]})
    user = user_of(request).username
    store = faq_store(request)
    out: Dict[str, List[Any]] = {"saved": [], "conflict": [], "invalid": []}
    for row in rows:
        entry_id = row.get("id") if isinstance(row, dict) else None
        entry, problems = entry_of(str(entry_id or ""), row)
        base = row.get("base_version") if isinstance(row, dict) else None
        if entry is None or problems or not isinstance(base, int) or isinstance(base, bool):
            out["invalid"].append({"id": entry_id, "fields": problems or {"base_version": ["required"]}})
            continue
        try:
            saved = await blocking(store.save, entry, user, base, "CSV import")
        except EntryConflict as conflict:
            out["conflict"].append(conflict.to_dict())
            continue
        except EntryInvalid as invalid:
            out["invalid"].append({"id": entry_id, "fields": invalid.fields})
            continue
        out["saved"].append({"id": saved.entry.id, "version": saved.version})
    log.info("console: %s imported a CSV: %d saved, %d conflicts, %d invalid", user,
             len(out["saved"]), len(out["conflict"]), len(out["invalid"]))
    return web.json_response(out)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/faq/import/preview", api_preview)
    app.router.add_post("/api/faq/import/apply", api_apply)
