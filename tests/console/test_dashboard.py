"""The leads' dashboard (bot/console/dashboard.py) over HTTP: who may see it, the metrics
for a date range and channel, bad filters, the CSV's rows, and no events database.

The events are the hand-written week of tests/unit/test_analytics.py, written to a broker
table by Rasa's own SQLEventBroker; HOTRO_EVENTS_DB points the console at it, as `hotro run`
does."""
from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.console.conftest import PASSWORD, ConsoleServer, console_settings
from tests.unit.test_analytics import at, bot, user, week_events

RANGE = {"from": "2026-11-16", "to": "2026-11-17"}
URLS = ("/dashboard", "/api/dashboard", "/api/dashboard/conversations.csv")


def write_events(path: Path, events) -> Path:
    from rasa.core.brokers.sql import SQLEventBroker

    broker = SQLEventBroker(dialect="sqlite", db=str(path))
    for event in events:
        broker.publish(event)
    broker.engine.dispose()
    return path


@pytest.fixture
def events_db(tmp_path, monkeypatch) -> Path:
    path = write_events(tmp_path / "events.db", week_events())
    monkeypatch.setenv("HOTRO_EVENTS_DB", str(path))
    return path


@pytest.fixture
def console(rasa, db_path):
    """The console with the shop open 08:00-21:00 every day (as the analytics tests)."""
    settings = console_settings(db_path, rasa.url)
    settings["support"]["office_hours"] = {"days": list(range(7)), "open": "08:00",
                                           "close": "21:00"}
    server = ConsoleServer(settings).start()
    yield server
    server.stop()


@pytest.fixture
def lead(console: ConsoleServer):
    console.users.add_user("minh", PASSWORD, "lead", "Lê Minh")
    return console.login("minh")


def parse_csv(text: str):
    assert text.startswith("\ufeff")  # spreadsheets read the Vietnamese as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


# --- who may see it ---------------------------------------------------------------------

def test_leads_and_admins_see_the_dashboard_others_get_403(console, events_db, caplog):
    caplog.set_level(logging.WARNING, logger="bot.console")
    for name, role in [("lan", "agent"), ("thu", "editor"), ("minh", "lead"),
                       ("boss", "admin")]:
        console.users.add_user(name, PASSWORD, role)
        session = console.login(name)
        allowed = role in ("lead", "admin")
        for url in URLS:
            reply = session.get(f"{console.url}{url}", params=RANGE, timeout=30)
            assert reply.status_code == (200 if allowed else 403), (role, url)
            if not allowed:
                assert "This page is for leads and administrators only" in reply.text
        inbox = session.get(console.url, timeout=10).text
        assert ('href="/dashboard"' in inbox) == allowed, role
    assert "console: lan (agent) refused GET /dashboard" in caplog.text
    assert "console: thu (editor) refused GET /api/dashboard/conversations.csv" in caplog.text


def test_a_lead_made_with_hotro_user_add_sees_the_dashboard(console, events_db, monkeypatch):
    import argparse

    from bot.console import commands

    monkeypatch.setattr(commands, "_user_store", lambda: console.users)
    monkeypatch.setenv("HOTRO_NEW_PASSWORD", PASSWORD)
    parser = argparse.ArgumentParser(prog="hotro")
    commands.add_console_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["user", "add", "minh", "--role", "lead"])
    assert args.func(args) == 0
    session = console.login("minh")
    assert session.get(f"{console.url}/api/me", timeout=10).json()["role"] == "lead"
    reply = session.get(f"{console.url}/api/dashboard", params=RANGE, timeout=30)
    assert reply.status_code == 200 and reply.json()["metrics"]["totals"]["conversations"] == 4

def test_without_a_session_the_dashboard_asks_to_log_in(console, events_db):
    client = console.client()
    page = client.get(f"{console.url}/dashboard", params=RANGE, allow_redirects=False,
                      timeout=10)
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    for url in URLS[1:]:
        assert client.get(f"{console.url}{url}", timeout=10).status_code == 401


# --- metrics and filters ----------------------------------------------------------------

def test_the_metrics_of_the_range_per_day_and_the_previous_period(console, events_db, lead):
    data = lead.get(f"{console.url}/api/dashboard", params=RANGE, timeout=30).json()
    assert data["events_available"] is True and data["note"] == ""
    assert data["channels"] == ["rest", "widget"]
    result = data["metrics"]
    assert (result["from"], result["to"], result["channel"]) == ("2026-11-16", "2026-11-17", None)
    assert result["totals"]["conversations"] == 4
    assert result["totals"]["containment_rate"] == 0.5  # the FAQ answer and the pressed suggestion
    assert result["totals"]["handoffs_by_reason"] == {
        "bot_failed_twice": 1, "low_confidence": 0, "request_human": 1}
    assert result["totals"]["rating_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert result["totals"]["first_human_response_office_median_s"] == 450.0  # 600 s and 300 s
    assert [(d["date"], d["conversations"]) for d in result["by_day"]] == [
        ("2026-11-16", 3), ("2026-11-17", 1)]
    # The previous period of equal length: the Saturday and Sunday before, for the charts.
    assert result["previous"]["conversations"] == 1 and result["trend"]["conversations"] == 3
    assert [(d["date"], d["conversations"]) for d in data["previous_by_day"]] == [
        ("2026-11-14", 0), ("2026-11-15", 1)]


def test_the_channel_filter(console, events_db, lead):
    data = lead.get(f"{console.url}/api/dashboard", params={**RANGE, "channel": "widget"},
                    timeout=30).json()
    assert data["metrics"]["channel"] == "widget"
    assert data["metrics"]["totals"]["conversations"] == 2
    assert data["metrics"]["totals"]["containment_rate"] == 0.0
    assert data["channels"] == ["rest", "widget"]  # the filter still offers every channel
    page = lead.get(f"{console.url}/dashboard", params={**RANGE, "channel": "widget"},
                    timeout=30).text
    assert 'value="2026-11-16"' in page and 'value="2026-11-17"' in page
    assert '<option value="widget" selected>' in page
    assert ('href="/api/dashboard/conversations.csv?from=2026-11-16&amp;to=2026-11-17'
            '&amp;channel=widget"') in page


def test_without_dates_the_last_seven_shop_days(console, events_db, lead):
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    result = lead.get(f"{console.url}/api/dashboard", timeout=30).json()["metrics"]
    assert (result["from"], result["to"]) == (str(today - timedelta(days=6)), str(today))


@pytest.mark.parametrize("query, message", [
    ({"from": "2026-13-01", "to": "2026-11-17"}, "Invalid date (from='2026-13-01')"),
    ({"from": "16/11/2026"}, "use YYYY-MM-DD"),
    ({"from": "2026-11-17", "to": "2026-11-16"}, "The start date 2026-11-17 is after the end date"),
    ({"from": "2024-01-01", "to": "2026-11-17"}, "The range is longer than 366 days"),
    ({**RANGE, "channel": "<script>alert(1)</script>"}, "Invalid channel name"),
])
def test_bad_filters_get_400_and_a_clear_message(console, events_db, lead, caplog, query,
                                                 message):
    caplog.set_level(logging.WARNING, logger="bot.console")
    for url in URLS[1:]:
        reply = lead.get(f"{console.url}{url}", params=query, timeout=30)
        assert reply.status_code == 400, url
        assert message in reply.json()["error"]
    page = lead.get(f"{console.url}/dashboard", params=query, timeout=30)
    assert page.status_code == 400
    assert message.replace("'", "&#x27;") in page.text and "<script>alert" not in page.text
    assert 'id="dashboard-error"' in page.text and 'id="filters"' in page.text
    assert "console dashboard: minh: bad filter" in caplog.text


# --- the CSV ----------------------------------------------------------------------------

def test_the_csv_has_one_row_per_conversation(console, events_db, lead):
    reply = lead.get(f"{console.url}/api/dashboard/conversations.csv", params=RANGE, timeout=30)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert reply.headers["Content-Disposition"] == (
        'attachment; filename="hotro-conversations-2026-11-16-2026-11-17.csv"')
    header, *rows = parse_csv(reply.content.decode("utf-8"))
    assert header[:3] == ["Cuộc trò chuyện / Conversation", "Kênh / Channel",
                          "Bắt đầu / Start"]
    assert "Đánh giá / Rating" == header[-1]
    assert rows == [
        ["khach-faq", "rest", "2026-11-16T09:00:00+07:00", "2", "contained", "", "", "", "", ""],
        ["khach-goi-y", "rest", "2026-11-16T10:00:00+07:00", "2", "contained", "", "", "", "",
         ""],
        # Asked at 21:30 (closed), answered 08:10 next day: 10 min in office hours.
        ["khach-toi", "widget", "2026-11-16T21:30:00+07:00", "3", "resolved", "request_human",
         "38398.0", "600.0", "39599.0", "5"],
        ["khach-2sao", "widget", "2026-11-17T14:00:00+07:00", "4", "resolved",
         "bot_failed_twice", "300.0", "300.0", "1180.0", "2"],
    ]
    widget = lead.get(f"{console.url}/api/dashboard/conversations.csv",
                      params={**RANGE, "channel": "widget"}, timeout=30)
    assert [r[0] for r in parse_csv(widget.text)[1:]] == ["khach-toi", "khach-2sao"]
    assert 'filename="hotro-conversations-2026-11-16-2026-11-17-widget.csv"' in \
        widget.headers["Content-Disposition"]


def test_the_csv_never_hands_a_spreadsheet_a_formula(console, tmp_path, monkeypatch, lead):
    sly = "=HYPERLINK(\"http://evil.example\",\"bấm\")"
    events = [user(sly, at(16, 9, 0), "gặp nhân viên", "request_human", channel="+cmd"),
              bot(sly, at(16, 9, 0, 1), "Mình chuyển bạn...",
                  handoff={"ticket": 1, "reason": "-2+3"}),
              user("@SUM(A1)", at(16, 9, 5), "hi", "greet", channel="-x"),
              bot("@SUM(A1)", at(16, 9, 5, 1), "Xin chào!")]
    monkeypatch.setenv("HOTRO_EVENTS_DB", str(write_events(tmp_path / "sly.db", events)))
    reply = lead.get(f"{console.url}/api/dashboard/conversations.csv",
                     params={"from": "2026-11-16", "to": "2026-11-16"}, timeout=30)
    rows = parse_csv(reply.text)[1:]
    assert [r[:2] for r in rows] == [["'" + sly, "'+cmd"], ["'@SUM(A1)", "'-x"]]
    assert rows[0][5] == "'-2+3"
    assert rows[0][3] == "1"  # numbers stay numbers


# --- no events yet ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["missing", "no table"])
def test_without_an_events_database_an_empty_dashboard_and_a_note(console, tmp_path,
                                                                  monkeypatch, lead, kind):
    path = tmp_path / "events.db"
    if kind == "no table":
        path.write_bytes(b"")
    monkeypatch.setenv("HOTRO_EVENTS_DB", str(path))
    page = lead.get(f"{console.url}/dashboard", params=RANGE, timeout=30)
    assert page.status_code == 200 and 'id="events-note"' in page.text
    data = lead.get(f"{console.url}/api/dashboard", params=RANGE, timeout=30).json()
    assert data["events_available"] is False
    assert "No data yet: Rasa's event database" in data["note"]
    assert str(tmp_path) not in data["note"]  # where it looked is only in the log
    assert data["metrics"]["totals"]["conversations"] == 0 and data["channels"] == []
    reply = lead.get(f"{console.url}/api/dashboard/conversations.csv", params=RANGE,
                     timeout=30)
    assert reply.status_code == 200 and len(parse_csv(reply.text)) == 1  # the header only


def test_the_charting_library_is_served_by_the_console_with_its_licence(console, lead):
    page = lead.get(f"{console.url}/dashboard", params=RANGE, timeout=30).text
    scripts = [line for line in page.splitlines() if "<script" in line]
    assert any('src="/static/vendor/chart.umd.js"' in line for line in scripts)
    assert not [line for line in scripts + page.splitlines() if "src=\"http" in line
                or "href=\"http" in line]  # no CDN
    library = console.client().get(f"{console.url}/static/vendor/chart.umd.js", timeout=10)
    assert library.status_code == 200
    assert library.text.startswith("/*!\n * Chart.js v4.6.1\n")
    licence = console.client().get(f"{console.url}/static/vendor/chart.js-LICENSE.md",
                                   timeout=10)
    assert licence.status_code == 200 and "The MIT License" in licence.text
