"""The leads' dashboard in real headless Chromium (tests/browser.py): a lead logs in, opens
the dashboard, the charts render with the data of the broker's table (Chart.js objects
present, canvases drawn, no Content-Security-Policy violation), the channel filter redraws
them, and the CSV downloads. A missing Chromium FAILS this test.

HOTRO_SAVE_SCREENSHOTS=1 also writes the page to docs/dashboard.png (the README's picture).
"""
from __future__ import annotations

import csv
import io
import os
from datetime import date

import pytest

from bot.analytics.export import export_rows
from bot.analytics.metrics import metrics
from bot.settings import PROJECT_DIR
from tests.browser import CHROMIUM, INSTALL_HINT, Browser
from tests.console.conftest import PASSWORD
from tests.console.test_dashboard import console, write_events  # noqa: F401 (fixture)
from tests.unit.test_analytics import SHOP, at, bot, mark, user

CURRENT = (date(2026, 11, 16), date(2026, 11, 22))  # a week, after the week before
CHANNELS = ("widget", "facebook", "zalo")
RATINGS = (5, 4, 5, 3, 4, 2, 5, 1, 4, 5)


def conversation(sender: str, day: int, hour: int, kind: int, n: int, channel: str):
    """One of six kinds of conversation: FAQ answered (0, 1), suggestion picked (2), FAQ
    "don't know" and gone (3), asked for a person (4), not understood twice (5)."""
    t = at(day, hour, 0) + 60 * (n % 50)
    pace = 0.4 + 0.3 * (n % 5)  # the bot's response time
    events = [mark(sender, t, "session_started")]
    if kind in (0, 1):
        events += [user(sender, t, "phí ship bao nhiêu", "ask_question", channel),
                   bot(sender, t + pace, "Phí giao hàng là 20.000đ.",
                       faq={"kind": "answer", "entry_id": "shipping-fee"})]
    elif kind == 2:
        events += [user(sender, t, "phi ship", "ask_question", channel),
                   bot(sender, t + pace, "Bạn muốn hỏi nội dung nào?",
                       faq={"kind": "suggest", "suggestions": ["shipping-fee"]}),
                   user(sender, t + 20, '/ask_question{"faq_id":"shipping-fee"}',
                        "ask_question", channel, faq_id="shipping-fee"),
                   bot(sender, t + 20 + pace, "Phí giao hàng là 20.000đ.",
                       faq={"kind": "answer", "entry_id": "shipping-fee"})]
    elif kind == 3:
        events += [user(sender, t, "đổi size được không", "ask_question", channel),
                   bot(sender, t + pace, "Xin lỗi, mình chưa biết.", failure=True,
                       faq={"kind": "abstain"})]
    else:
        reason = "request_human" if kind == 4 else "bot_failed_twice"
        wait = 60 * (3 + n % 17) if hour < 20 else 60 * 90  # after 20:00: past closing
        intent = "request_human" if kind == 4 else "nlu_fallback"
        events += [user(sender, t, "cho mình gặp nhân viên", intent, channel),
                   bot(sender, t + pace, "Mình chuyển bạn đến nhân viên.",
                       handoff={"ticket": n, "reason": reason}),
                   mark(sender, t + pace, "pause"),
                   bot(sender, t + wait, "Chào bạn, mình là Lan.", agent="lan"),
                   mark(sender, t + wait + 600, "resume"),
                   bot(sender, t + wait + 601, "Bạn chấm giúp shop từ 1 đến 5 nhé.",
                       utter_action="utter_ask_rating")]
        if n % 4:  # one in four never answers the survey
            rating = RATINGS[n % len(RATINGS)]
            events.append(user(sender, t + wait + 630, f'/rate{{"rating": "{rating}"}}',
                               "rate", channel, rating=str(rating)))
    return events


def fortnight():
    """Two weeks of conversations: the week before CURRENT, then CURRENT, a few more each
    day of the second week and fewer left to a person."""
    events = []
    n = 0
    for day in range(9, 23):
        second_week = day >= 16
        for k in range(5 + (day * 3) % 5 + (4 if second_week else 0)):
            kind = k % 6 if not second_week or k % 7 else 0
            hour = 20 if kind == 5 and day % 3 == 0 else 9 + k % 10
            channel = CHANNELS[(day + k) % 3]
            events += conversation(f"khach-{day}-{k}", day, hour, kind, n, channel)
            n += 1
    return events


def chart_data(browser, chart_id, dataset=0):
    return browser.evaluate(
        f"Chart.getChart(document.getElementById('{chart_id}')).data.datasets[{dataset}].data")


def test_a_lead_sees_the_charts_filters_and_downloads_the_csv(console, tmp_path, monkeypatch):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser test needs Chromium at {CHROMIUM}: {INSTALL_HINT}")
    events = fortnight()
    monkeypatch.setenv("HOTRO_EVENTS_DB", str(write_events(tmp_path / "events.db", events)))
    expected = metrics(events, *CURRENT, shop=SHOP)
    widget = metrics(events, *CURRENT, channel="widget", shop=SHOP)
    console.users.add_user("minh", PASSWORD, "lead", "Lê Minh")
    start, end = (d.isoformat() for d in CURRENT)

    with Browser(window=(1280, 900)) as browser:
        # Collect Content-Security-Policy violations: Chart.js must draw under the console's CSP.
        browser.send("Page.addScriptToEvaluateOnNewDocument", source=(
            "window.__csp = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"))
        browser.navigate(f"{console.url}/dashboard?from={start}&to={end}")
        assert browser.evaluate("location.pathname") == "/login"
        browser.type_into("#username", "minh")
        browser.type_into("#password", PASSWORD)
        browser.click("#login-submit")
        browser.wait_for("location.pathname === '/dashboard'")
        browser.wait_for("document.body.dataset.loaded === '1'")

        # Eight charts, each a Chart.js object on a canvas with pixels drawn.
        ids = browser.evaluate("[...document.querySelectorAll('#charts canvas')].map(c => c.id)")
        assert len(ids) == 8
        for chart_id in ids:
            assert browser.evaluate(f"!!Chart.getChart(document.getElementById('{chart_id}'))")
            drawn = browser.evaluate(
                f"(() => {{ const c = document.getElementById('{chart_id}');"
                f" const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                f" let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }})()")
            assert drawn > 1000, chart_id
        # With the numbers of the broker's table, per day and against the week before.
        days = expected["by_day"]
        assert chart_data(browser, "chart-conversations") == [d["conversations"] for d in days]
        before = metrics(events, date(2026, 11, 9), date(2026, 11, 15), shop=SHOP)["by_day"]
        assert chart_data(browser, "chart-conversations", 1) == [d["conversations"]
                                                                  for d in before]
        assert chart_data(browser, "chart-faq", 3) == [d["faq_dont_know"] for d in days]
        assert chart_data(browser, "chart-ratings") == [
            expected["totals"]["rating_distribution"][str(r)] for r in range(1, 6)]
        assert chart_data(browser, "chart-csat") == [
            None if d["csat"] is None else round(d["csat"] * 1000) / 10 for d in days]
        cards = browser.evaluate(
            "Object.fromEntries([...document.querySelectorAll('.kpi')].map("
            "k => [k.dataset.metric, k.querySelector('.kpi-value').textContent]))")
        assert cards["conversations"] == str(expected["totals"]["conversations"])
        assert cards["csat"].endswith("%")  # one decimal, as JavaScript rounds it
        assert abs(float(cards["csat"][:-1]) - expected["totals"]["csat"] * 100) <= 0.05
        assert browser.evaluate("document.getElementById('events-note').hidden") is True
        shot = browser.screenshot(tmp_path / "dashboard.png")
        assert shot.startswith(b"\x89PNG") and len(shot) > 50_000
        if os.environ.get("HOTRO_SAVE_SCREENSHOTS"):
            (PROJECT_DIR / "docs").mkdir(exist_ok=True)
            (PROJECT_DIR / "docs" / "dashboard.png").write_bytes(shot)

        # The CSV the link downloads: one row per conversation of the range.
        download = browser.evaluate(
            "fetch(document.getElementById('export').href).then(async r => ({status: r.status,"
            " type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'),"
            " text: await r.text()}))")
        assert download["status"] == 200 and download["type"] == "text/csv; charset=utf-8"
        assert download["disposition"] == (
            f'attachment; filename="hotro-conversations-{start}-{end}.csv"')
        rows = list(csv.reader(io.StringIO(download["text"].lstrip("\ufeff"))))[1:]
        assert len(rows) == expected["totals"]["conversations"]
        assert [r[:5] for r in rows] == [
            [r["conversation"], r["channel"], r["start"], str(r["customer_messages"]),
             r["outcome"]] for r in export_rows(events, *CURRENT, shop=SHOP)]

        # The channel filter: the website widget only.
        assert "widget" in browser.evaluate(
            "[...document.getElementById('channel').options].map(o => o.value)")
        browser.evaluate("document.getElementById('channel').value = 'widget'")
        browser.click("#apply")
        browser.wait_for("new URLSearchParams(location.search).get('channel') === 'widget'")
        browser.wait_for("document.body.dataset.loaded === '1'")
        assert chart_data(browser, "chart-conversations") == [
            d["conversations"] for d in widget["by_day"]]
        assert browser.evaluate("document.getElementById('channel').value") == "widget"

        assert browser.evaluate("window.__csp") == []
        assert browser.errors == [], browser.errors
        assert not [c for c in browser.console if c.startswith("error")], browser.console
