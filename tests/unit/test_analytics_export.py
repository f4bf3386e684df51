"""The per-conversation export (bot/analytics/export.py) on the hand-written week of
tests/unit/test_analytics.py: one row per conversation metrics() counts, worked out by hand."""
from __future__ import annotations

import pytest

from bot.analytics.export import COLUMNS, export_rows
from bot.analytics.metrics import metrics
from tests.unit.test_analytics import (MONDAY, SHOP, TUESDAY, at, bot, mark, user,
                                       week_events)


def test_one_row_per_conversation_with_outcome_times_and_rating():
    rows = export_rows(week_events(), MONDAY, TUESDAY, shop=SHOP)
    assert [r["conversation"] for r in rows] == ["khach-faq", "khach-goi-y", "khach-toi",
                                                 "khach-2sao"]
    assert all(tuple(r) == COLUMNS for r in rows)
    faq, picked, after_hours, two_stars = rows
    assert faq == {"conversation": "khach-faq", "channel": "rest",
                   "start": "2026-11-16T09:00:00+07:00", "customer_messages": 2,
                   "outcome": "contained", "handoff_reason": None,
                   "first_human_response_s": None, "first_human_response_office_s": None,
                   "resolution_s": None, "rating": None}
    assert picked["outcome"] == "contained" and picked["customer_messages"] == 2
    # Handed over at 21:30:02 (closed), answered 08:10 next morning, resolved 08:30:01.
    assert after_hours == {"conversation": "khach-toi", "channel": "widget",
                           "start": "2026-11-16T21:30:00+07:00", "customer_messages": 3,
                           "outcome": "resolved", "handoff_reason": "request_human",
                           "first_human_response_s": 38398.0,
                           "first_human_response_office_s": 600.0,
                           "resolution_s": 39599.0, "rating": 5}
    assert two_stars["handoff_reason"] == "bot_failed_twice"
    assert (two_stars["first_human_response_s"], two_stars["resolution_s"],
            two_stars["rating"], two_stars["customer_messages"]) == (300.0, 1180.0, 2, 4)
    # The same conversations the metrics count.
    assert len(rows) == metrics(week_events(), MONDAY, TUESDAY, shop=SHOP)["totals"][
        "conversations"]


def test_channel_filter_and_open_handoffs():
    assert [r["conversation"] for r in export_rows(week_events(), MONDAY, TUESDAY, "widget",
                                                   shop=SHOP)] == ["khach-toi", "khach-2sao"]
    waiting = [user("cho", at(16, 15, 0), "gặp nhân viên", "request_human"),
               bot("cho", at(16, 15, 0, 1), "Mình chuyển bạn...",
                   handoff={"ticket": 3, "reason": "request_human"})]
    answered = [user("dang", at(16, 16, 0), "gặp nhân viên", "request_human"),
                bot("dang", at(16, 16, 0, 1), "Mình chuyển bạn...",
                    handoff={"ticket": 4, "reason": "request_human"}),
                mark("dang", at(16, 16, 1), "pause"),
                bot("dang", at(16, 16, 2), "Chào bạn", agent="lan")]
    rows = export_rows(waiting + answered, MONDAY, MONDAY, shop=SHOP)
    assert [(r["conversation"], r["outcome"], r["first_human_response_s"]) for r in rows] == [
        ("cho", "waiting", None), ("dang", "agent_answered", 119.0)]


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="before it starts"):
        export_rows([], TUESDAY, MONDAY, shop=SHOP)
