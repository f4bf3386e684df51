"""Support metrics through the real stack: conversations with the bot (and an agent in the
console) reach Rasa's event broker, and `hotro report` counts them.

The stack serves the whole test session, so each test compares the report before and after
its own conversations."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.settings import PROJECT_DIR

from tests.conftest import Customer
from tests.integration.conftest import console_open


def report(stack, stack_settings):
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "hotro"), "report", "--from", today, "--to", today,
         "--json"],
        env={**os.environ, "HOTRO_CONFIG": str(stack_settings),
             "HOTRO_EVENTS_DB": str(stack.var_dir / "events.db")},
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def change(before, after, *path):
    old, new = before, after
    for key in path:
        old, new = (old or {}).get(key, 0), (new or {}).get(key, 0)
    return (new or 0) - (old or 0)


@pytest.fixture
def agent_online(stack, agent, tickets):
    """The console's agent, online for this test only."""
    with console_open(stack, agent, tickets):
        yield agent


def test_faq_answers_and_a_request_for_a_person_are_counted(stack, stack_settings,
                                                            no_agent_online):
    before = report(stack, stack_settings)
    assert "20.000đ" in Customer(stack).says_text("phí ship về hà nội bao nhiêu vậy shop")
    assert "300.000đ" in Customer(stack).says_text("mua bn tien thi dc freeship z shop")
    person = Customer(stack)
    person.say("chao shop")
    assert "#" in person.says_text("cho tôi gặp nhân viên")
    after = report(stack, stack_settings)

    totals = ("totals",)
    assert change(before, after, *totals, "conversations") == 3
    assert change(before, after, *totals, "contained") == 2
    assert change(before, after, *totals, "handed_off") == 1
    assert change(before, after, *totals, "handoffs_by_reason", "request_human") == 1
    assert change(before, after, *totals, "faq_answered") == 2
    assert change(before, after, *totals, "customer_messages") == 4
    assert change(before, after, "by_channel", "rest", "conversations") == 3
    # Every message was answered by the bot: four replies, timed.
    assert change(before, after, *totals, "bot_replies") == 4
    assert after["totals"]["bot_response_p50_s"] > 0


def test_an_agent_reply_a_resolution_and_a_rating_are_counted(stack, stack_settings,
                                                             agent_online, socket_customer,
                                                             wait_ticket):
    console, agent = stack.console_url, agent_online
    before = report(stack, stack_settings)
    socket_customer.send("cho mình gặp nhân viên với")
    socket_customer.wait_for("đã chuyển bạn đến nhân viên")
    ticket = wait_ticket(socket_customer.session_id)
    agent.post(f"{console}/api/tickets/{ticket.id}/reply", timeout=30,
               json={"text": "Chào bạn, mình là Lan, mình giúp gì được cho bạn?"}
               ).raise_for_status()
    socket_customer.wait_for("mình là Lan")
    agent.post(f"{console}/api/tickets/{ticket.id}/resolve", json={},
               timeout=30).raise_for_status()
    socket_customer.wait_for("chấm giúp shop")
    socket_customer.send('/rate{"rating": "4"}')
    socket_customer.wait_for("Cảm ơn bạn đã đánh giá")
    after = report(stack, stack_settings)

    channel = "widget"
    assert change(before, after, "by_channel", channel, "conversations") == 1
    assert change(before, after, "by_channel", channel, "handoffs_answered") == 1
    assert change(before, after, "by_channel", channel, "resolved") == 1
    assert change(before, after, "by_channel", channel, "surveys") == 1
    assert change(before, after, "by_channel", channel, "rating_distribution", "4") == 1
    assert change(before, after, "totals", "contained") == 0
    widget = after["by_channel"][channel]
    assert widget["first_human_response_median_s"] > 0
    assert widget["first_human_response_office_median_s"] > 0  # open round the clock
    assert widget["resolution_median_s"] >= widget["first_human_response_median_s"]
