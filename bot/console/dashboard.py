"""The leads' support dashboard: the support metrics (bot/analytics) as charts per day,
with the trend against the previous period, filtered by date range and channel, and the
conversations as CSV.

  GET /dashboard                              the page (its charts load /api/dashboard)
  GET /api/dashboard?from=&to=&channel=       {"metrics": metrics(), "previous_by_day",
                                               "channels", "events_available", "note"}
  GET /api/dashboard/conversations.csv?...    one row per conversation (bot/analytics/export.py)
Leads and admins only (auth.DASHBOARD_ROLES); anyone else gets 403 and a log line. `from`
and `to` are the shop's days, YYYY-MM-DD, both included (default: the 7 days ending today);
a bad date, a reversed or over-long range or a bad channel name gets 400 and a message.

The events are the ones Rasa's SQL event broker writes, found as `hotro report` finds them
(HOTRO_EVENTS_DB, which `hotro run` sets, else var/events.db). A missing database or table
gives an empty dashboard with a note (the details only in the log: a database URL can hold
a password).
"""
from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.analytics.conversations import Conversation, conversations
from bot.analytics.events import EventsUnavailable, read_events
from bot.analytics.export import COLUMNS, conversation_rows
from bot.analytics.metrics import summarize
from bot.console import dashboard_page
from bot.console.web import SETTINGS, blocking, html, json_error, refused, user_of
from bot.shop import ShopProfile, shop_profile

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
MAX_DAYS = 366  # one request never walks more than a year of days
CHANNEL_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
FORBIDDEN = ("Trang này dành cho trưởng nhóm và quản trị viên / "
             "This page is for leads and administrators only.")
NO_EVENTS = ("Chưa có dữ liệu: không đọc được cơ sở dữ liệu sự kiện của Rasa (event broker, "
             "HOTRO_EVENTS_DB). Các chỉ số sẽ hiện khi bot có cuộc trò chuyện. / No data yet: "
             "Rasa's event database (event broker, HOTRO_EVENTS_DB) cannot be read. The "
             "metrics appear once the bot has had conversations.")
CSV_HEADERS = {
    "conversation": "Cuộc trò chuyện / Conversation",
    "channel": "Kênh / Channel",
    "start": "Bắt đầu / Start",
    "customer_messages": "Tin nhắn của khách / Customer messages",
    "outcome": "Kết quả / Outcome",
    "handoff_reason": "Lý do chuyển nhân viên / Handoff reason",
    "first_human_response_s": "Nhân viên trả lời đầu (giây) / First human response (s)",
    "first_human_response_office_s": "Trả lời đầu trong giờ làm việc (giây) / "
                                     "First human response in office hours (s)",
    "resolution_s": "Thời gian giải quyết (giây) / Resolution time (s)",
    "rating": "Đánh giá / Rating",
}
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class FilterError(ValueError):
    """A filter the dashboard cannot use; the message says why, in both languages."""


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    channel: Optional[str]

    @property
    def previous(self) -> Tuple[date, date]:
        length = (self.end - self.start).days + 1
        return self.start - timedelta(days=length), self.start - timedelta(days=1)

    def query(self) -> str:
        values = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.channel:
            values["channel"] = self.channel
        return urlencode(values)


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FilterError(f"Ngày không hợp lệ ({name}={value[:40]!r}): cần dạng YYYY-MM-DD, "
                          f"ví dụ 2026-11-30. / Invalid date ({name}={value[:40]!r}): use "
                          f"YYYY-MM-DD, e.g. 2026-11-30.") from None


def parse_filters(query: Mapping[str, str], today: date) -> Filters:
    """The filters from a page's or API call's query (FilterError when one is wrong)."""
    raw_end, raw_start = query.get("to", ""), query.get("from", "")
    end = _day(raw_end, "to") if raw_end else today
    start = _day(raw_start, "from") if raw_start else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise FilterError(f"Ngày bắt đầu {start} sau ngày kết thúc {end}. / The start date "
                          f"{start} is after the end date {end}.")
    if (end - start).days + 1 > MAX_DAYS:
        raise FilterError(f"Khoảng ngày dài quá {MAX_DAYS} ngày. / The range is longer than "
                          f"{MAX_DAYS} days.")
    channel = query.get("channel", "").strip() or None
    if channel is not None and not CHANNEL_RE.match(channel):
        raise FilterError("Tên kênh không hợp lệ (chữ, số, . _ -). / Invalid channel name "
                          "(letters, digits, . _ -).")
    return Filters(start, end, channel)


def shop_today(shop: ShopProfile) -> date:
    return datetime.now(ZoneInfo(shop.timezone)).date()


def _conversations() -> Tuple[List[Conversation], bool]:
    """Every conversation in the broker's table; ([], False) when it cannot be read."""
    try:
        return conversations(read_events()), True
    except EventsUnavailable as error:
        log.warning("console dashboard: no events: %s", error)
        return [], False


def dashboard_data(settings: Dict[str, Any], filters: Filters) -> Dict[str, Any]:
    """What /api/dashboard answers (blocking: reads the broker's table)."""
    shop = shop_profile(settings)
    found, available = _conversations()
    current = summarize(found, filters.start, filters.end, filters.channel, shop)
    previous = summarize(found, *filters.previous, filters.channel, shop)
    return {"metrics": current, "previous_by_day": previous["by_day"],
            "channels": sorted({c.channel for c in found if c.channel}),
            "events_available": available, "note": "" if available else NO_EVENTS}


def safe_cell(value: Any) -> Any:
    """A value for the CSV: empty for None, and text a spreadsheet would run as a formula
    prefixed with ' so it shows as the text it is."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def conversations_csv(rows: List[Dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([CSV_HEADERS[c] for c in COLUMNS])
    for row in rows:
        writer.writerow([safe_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def export_csv(settings: Dict[str, Any], filters: Filters) -> str:
    shop = shop_profile(settings)
    found, _ = _conversations()
    return conversations_csv(conversation_rows(found, filters.start, filters.end,
                                               filters.channel, shop))


# --- handlers ---------------------------------------------------------------------------

def _refused(request: web.Request, api: bool) -> Optional[web.Response]:
    """403 unless the user is a lead or an admin."""
    return refused(request, user_of(request).sees_dashboard, "dashboard: leads and admins", FORBIDDEN, api)


def _filters(request: web.Request, shop: ShopProfile) -> Filters:
    try:
        return parse_filters(request.query, shop_today(shop))
    except FilterError as error:
        log.warning("console dashboard: %s: bad filter %r: %s", user_of(request).username,
                    request.query_string[:200], error)
        raise


async def _request_filters(request: web.Request) -> Filters:
    return _filters(request, await blocking(shop_profile, request.app[SETTINGS]))


async def dashboard_view(request: web.Request) -> web.Response:
    """The page; its channel list and charts come from /api/dashboard (one read of the
    events per view)."""
    refused = _refused(request, api=False)
    if refused is not None:
        return refused
    shop = await blocking(shop_profile, request.app[SETTINGS])
    try:
        filters = _filters(request, shop)
    except FilterError as error:
        return html(dashboard_page.dashboard_page(user_of(request), None, shop.timezone,
                                                  error=str(error)), status=400)
    return html(dashboard_page.dashboard_page(user_of(request), filters, shop.timezone))


async def _api_filters(request: web.Request):
    """(the request's filters, None), or (None, the error response: 403 or 400)."""
    refused = _refused(request, api=True)
    if refused is not None:
        return None, refused
    try:
        return await _request_filters(request), None
    except FilterError as error:
        return None, json_error(400, str(error))


async def api_dashboard(request: web.Request) -> web.Response:
    filters, refused = await _api_filters(request)
    if refused is not None:
        return refused
    return web.json_response(await blocking(dashboard_data, request.app[SETTINGS], filters))


async def api_conversations_csv(request: web.Request) -> web.Response:
    filters, refused = await _api_filters(request)
    if refused is not None:
        return refused
    text = await blocking(export_csv, request.app[SETTINGS], filters)
    name = f"hotro-conversations-{filters.start}-{filters.end}"
    if filters.channel:
        name += f"-{filters.channel}"  # CHANNEL_RE: safe in a file name
    log.info("console dashboard: %s exported %s", user_of(request).username, name)
    # The BOM lets spreadsheet programs read the Vietnamese as UTF-8.
    return web.Response(text="\ufeff" + text, content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", dashboard_view)
    app.router.add_get("/api/dashboard", api_dashboard)
    app.router.add_get("/api/dashboard/conversations.csv", api_conversations_csv)
