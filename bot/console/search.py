"""All tickets, resolved ones included: a list with filters (status, channel, agent, date)
and a search over the customers and the transcripts, for every signed-in user.

  GET /tickets                 the page (filters in the query string, as the API's)
  GET /api/tickets/search      ?status=waiting|open|resolved &channel= &agent= &from=YYYY-MM-DD
                               &to=YYYY-MM-DD (days in the shop's time zone, inclusive) &q=
                               &limit= (1-200, 50) &offset=  → {"tickets", "total", "now"}

`q` matches (case-insensitive) the customer's name, the call-back contact, the order
number, the conversation id and the ticket's transcript; a phone number in any writing
("0912 345 678", "+84 912 345 678") or an email also finds the tickets of the customer who
gave it on any channel (bot/handoff/profiles.py). A resolved ticket keeps the whole
conversation: resolving saves the live transcript over the snapshot made at handoff
(`keep_final_transcript`), so what the agent and customer said is searchable too.
Bad filters get 400 with the field and a message.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import and_, func, or_, select, true, update
from sqlalchemy.orm import Session

from bot.console import pages
from bot.console.inbox_rows import inbox_rows
from bot.console.rasa import RasaError
from bot.console.tickets import Refused, summary
from bot.console.web import (CONFIG, RASA, TICKETS, blocking, html, json_error, now_iso,
                             user_of)
from bot.handoff.profiles import ContactRow, IdentityRow, email_key, phone_key
from bot.handoff.store import OPEN, RESOLVED, WAITING, Ticket, TicketRow, TicketStore
from bot.handoff.transcript import build_transcript

log = logging.getLogger(__name__)

STATUSES = (WAITING, OPEN, RESOLVED)
MAX_LIMIT, DEFAULT_LIMIT = 200, 50
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class Filters:
    status: Optional[str] = None
    channel: Optional[str] = None
    agent: Optional[str] = None
    start: Optional[datetime] = None  # UTC, naive (as stored), inclusive
    end: Optional[datetime] = None    # UTC, naive, exclusive
    q: Optional[str] = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refused(400, "Ngày không hợp lệ, cần YYYY-MM-DD / Invalid date, use YYYY-MM-DD",
                      field=field) from None


def _int(value: str, field: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise Refused(400, f"Giá trị không hợp lệ ({low}–{high}) / Invalid value ({low}–{high})",
                      field=field)
    return number


def parse_filters(query: Mapping[str, str], tz: str) -> Filters:
    """The filters of a query string, or Refused(400) naming the bad field."""
    def text(name: str) -> Optional[str]:
        value = (query.get(name) or "").strip()
        return value or None

    status = text("status")
    if status is not None and status not in STATUSES:
        raise Refused(400, "Trạng thái không hợp lệ / Invalid status", field="status")
    q = text("q")
    if q is not None and len(q) > MAX_QUERY_CHARS:
        raise Refused(400, f"Từ khóa quá dài (tối đa {MAX_QUERY_CHARS} ký tự) / Search text too "
                           f"long (max {MAX_QUERY_CHARS} characters)", field="q")
    zone = ZoneInfo(tz)

    def utc(day: date) -> datetime:
        return datetime.combine(day, time(0), zone).astimezone(timezone.utc).replace(tzinfo=None)

    start = _day(text("from"), "from") if text("from") else None
    end = _day(text("to"), "to") if text("to") else None
    if start and end and end < start:
        raise Refused(400, "Ngày kết thúc trước ngày bắt đầu / The end date is before the start",
                      field="to")
    return Filters(status=status, channel=text("channel"), agent=text("agent"),
                   start=utc(start) if start else None,
                   end=utc(end + timedelta(days=1)) if end else None, q=q,
                   limit=_int(text("limit") or str(DEFAULT_LIMIT), "limit", 1, MAX_LIMIT),
                   offset=_int(text("offset") or "0", "offset", 0, 10 ** 9))


def _like(value: str) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _customer_conversations(kind: str, value: str):
    """The sender ids of every conversation of the customer owning this phone or email."""
    owner = select(ContactRow.customer_id).where(ContactRow.kind == kind,
                                                 ContactRow.value == value)
    return select(IdentityRow.sender_id).where(IdentityRow.customer_id.in_(owner))


def search_tickets(store: TicketStore, filters: Filters) -> Tuple[List[Ticket], int]:
    """(tickets newest first, how many match in all). Blocking SQL."""
    conditions = []
    if filters.status:
        conditions.append(TicketRow.status == filters.status)
    if filters.channel:
        conditions.append(TicketRow.channel == filters.channel)
    if filters.agent:
        conditions.append(TicketRow.assigned_to == filters.agent)
    if filters.start:
        conditions.append(TicketRow.created_at >= filters.start)
    if filters.end:
        conditions.append(TicketRow.created_at < filters.end)
    with Session(store.engine, future=True) as session:
        if filters.q:
            pattern = _like(filters.q)
            matches = [func.lower(column).like(pattern, escape="\\") for column in (
                TicketRow.customer_name, TicketRow.contact, TicketRow.order_id,
                TicketRow.conversation_id, TicketRow.transcript_json)]
            phone, email = phone_key(filters.q), email_key(filters.q)
            for kind, key in (("phone", phone), ("email", email)):
                if key:
                    matches.append(TicketRow.conversation_id.in_(
                        _customer_conversations(kind, key)))
                    matches.append(TicketRow.contact == key)
                    matches.append(func.lower(TicketRow.transcript_json).like(_like(key)))
            conditions.append(or_(*matches))
        where = and_(*conditions) if conditions else true()
        total = session.execute(select(func.count()).select_from(TicketRow).where(where)
                                ).scalar_one()
        rows = session.execute(select(TicketRow).where(where)
                               .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
                               .limit(filters.limit).offset(filters.offset)).scalars().all()
        return [Ticket.of(r) for r in rows], total


def save_transcript(store: TicketStore, ticket_id: int, lines: List[dict]) -> None:
    with Session(store.engine, future=True) as session, session.begin():
        session.execute(update(TicketRow).where(TicketRow.id == ticket_id)
                        .values(transcript_json=json.dumps(lines, ensure_ascii=False))
                        .execution_options(synchronize_session=False))


def agents_and_channels(store: TicketStore) -> Tuple[List[str], List[str]]:
    """The filter choices: agents who held a ticket, channels tickets came from."""
    with Session(store.engine, future=True) as session:
        agents = session.execute(select(TicketRow.assigned_to).distinct()
                                 .where(TicketRow.assigned_to.is_not(None))).scalars().all()
        channels = session.execute(select(TicketRow.channel).distinct()).scalars().all()
    return sorted(agents), sorted(c for c in channels if c)


async def keep_final_transcript(app: web.Application, ticket: Ticket) -> None:
    """Called on resolve: the whole conversation (the agent's part too) becomes the
    ticket's stored transcript, searchable later. Best effort: a failure keeps the
    snapshot made at handoff, and is logged."""
    try:
        events = await app[RASA].tracker_events(ticket.conversation_id)
    except RasaError as failure:
        log.warning("console: ticket #%d keeps its handoff transcript: %s", ticket.id, failure)
        return
    lines = build_transcript(events)
    if lines:
        await blocking(save_transcript, app[TICKETS], ticket.id, lines)


# --- HTTP -------------------------------------------------------------------------------

async def api_search(request: web.Request) -> web.Response:
    try:
        filters = parse_filters(request.query, request.app[CONFIG]["timezone"])
    except Refused as refused:
        log.warning("console: bad ticket search from %s: %s %s", user_of(request).username,
                    refused.extra.get("field"), dict(request.query))
        return json_error(refused.status, refused.message, **refused.extra)
    tickets, total = await blocking(search_tickets, request.app[TICKETS], filters)
    rows = await inbox_rows(request.app, tickets, [summary(t) for t in tickets], live=False)
    return web.json_response({"tickets": rows, "total": total, "now": now_iso()})


async def search_view(request: web.Request) -> web.Response:
    agents, channels = await blocking(agents_and_channels, request.app[TICKETS])
    return html(pages.layout("Tất cả yêu cầu / All tickets",
                             search_body(agents, channels, request.query),
                             user_of(request), page="search",
                             data={"tz": request.app[CONFIG]["timezone"]}))


def search_body(agents: List[str], channels: List[str], query: Mapping[str, str]) -> str:
    esc = pages.esc

    def options(values: List[str], labels: Mapping[str, str], selected: str) -> str:
        return "".join(f'<option value="{esc(v)}"{" selected" if v == selected else ""}>'
                       f"{esc(labels.get(v, v))}</option>" for v in values)

    status_labels = {WAITING: "Đang chờ / Waiting", OPEN: "Đang xử lý / Open",
                     RESOLVED: "Đã giải quyết / Resolved"}
    every = '<option value="">Tất cả / All</option>'
    return f"""
<h1>Tất cả yêu cầu / All tickets</h1>
<form id="search-form" class="filters">
  <label>Tìm / Search
    <input name="q" id="q" type="search" maxlength="{MAX_QUERY_CHARS}"
           value="{esc(query.get('q', ''))}"
           placeholder="Tên, SĐT, email, mã đơn, nội dung… / Name, phone, email, order, text…">
  </label>
  <label>Trạng thái / Status <select name="status" id="f-status">{every}{options(
      list(STATUSES), status_labels, query.get('status', ''))}</select></label>
  <label>Kênh / Channel <select name="channel" id="f-channel">{every}{options(
      channels, {}, query.get('channel', ''))}</select></label>
  <label>Nhân viên / Agent <select name="agent" id="f-agent">{every}{options(
      agents, {}, query.get('agent', ''))}</select></label>
  <label>Từ ngày / From <input name="from" id="f-from" type="date"
         value="{esc(query.get('from', ''))}"></label>
  <label>Đến ngày / To <input name="to" id="f-to" type="date"
         value="{esc(query.get('to', ''))}"></label>
  <button type="submit" id="search-submit">Tìm / Search</button>
</form>
<p class="error" id="error" role="alert" hidden></p>
<p class="muted" id="search-total"></p>
<table class="tickets">
  <thead><tr>
    <th>#</th><th>Trạng thái / Status</th><th>Tạo lúc / Created</th>
    <th>Kênh / Channel</th><th>Lý do / Reason</th><th>Khách / Customer</th>
    <th>Tin nhắn gần nhất / Latest message</th><th>Người xử lý / Assignee</th>
  </tr></thead>
  <tbody id="results"></tbody>
</table>"""


def add_routes(app: web.Application) -> None:
    app.router.add_get("/tickets", search_view)
    app.router.add_get("/api/tickets/search", api_search)
