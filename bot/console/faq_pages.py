"""The FAQ editor's pages, for the roles editor and admin; static/faq.js fills them from the
JSON API (faq_editor.py, faq_try.py, faq_import.py). Vietnamese first, English beside it;
values go through `esc`, and data the script adds goes in with textContent.

  GET /faq                    entries: search by text or by meaning, topic filter, the
                              published version and the unpublished saves, publish, try it
  GET /faq/new                a new entry; the form takes a prefill from the query string:
                              ?question=...&phrasings=...&phrasings=...&topic=...&answer_vi=
                              ...&answer_en=...&tags=a,b (phrasings repeated or one a line)
  GET /faq/entries/{id}       edit, delete, history with diffs, restore
  GET /faq/import             spreadsheet (.xlsx, CSV) import: preview, then apply
"""
from __future__ import annotations

from typing import Dict, List, Optional

from aiohttp import web

from bot.console.auth import User
from bot.console.faq_editor import FORBIDDEN
from bot.console.pages import error_page, esc, layout
from bot.console.web import CONFIG, html, user_of
from bot.kb.corpus import MAX_ANSWER_CHARS
from bot.limits import MAX_MESSAGE_CHARS

PREFILLED = ("question", "topic", "answer_vi", "answer_en", "tags")
MAX_PREFILL_CHARS = 20000  # what the query string may put in one field
MAX_NOTE_CHARS = 500  # the store keeps this much of a save's note


def _page(user: User, title: str, body: str, page: str, **data: str) -> str:
    head = '<link rel="stylesheet" href="/static/faq.css">'
    tail = '<script src="/static/faq.js" defer></script>'
    return layout(title, head + body + tail, user, page=page, data=data)


def faq_list_page(user: User, tz: str) -> str:
    body = f"""
<h1>Câu hỏi thường gặp / FAQ</h1>
<p class="muted" id="faq-status" role="status">…</p>
<div class="actions">
  <a class="button" href="/faq/new" id="faq-new">+ Câu hỏi mới / New entry</a>
  <a class="button secondary" href="/faq/import" id="faq-import">Nhập bảng tính / Import a spreadsheet</a>
  <button type="button" id="publish">Xuất bản / Publish</button>
</div>
<p class="ok" id="faq-message" role="status" hidden></p>
<p class="error" id="faq-error" role="alert" hidden></p>
<section class="faq-try" id="try-box">
  <h2>Thử một tin nhắn / Try a message</h2>
  <p class="muted">Chạy trên bản nháp (gồm cả các thay đổi chưa xuất bản), bằng đúng cách tìm
    của bot. / Runs against the draft (unpublished saves included) with the bot's own search.</p>
  <form id="try-form" class="composer">
    <label for="try-text">Tin nhắn của khách / A customer's message</label>
    <textarea id="try-text" rows="2" maxlength="{MAX_MESSAGE_CHARS}"
      placeholder="vd. phi ship ve ha noi bao nhieu / e.g. how much is shipping"></textarea>
    <button type="submit" id="try-run">Thử / Try</button>
  </form>
  <div id="try-result" aria-live="polite"></div>
</section>
<h2>Các câu hỏi / Entries</h2>
<form method="get" action="/faq" class="filters" id="faq-search">
  <label>Tìm / Search <input type="search" name="q" id="faq-q" maxlength="{MAX_MESSAGE_CHARS}"></label>
  <label>Cách tìm / Search by
    <select name="mode" id="faq-mode">
      <option value="text">Chữ / Text</option>
      <option value="meaning">Ý nghĩa / Meaning</option>
    </select></label>
  <label>Chủ đề / Topic <select name="topic" id="faq-topic"><option value="">Tất cả / All</option></select></label>
  <button type="submit" id="faq-search-run">Tìm / Search</button>
</form>
<table class="faq-entries">
  <thead><tr><th>Câu hỏi / Question</th><th>Chủ đề / Topic</th><th>Mã / ID</th>
    <th>Phiên bản / Version</th><th>Sửa bởi / Saved by</th><th>Lúc / Saved at</th>
    <th class="score" id="score-head" hidden>Điểm / Score</th></tr></thead>
  <tbody id="faq-entries"></tbody>
</table>
<p class="muted" id="faq-empty" hidden>Không có câu hỏi nào / No entries found.</p>"""
    return _page(user, "Câu hỏi thường gặp / FAQ", body, "faq", tz=tz)


def _field(label: str, name: str, value: str, rows: int = 0, maxlength: int = 0, note: str = "") -> str:
    limit = f' maxlength="{maxlength}"' if maxlength else ""
    hint = f'<span class="muted hint">{esc(note)}</span>' if note else ""
    if rows:
        control = f'<textarea name="{name}" id="f-{name}" rows="{rows}"{limit}>{esc(value)}</textarea>'
    else:
        control = f'<input name="{name}" id="f-{name}" value="{esc(value)}"{limit}>'
    return (f'<label>{esc(label)}{hint}{control}</label>'
            f'<span class="field-error" role="alert" data-field="{name}" hidden></span>')


def faq_entry_page(user: User, tz: str, entry_id: str = "", prefill: Optional[Dict[str, str]] = None) -> str:
    """The entry form: empty or `prefill`ed for a new entry, filled by faq.js for `entry_id`."""
    v = prefill or {}
    new = not entry_id
    title = "Câu hỏi mới / New entry" if new else f"Sửa câu hỏi / Edit entry {entry_id}"
    hidden = " hidden" if new else ""  # shown by faq.js once the new entry is saved
    history = f"""
<section class="faq-history" id="history-box"{hidden}>
  <h2>Lịch sử / History</h2>
  <p class="muted">Mỗi lần lưu là một phiên bản; khôi phục tạo một phiên bản mới. / Every save is a
    version; restoring one makes a new version.</p>
  <ol id="history"></ol>
</section>"""
    delete = f'<button type="button" id="entry-delete" class="danger"{hidden}>Xóa / Delete</button>'
    body = f"""
<p><a href="/faq">← Câu hỏi thường gặp / FAQ</a></p>
<h1 id="entry-title">{esc(title)}</h1>
<p class="muted" id="entry-meta"></p>
<section class="warning conflict" id="conflict" role="alert" hidden></section>
<p class="error" id="entry-error" role="alert" hidden></p>
<p class="ok" id="entry-saved" role="status" hidden></p>
<form id="entry-form" class="stacked faq-entry" novalidate>
  {_field("Mã / ID", "id", entry_id or v.get("id", ""),
          note="chữ thường, số, - _ . ; để trống: tạo từ câu hỏi / lowercase, digits, - _ . ; empty: made from the question")}
  {_field("Chủ đề / Topic", "topic", v.get("topic", ""), note="vd. / e.g. shipping")}
  {_field("Câu hỏi / Question", "question", v.get("question", ""))}
  {_field("Cách hỏi khác, mỗi dòng một cách / Other phrasings, one a line", "phrasings",
          v.get("phrasings", ""), rows=6,
          note="có dấu, không dấu, viết tắt (ko, dc, sdt), tiếng Anh / with and without accents, teencode, English")}
  {_field(f"Câu trả lời (tiếng Việt, tối đa {MAX_ANSWER_CHARS} ký tự) / Answer (Vietnamese, at most "
          f"{MAX_ANSWER_CHARS} characters)", "answer_vi", v.get("answer_vi", ""), rows=5)}
  {_field("Câu trả lời (tiếng Anh) / Answer (English)", "answer_en", v.get("answer_en", ""), rows=4,
          note="không bắt buộc / optional")}
  {_field("Thẻ, cách nhau bởi dấu phẩy / Tags, comma separated", "tags", v.get("tags", ""))}
  {_field("Ghi chú cho lần lưu này / Note for this save", "note", "", maxlength=MAX_NOTE_CHARS,
          note="không bắt buộc / optional")}
  <div class="actions">
    <button type="submit" id="entry-save">Lưu bản nháp / Save draft</button>
    {delete}
  </div>
  <p class="muted">Lưu chưa thay đổi câu trả lời của bot: bấm Xuất bản ở trang FAQ. / Saving does not
    change the bot's answers yet: press Publish on the FAQ page.</p>
</form>
{history}"""
    return _page(user, title, body, "faq-entry", entry=entry_id, tz=tz)


def faq_import_page(user: User, tz: str) -> str:
    body = """
<p><a href="/faq">← Câu hỏi thường gặp / FAQ</a></p>
<h1>Nhập từ bảng tính / Import a spreadsheet</h1>
<p class="muted">Tệp Excel (.xlsx, trang tính đầu tiên) hoặc CSV UTF-8, dòng đầu là tên cột: ít nhất <code>question</code> và
  <code>answer</code> (hoặc <code>câu hỏi</code>, <code>câu trả lời</code>); thêm nếu có:
  <code>id</code>, <code>topic</code>, <code>phrasings</code> (mỗi dòng một cách hỏi),
  <code>answer_en</code>, <code>tags</code>. Xem trước rồi mới áp dụng; câu hỏi không có trong
  tệp được giữ nguyên. / An Excel workbook (.xlsx, its first sheet) or a UTF-8 CSV whose first
  row names the columns: at least question and
  answer; optional id, topic, phrasings (one a line), answer_en, tags. You see a preview before
  anything is saved; entries not in the file are kept.</p>
<form id="import-form" class="composer">
  <label for="import-file">Tệp .xlsx hoặc CSV / .xlsx or CSV file</label>
  <input type="file" id="import-file" accept=".xlsx,.csv,text/csv">
  <button type="submit" id="import-preview">Xem trước / Preview</button>
</form>
<p class="error" id="import-error" role="alert" hidden></p>
<section id="import-plan" hidden>
  <h2>Xem trước / Preview</h2>
  <p id="import-summary"></p>
  <div id="import-sections"></div>
  <button type="button" id="import-apply">Áp dụng / Apply</button>
</section>
<p class="ok" id="import-done" role="status" hidden></p>"""
    return _page(user, "Nhập bảng tính / Import a spreadsheet", body, "faq-import", tz=tz)


def _refused(request: web.Request) -> Optional[web.Response]:
    user = user_of(request)
    if user.edits_faq:
        return None
    return html(error_page("403 Không có quyền / Forbidden", FORBIDDEN, user), status=403)


def prefill_of(query) -> Dict[str, str]:
    """The new-entry form's values from the URL (unanswered questions link here)."""
    out = {k: query.get(k, "")[:MAX_PREFILL_CHARS] for k in PREFILLED if query.get(k)}
    phrasings: List[str] = [line.strip() for p in query.getall("phrasings", []) for line in p.splitlines()]
    if any(phrasings):
        out["phrasings"] = "\n".join(p for p in phrasings if p)[:MAX_PREFILL_CHARS]
    return out


async def faq_list(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    return html(faq_list_page(user_of(request), request.app[CONFIG]["timezone"]))


async def faq_new(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    return html(faq_entry_page(user_of(request), request.app[CONFIG]["timezone"],
                               prefill=prefill_of(request.query)))


async def faq_entry(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    return html(faq_entry_page(user_of(request), request.app[CONFIG]["timezone"], request.match_info["id"]))


async def faq_import(request: web.Request) -> web.Response:
    if (refused := _refused(request)) is not None:
        return refused
    return html(faq_import_page(user_of(request), request.app[CONFIG]["timezone"]))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/faq", faq_list)
    r.add_get("/faq/new", faq_new)
    r.add_get(r"/faq/entries/{id}", faq_entry)
    r.add_get("/faq/import", faq_import)
