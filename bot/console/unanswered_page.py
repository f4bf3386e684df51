"""The unanswered questions page's HTML (bot/console/unanswered.py): the filters, the
groups and the proposed phrasings, which static/unanswered.js fills in from the API with
textContent only. Vietnamese first, English beside it."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from bot.console.auth import User
from bot.console.pages import esc, layout

if TYPE_CHECKING:
    from bot.console.dashboard import Filters

TITLE = "Câu hỏi chưa trả lời / Unanswered questions"


def unanswered_page(user: User, selection: Optional["Filters"], error: str = "") -> str:
    start = selection.start.isoformat() if selection else ""
    end = selection.end.isoformat() if selection else ""
    channel = (selection.channel or "") if selection else ""
    options = '<option value="">Tất cả / All</option>'
    for name in ("widget", "facebook", "zalo", "rest"):
        chosen = " selected" if name == channel else ""
        options += f'<option value="{name}"{chosen}>{name}</option>'
    if channel and channel not in ("widget", "facebook", "zalo", "rest"):
        options += f'<option value="{esc(channel)}" selected>{esc(channel)}</option>'
    notice = f'<p class="error" id="unanswered-error" role="alert">{esc(error)}</p>' if error else ""
    content = "" if not selection else """
<p class="toolbar">
  <button type="button" id="publish">Xuất bản FAQ / Publish the FAQ</button>
  <span id="status" role="status" class="muted"></span>
</p>
<p class="muted" id="summary"></p>
<section id="groups" class="groups" aria-label="Nhóm câu hỏi / Groups"></section>
<p class="pager">
  <button type="button" id="previous" hidden>← Trang trước / Previous</button>
  <button type="button" id="next" hidden>Trang sau / Next →</button>
</p>
<h2>Đề xuất cách hỏi từ gợi ý khách đã chọn / Phrasings proposed by picked suggestions</h2>
<p class="muted">Khách gõ câu bên trái rồi bấm gợi ý bên phải. Chấp nhận: câu đó thành một cách
hỏi của câu FAQ, lần sau bot trả lời ngay. / The customer typed the message on the left, then
picked the suggestion on the right. Accepting makes the message a phrasing of that entry: next
time the bot answers at once.</p>
<table class="proposals" id="proposals">
  <thead><tr><th><input type="checkbox" id="proposals-all" aria-label="Chọn tất cả / Select all"></th>
  <th>Khách hỏi / Message</th><th>Câu FAQ đã chọn / Picked entry</th><th>Số lần / Times</th></tr></thead>
  <tbody></tbody>
</table>
<p class="toolbar">
  <button type="button" id="accept">Chấp nhận và xuất bản / Accept and publish</button>
  <button type="button" id="dismiss">Bỏ qua / Dismiss</button>
</p>"""
    body = f"""
<link rel="stylesheet" href="/static/unanswered.css">
<h1>{TITLE}</h1>
<form method="get" action="/unanswered" class="filters" id="filters">
  <label>Từ ngày / From <input type="date" name="from" id="from" value="{esc(start)}"></label>
  <label>Đến ngày / To <input type="date" name="to" id="to" value="{esc(end)}"></label>
  <label>Kênh / Channel <select name="channel" id="channel">{options}</select></label>
  <button type="submit" id="apply">Xem / Show</button>
</form>
{notice}
{content}
<script src="/static/unanswered.js" defer></script>"""
    data = {"from": start, "to": end, "channel": channel} if selection else {}
    return layout(TITLE, body, user, page="unanswered", data=data)
