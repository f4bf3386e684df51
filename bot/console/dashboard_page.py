"""The dashboard's HTML (bot/console/dashboard.py): the filters, the summary cards and one
canvas per chart, which static/dashboard.js draws with the vendored Chart.js
(static/vendor/chart.umd.js) from /api/dashboard. Vietnamese first, English beside it;
values go through `esc`, and data the script adds goes in with textContent."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from bot.console.auth import User
from bot.console.pages import esc, layout

if TYPE_CHECKING:
    from bot.console.dashboard import Filters

# (canvas id, title, what it shows)
CHARTS = (
    ("chart-conversations", "Cuộc trò chuyện / Conversations",
     "Mỗi ngày, nét đứt: kỳ trước / Per day; dashed: the previous period"),
    ("chart-containment", "Bot tự giải quyết / Bot resolution rate (containment)",
     "Tỉ lệ cuộc trò chuyện không cần nhân viên / Conversations without a person"),
    ("chart-handoff", "Chuyển nhân viên theo lý do / Handoff rate by reason",
     "Tỉ lệ trên số cuộc trò chuyện / Out of all conversations"),
    ("chart-faq", "Kết quả FAQ / FAQ outcomes",
     "Trả lời, gợi ý (khách chọn), không biết / Answered, suggested (picked), don't know"),
    ("chart-bot-response", "Thời gian bot trả lời / Bot response time",
     "p50 và p95, giây / p50 and p95, seconds"),
    ("chart-human-response", "Nhân viên trả lời đầu / First human response",
     "Trung vị, phút: theo đồng hồ và trong giờ làm việc / Median, minutes: clock and "
     "office hours"),
    ("chart-csat", "CSAT (4–5 sao / stars)",
     "Tỉ lệ đánh giá 4–5 trên tất cả đánh giá / Ratings of 4–5 out of all ratings"),
    ("chart-ratings", "Phân bố đánh giá / Rating distribution",
     "Số đánh giá 1–5 sao, kỳ này và kỳ trước / Ratings 1–5, this and the previous period"),
)


def dashboard_page(user: User, filters: Optional["Filters"], tz: str, error: str = "") -> str:
    """The page for `filters`; with `error` (bad filters) only the form and the message."""
    start = filters.start.isoformat() if filters else ""
    end = filters.end.isoformat() if filters else ""
    channel = (filters.channel or "") if filters else ""
    options = '<option value="">Tất cả / All</option>'
    if channel:
        options += f'<option value="{esc(channel)}" selected>{esc(channel)}</option>'
    export = (f'<a class="button" id="export" download '
              f'href="/api/dashboard/conversations.csv?{esc(filters.query())}">'
              f"Tải CSV / Download CSV</a>" if filters else "")
    notice = f'<p class="error" id="dashboard-error" role="alert">{esc(error)}</p>' if error else ""
    charts = "".join(
        f'<figure class="chart"><figcaption><b>{esc(title)}</b>'
        f'<span class="muted">{esc(note)}</span></figcaption>'
        f'<div class="chart-box"><canvas id="{cid}" role="img" aria-label="{esc(title)}">'
        f"{esc(note)}</canvas></div></figure>"
        for cid, title, note in CHARTS) if filters else ""
    # the editors' unanswered groups (unanswered.py), filled in by dashboard_unanswered.js
    unanswered = ("""<section class="unanswered-top" id="unanswered-top">
<h2>Câu hỏi chưa trả lời nhiều nhất / Top unanswered questions</h2>
<p class="muted"></p><ol></ol>
<a href="/unanswered" id="unanswered-link" hidden>Xem tất cả, cho biên tập viên / All of them, for editors</a>
</section>""" if filters else "")
    body = f"""
<link rel="stylesheet" href="/static/dashboard.css">
<h1>Chỉ số hỗ trợ / Support dashboard</h1>
<form method="get" action="/dashboard" class="filters" id="filters">
  <label>Từ ngày / From <input type="date" name="from" id="from" value="{esc(start)}"></label>
  <label>Đến ngày / To <input type="date" name="to" id="to" value="{esc(end)}"></label>
  <label>Kênh / Channel <select name="channel" id="channel">{options}</select></label>
  <button type="submit" id="apply">Xem / Show</button>
  {export}
</form>
{notice}
<p class="warning" id="events-note" role="status" hidden></p>
<p class="muted" id="period"></p>
<section class="kpis" id="kpis"></section>
<section class="charts" id="charts">{charts}</section>
{unanswered}
<script src="/static/vendor/chart.umd.js" defer></script>
<script src="/static/dashboard.js" defer></script>
<script src="/static/dashboard_unanswered.js" defer></script>"""
    data = {"tz": tz}
    if filters:
        data.update({"from": start, "to": end, "channel": channel})
    return layout("Chỉ số hỗ trợ / Support dashboard", body, user, page="dashboard", data=data)
