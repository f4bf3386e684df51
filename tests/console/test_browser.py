"""One end-to-end test in real headless Chromium (Debian's /usr/bin/chromium, driven over
the DevTools Protocol by tests/browser.py): an agent logs in, opens the waiting ticket from
the inbox, reads the transcript (a customer's HTML shows as text and never runs), replies,
and the reply reaches (the stand-in) Rasa. A missing Chromium FAILS this test."""
from __future__ import annotations

import os

import pytest

from tests.browser import CHROMIUM, INSTALL_HINT, Browser
from tests.console.conftest import PASSWORD

XSS = '<img src=x onerror="window.__xss=1">'


def test_agent_logs_in_reads_the_transcript_and_replies(console, agent, store, rasa):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser test needs Chromium at {CHROMIUM}: {INSTALL_HINT}")
    cid = "widget-7f3a"
    rasa.add_user_message(cid, "đơn hàng của mình giao chậm quá", intent="ask_question",
                          confidence=0.42)
    rasa.add_bot_message(cid, "Xin lỗi, mình chưa hiểu ý bạn.",
                         metadata={"faq": {"kind": "abstain", "score": 0.31,
                                           "suggestions": ["giao-hang"]}})
    rasa.add_user_message(cid, XSS, intent="nlu_fallback", confidence=0.2)
    rasa.add_bot_message(cid, "Mình đã chuyển bạn đến nhân viên hỗ trợ (yêu cầu #1).")
    ticket_id = store.create(cid, "bot_failed_twice", [], channel="socketio",
                             customer_name="Chị Hằng").id

    with Browser() as browser:
        browser.navigate(f"{console.url}/")
        assert browser.evaluate("location.pathname") == "/login"  # no session: the login page
        browser.type_into("#username", "lan")
        browser.type_into("#password", PASSWORD)
        browser.click("#login-submit")
        browser.wait_for("location.pathname === '/'")

        # The inbox shows the waiting ticket, live.
        browser.wait_for(f"!!document.querySelector('#tickets tr[data-ticket=\"{ticket_id}\"]')")
        row = browser.evaluate(f"document.querySelector('#tickets tr[data-ticket=\"{ticket_id}\"]')"
                               ".innerText")
        assert "Đang chờ / Waiting" in row and "Chị Hằng" in row and "Website" in row
        assert "Bot không hiểu 2 lần" in row
        browser.wait_for("document.getElementById('live').classList.contains('on')")

        browser.click(f"#tickets tr[data-ticket=\"{ticket_id}\"] a")
        browser.wait_for(f"location.pathname === '/tickets/{ticket_id}'")
        browser.wait_for("document.querySelectorAll('#transcript li').length === 4")
        texts = browser.evaluate(
            "[...document.querySelectorAll('#transcript .text')].map(e => e.textContent)")
        assert texts[0] == "đơn hàng của mình giao chậm quá"
        assert texts[2] == XSS  # the customer's HTML, as the characters they typed
        assert browser.evaluate("typeof window.__xss") == "undefined"
        assert browser.evaluate("document.querySelectorAll('#transcript img').length") == 0
        assert XSS in browser.evaluate("document.getElementById('transcript').innerText")
        transcript = browser.text("#transcript")
        assert "ý định / intent: ask_question (0.42)" in transcript
        assert "gợi ý / suggestions: giao-hang" in transcript
        assert browser.text("#t-status") == "Đang chờ / Waiting"

        # Reply: typed into the composer and sent with the button.
        browser.type_into("#reply", "Chào chị Hằng, em là Lan, em kiểm tra đơn ngay ạ.")
        browser.click("#send")
        (posted,) = rasa.wait_for(
            lambda r: r.method == "POST" and r.path == f"/conversations/{cid}/tracker/events",
            timeout=20)
        assert posted.query == {"output_channel": "latest", "execute_side_effects": "true"}
        assert posted.json == [{"event": "pause"}, {"event": "bot",
                                "text": "Chào chị Hằng, em là Lan, em kiểm tra đơn ngay ạ.",
                                "metadata": {"agent": "lan", "agent_name": "Nguyễn Thị Lan"}}]
        # The page shows the reply as the agent's (read back from the tracker) and the
        # ticket as taken by her, without a reload.
        browser.wait_for("document.querySelectorAll('#transcript li.role-agent').length === 1")
        browser.wait_for("document.getElementById('t-assignee').textContent.includes('lan')")
        browser.wait_for("document.getElementById('reply').value === ''")  # cleared once sent
        assert store.get(ticket_id).assigned_to == "lan"
        assert browser.errors == [], browser.errors
        assert not [c for c in browser.console if c.startswith("error")], browser.console
