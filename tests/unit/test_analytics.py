"""Support metrics (bot/analytics) on hand-written Rasa event lists, as the event broker
publishes them: each definition of the README's "Support metrics" checked by hand."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.analytics import conversations as conversations_module
from bot.analytics.conversations import conversations
from bot.analytics.events import EventsUnavailable, read_events
from bot.analytics.metrics import metrics, percentile
from bot.analytics.office_time import open_seconds
from bot.analytics.table import render
from bot.handoff import decision
from bot.settings import PROJECT_DIR
from bot.shop import ShopProfile

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# Open 08:00-21:00 every day, Vietnam time.
SHOP = ShopProfile(name="Hotro Shop", hotline="1900 6868", email="hotro@hotroshop.vn",
                   timezone="Asia/Ho_Chi_Minh",
                   office_hours={"days": list(range(7)), "open": "08:00", "close": "21:00"},
                   holidays=(), greeting={}, out_of_hours={})
MONDAY, TUESDAY = date(2026, 11, 16), date(2026, 11, 17)


def at(day: int, hour: int, minute: int, second: float = 0) -> float:
    """Unix time of 2026-11-<day> hour:minute:second in Vietnam."""
    whole = int(second)
    return datetime(2026, 11, day, hour, minute, whole, round((second - whole) * 1e6),
                    tzinfo=VN).timestamp()


def user(sender, t, text, intent, channel="rest", **entities):
    return {"sender_id": sender, "event": "user", "timestamp": t, "text": text,
            "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": 0.93},
                           "entities": [{"entity": k, "value": v} for k, v in entities.items()]}}


def bot(sender, t, text, **metadata):
    return {"sender_id": sender, "event": "bot", "timestamp": t, "text": text,
            "data": {}, "metadata": metadata}


def mark(sender, t, kind, **fields):
    return {"sender_id": sender, "event": kind, "timestamp": t, **fields}


def faq_contained(sender="khach-faq", day=16, channel="rest"):
    """An FAQ question answered, then thanks: the bot alone was enough."""
    return [
        mark(sender, at(day, 9, 0), "session_started"),
        user(sender, at(day, 9, 0), "phí ship về hà nội bao nhiêu vậy shop", "ask_question",
             channel),
        bot(sender, at(day, 9, 0, 1.5), "Phí giao hàng nội thành Hà Nội là 20.000đ.",
            faq={"kind": "answer", "entry_id": "shipping-fee", "score": 0.81}),
        user(sender, at(day, 9, 1), "ok cam on shop nhieu", "thank", channel),
        bot(sender, at(day, 9, 1, 0.5), "Dạ không có gì ạ!", utter_action="utter_youre_welcome"),
    ]


def handoff_after_hours(sender="khach-toi", channel="widget"):
    """Asks for a person at 21:30 (closed), writes again at 07:50 in a new Rasa session,
    an agent answers at 08:10 and resolves at 08:30; the customer gives 5 stars."""
    return [
        mark(sender, at(16, 21, 30), "session_started"),
        user(sender, at(16, 21, 30), "cho mình gặp nhân viên với", "request_human", channel),
        bot(sender, at(16, 21, 30, 2), "Ngoài giờ làm việc...", utter_action="utter_handoff_closed",
            handoff={"ticket": 7, "reason": "request_human"}),
        mark(sender, at(17, 7, 50), "session_started"),
        user(sender, at(17, 7, 50), "alo shop oi co ai k", "greet", channel),
        bot(sender, at(17, 7, 50, 1), "Xin chào!", utter_action="utter_greet"),
        bot(sender, at(17, 8, 10), "Chào bạn, mình là Lan, mình xem đơn cho bạn nhé.",
            agent="lan", agent_name="Lan"),
        mark(sender, at(17, 8, 30), "resume"),
        mark(sender, at(17, 8, 30), "action", name="utter_ask_rating"),
        bot(sender, at(17, 8, 30, 1), "Bạn chấm giúp shop từ 1 đến 5 nhé.",
            utter_action="utter_ask_rating"),
        mark(sender, at(17, 8, 30, 1), "action", name="action_listen"),
        user(sender, at(17, 8, 31), '/rate{"rating": "5"}', "rate", channel, rating="5"),
        bot(sender, at(17, 8, 31, 1), "Cảm ơn bạn đã đánh giá!", utter_action="utter_rating_thanks"),
    ]


def suggestion_picked(sender="khach-goi-y", channel="rest"):
    """An unsure question gets suggestions; the customer presses one."""
    return [
        user(sender, at(16, 10, 0), "phi van chuyen bao nhieu", "ask_question", channel),
        bot(sender, at(16, 10, 0, 2), "Bạn muốn hỏi về nội dung nào?",
            utter_action="utter_faq_suggest",
            faq={"kind": "suggest", "suggestions": ["shipping-fee", "shipping-free"]}),
        user(sender, at(16, 10, 0, 30), '/ask_question{"faq_id":"shipping-fee"}',
             "ask_question", channel, faq_id="shipping-fee"),
        bot(sender, at(16, 10, 0, 31), "Phí giao hàng nội thành Hà Nội là 20.000đ.",
            faq={"kind": "answer", "entry_id": "shipping-fee", "score": 1.0}),
    ]


def two_failures_then_two_stars(sender="khach-2sao", channel="widget"):
    """Not understood twice (handed over), an agent answers within office hours, resolves;
    the customer types a lone "2" (not classified as `rate`)."""
    return [
        user(sender, at(17, 14, 0), "sp nay co bh ko z", "nlu_fallback", channel),
        bot(sender, at(17, 14, 0, 1), "Xin lỗi, mình chưa hiểu.", utter_action="utter_default",
            failure=True),
        user(sender, at(17, 14, 0, 20), "bh dc bao lau z shop", "nlu_fallback", channel),
        bot(sender, at(17, 14, 0, 21), "Mình chuyển bạn đến nhân viên...",
            utter_action="utter_handoff_queued",
            handoff={"ticket": 9, "reason": "bot_failed_twice"}),
        mark(sender, at(17, 14, 0, 21), "pause"),
        user(sender, at(17, 14, 2), "nhanh giúp mình với", "complain", channel),
        bot(sender, at(17, 14, 5, 21), "Dạ sản phẩm bảo hành 12 tháng ạ.", agent="lan"),
        mark(sender, at(17, 14, 20), "resume"),
        bot(sender, at(17, 14, 20, 1), "Bạn chấm giúp shop từ 1 đến 5 nhé.",
            utter_action="utter_ask_rating"),
        user(sender, at(17, 14, 21), "2", "nlu_fallback", channel),
        bot(sender, at(17, 14, 21, 1), "Cảm ơn bạn đã đánh giá!", utter_action="utter_rating_thanks"),
    ]


def week_events():
    return [
        *faq_contained("khach-truoc", day=15),  # the previous period (Saturday+Sunday)
        *faq_contained(),
        *handoff_after_hours(),
        *suggestion_picked(),
        *two_failures_then_two_stars(),
        *faq_contained("khach-sau", day=18),  # after the range
    ]


@pytest.fixture(scope="module")
def report():
    return metrics(week_events(), MONDAY, TUESDAY, shop=SHOP)


def test_a_contained_faq_conversation():
    result = metrics(faq_contained(), MONDAY, MONDAY, shop=SHOP)["totals"]
    assert result["conversations"] == 1 and result["customer_messages"] == 2
    assert result["containment_rate"] == 1.0 and result["handoff_rate"] == 0.0
    assert result["faq_answered"] == 1 and result["faq_dont_know"] == 0
    assert result["failed_turns"] == 0 and result["turns"] == 2
    # Replies after 1.5 s and 0.5 s.
    assert result["bot_replies"] == 2
    assert (result["bot_response_p50_s"], result["bot_response_p95_s"]) == (0.5, 1.5)
    assert result["first_human_response_median_s"] is None and result["csat"] is None


def test_only_conversations_with_a_customer_message_count():
    greeted_only = [mark("khach-im-lang", at(16, 9, 0), "session_started"),
                    bot("khach-im-lang", at(16, 9, 0, 1), "Xin chào!", utter_action="utter_greet")]
    result = metrics(greeted_only + faq_contained(), MONDAY, MONDAY, shop=SHOP)["totals"]
    assert result["conversations"] == 1


def test_handoff_after_hours_counts_only_office_hours_as_waiting(report):
    result = metrics(handoff_after_hours(), MONDAY, TUESDAY, shop=SHOP)["totals"]
    # One conversation although Rasa started a new session in the morning.
    assert result["conversations"] == 1 and result["contained"] == 0
    assert result["handoffs_by_reason"]["request_human"] == 1
    assert result["handoff_rate_by_reason"]["request_human"] == 1.0
    # 21:30:02 → 08:10: 10 h 39 min 58 s of clock time, of which 10 minutes open (08:00-08:10).
    assert result["first_human_response_median_s"] == 10 * 3600 + 39 * 60 + 58
    assert result["first_human_response_office_median_s"] == 600
    # Resolved (resume, then the rating question) at 08:30:01.
    assert result["resolved"] == 1
    assert result["resolution_median_s"] == 11 * 3600 - 1
    assert result["rating_distribution"]["5"] == 1 and result["csat"] == 1.0
    assert result["surveys"] == 1 and result["survey_response_rate"] == 1.0


def test_the_agent_message_is_not_a_bot_reply():
    result = metrics(two_failures_then_two_stars(), TUESDAY, TUESDAY, shop=SHOP)["totals"]
    # Bot replies: 1 s, 1 s (the handoff), 1 s (thanks for the rating); the message the
    # customer wrote while waiting for the agent is the agent's, not a slow bot reply.
    assert result["bot_replies"] == 3 and result["bot_response_p95_s"] == 1.0
    assert result["first_human_response_median_s"] == 300
    assert result["first_human_response_office_median_s"] == 300


def test_a_pressed_suggestion_is_picked_not_answered():
    result = metrics(suggestion_picked(), MONDAY, MONDAY, shop=SHOP)["totals"]
    assert result["faq_suggested"] == 1 and result["faq_picked"] == 1
    assert result["faq_pick_rate"] == 1.0 and result["faq_answered"] == 0


def test_a_suggestion_not_picked():
    events = suggestion_picked()[:2] + [
        user("khach-goi-y", at(16, 10, 1), "thôi cảm ơn", "thank"),
        bot("khach-goi-y", at(16, 10, 1, 1), "Dạ không có gì ạ!")]
    result = metrics(events, MONDAY, MONDAY, shop=SHOP)["totals"]
    assert (result["faq_suggested"], result["faq_picked"], result["faq_pick_rate"]) == (1, 0, 0.0)


def test_dont_know_is_a_failed_turn_by_the_handoff_rule():
    sender = "khach-xe-may"
    events = [user(sender, at(16, 11, 0), "shop có bán xe máy không", "ask_question"),
              bot(sender, at(16, 11, 0, 1), "Xin lỗi, mình chưa có câu trả lời.",
                  utter_action="utter_faq_abstain", failure=True, faq={"kind": "abstain"}),
              user(sender, at(16, 11, 1), "vậy thôi", "deny"),
              bot(sender, at(16, 11, 1, 1), "Dạ vâng.", utter_action="utter_ok")]
    result = metrics(events, MONDAY, MONDAY, shop=SHOP)["totals"]
    assert result["faq_dont_know"] == 1
    assert (result["turns"], result["failed_turns"], result["failed_turn_rate"]) == (2, 1, 0.5)


def test_failed_turns_use_the_handoff_rules_definition():
    assert conversations_module.is_failed_turn is decision.is_failed_turn
    result = metrics(two_failures_then_two_stars(), TUESDAY, TUESDAY, shop=SHOP)["totals"]
    # Two nlu_fallback turns, the complaint to the waiting agent, the lone "2" (nlu_fallback).
    assert (result["turns"], result["failed_turns"]) == (4, 3)
    assert result["handoffs_by_reason"] == {"bot_failed_twice": 1, "low_confidence": 0,
                                            "request_human": 0}


def test_a_five_and_a_two_star_rating(report):
    totals = report["totals"]
    assert totals["ratings"] == 2
    assert totals["rating_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert totals["csat"] == 0.5  # one of two ratings is 4-5
    assert (totals["surveys"], totals["surveys_answered"], totals["survey_response_rate"]) == (
        2, 2, 1.0)


def test_an_unanswered_survey_lowers_the_response_rate():
    events = handoff_after_hours()[:-2] + two_failures_then_two_stars()
    result = metrics(events, MONDAY, TUESDAY, shop=SHOP)["totals"]
    assert (result["surveys"], result["ratings"], result["survey_response_rate"]) == (2, 1, 0.5)
    assert result["csat"] == 0.0


def test_a_late_rating_in_a_new_session_counts_for_the_surveyed_conversation():
    sender = "khach-toi"
    late = handoff_after_hours(sender)[:-2] + [
        mark(sender, at(17, 11, 0), "session_started"),
        user(sender, at(17, 11, 0), '/rate{"rating": "4"}', "rate", "widget", rating="4")]
    found = conversations(late)
    assert len(found) == 1 and found[0].ratings == [4] and found[0].surveys_answered == 1


def test_a_new_session_without_an_open_handoff_is_a_new_conversation():
    events = faq_contained("khach-quay-lai", day=16) + faq_contained("khach-quay-lai", day=17)
    assert metrics(events, MONDAY, TUESDAY, shop=SHOP)["totals"]["conversations"] == 2


def test_two_channels_two_days_and_the_trend(report):
    assert report["totals"]["conversations"] == 4
    assert {name: block["conversations"] for name, block in report["by_channel"].items()} == {
        "rest": 2, "widget": 2}
    assert [(day["date"], day["conversations"]) for day in report["by_day"]] == [
        ("2026-11-16", 3), ("2026-11-17", 1)]
    # Conversations count on the day they began: the 21:30 handoff on Monday.
    assert report["by_day"][0]["handed_off"] == 1 and report["by_day"][1]["handed_off"] == 1
    assert report["totals"]["containment_rate"] == 0.5
    assert report["by_channel"]["rest"]["containment_rate"] == 1.0
    assert report["by_channel"]["widget"]["handoff_rate"] == 1.0
    # The previous two days (14th-15th) had one contained conversation.
    previous = report["previous"]
    assert (previous["from"], previous["to"]) == ("2026-11-14", "2026-11-15")
    assert previous["conversations"] == 1 and previous["containment_rate"] == 1.0
    assert report["trend"]["conversations"] == 3
    assert report["trend"]["containment_rate"] == -0.5
    assert report["trend"]["csat"] is None  # no ratings before


def test_one_channel_only():
    result = metrics(week_events(), MONDAY, TUESDAY, channel="widget", shop=SHOP)
    assert result["totals"]["conversations"] == 2 and list(result["by_channel"]) == ["widget"]
    assert result["previous"]["conversations"] == 0


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        metrics([], TUESDAY, MONDAY, shop=SHOP)


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert (percentile(values, 50), percentile(values, 95)) == (10.0, 19.0)
    assert percentile([], 50) is None and percentile([3.0], 95) == 3.0


def test_open_seconds_agrees_with_the_shop_profile_minute_by_minute():
    closed_sunday = ShopProfile(name="x", hotline="", email="", timezone="Asia/Ho_Chi_Minh",
                                office_hours={"days": [0, 1, 2, 3, 4, 5], "open": "08:00",
                                              "close": "17:30"},
                                holidays=(date(2026, 11, 17),), greeting={}, out_of_hours={})
    start = datetime(2026, 11, 14, 16, 0, tzinfo=VN)  # Saturday 16:00
    end = datetime(2026, 11, 18, 16, 0, tzinfo=VN)  # Wednesday 16:00
    minutes = [datetime.fromtimestamp(start.timestamp() + 60 * m, VN)
               for m in range(int((end - start).total_seconds() // 60))]
    expected = 60 * sum(1 for m in minutes if closed_sunday.is_open(m))
    assert open_seconds(start, end, closed_sunday) == expected
    # Saturday 16:00-17:30, Sunday closed, Monday 08:00-17:30, Tuesday a holiday,
    # Wednesday 08:00-16:00.
    assert expected == 60 * (90 + 570 + 480)
    round_the_clock = ShopProfile(name="x", hotline="", email="", timezone="Asia/Ho_Chi_Minh",
                                  office_hours={"days": list(range(7)), "open": "00:00",
                                                "close": "24:00"},
                                  holidays=(), greeting={}, out_of_hours={})
    assert open_seconds(start, end, round_the_clock) == (end - start).total_seconds()
    assert open_seconds(end, start, round_the_clock) == 0


def test_the_table_shows_each_channel_the_period_and_the_change(report):
    table = render(report)
    header = table.splitlines()[2]
    assert "rest" in header and "widget" in header and "previous 2026-11-14" in header
    rows = {line.split("|")[0].strip(): [c.strip() for c in line.split("|")[1:]]
            for line in table.splitlines()[4:]}
    assert rows["Cuộc trò chuyện / Conversations"] == ["2", "2", "4", "1", "+3"]
    assert rows["Bot tự giải quyết / Bot resolution rate"] == [
        "100.0%", "0.0%", "50.0%", "100.0%", "-50.0 pt"]
    assert rows["1/2/3/4/5 sao / stars"][2] == "0/1/0/0/1"
    # Widget: 10 minutes (the after-hours handoff) and 5 minutes waited in office hours.
    assert rows["trong giờ làm việc / in office hours"][1] == "7 min 30 s"
    by_day = render(report, by="day").splitlines()[2]
    assert "2026-11-16" in by_day and "2026-11-17" in by_day


# --- the broker's table and `hotro report` -----------------------------------------------

@pytest.fixture
def events_db(tmp_path):
    """The events of the week, written by Rasa's own SQL event broker."""
    from rasa.core.brokers.sql import SQLEventBroker

    path = tmp_path / "events.db"
    broker = SQLEventBroker(dialect="sqlite", db=str(path))
    for event in week_events():
        broker.publish(event)
    broker.engine.dispose()
    return path


def test_reading_the_brokers_table_gives_the_same_metrics(events_db, report):
    events = read_events(str(events_db))
    # Everything but the action events, which no metric reads, in publishing order.
    assert events == [e for e in week_events() if e["event"] != "action"]
    assert metrics(events, MONDAY, TUESDAY, shop=SHOP) == report


def test_a_message_quoting_an_event_is_still_read(tmp_path):
    from rasa.core.brokers.sql import SQLEventBroker

    path = tmp_path / "events.db"
    broker = SQLEventBroker(dialect="sqlite", db=str(path))
    sly = user("khach-tinh-ranh", at(16, 9, 0), 'shop ơi "event": "action" là gì vậy', "ask_question")
    broker.publish(sly)
    broker.engine.dispose()
    assert read_events(str(path)) == [sly]


def test_a_missing_events_database_is_a_clear_error(tmp_path):
    with pytest.raises(EventsUnavailable, match="event broker"):
        read_events(str(tmp_path / "none.db"))
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(EventsUnavailable, match="events table"):
        read_events(str(tmp_path / "empty.db"))


def hotro(*args, **env):
    return subprocess.run([str(Path(sys.executable).parent / "hotro"), *args],
                          capture_output=True, text=True, timeout=120, cwd=PROJECT_DIR,
                          env={**os.environ, **env})


def test_hotro_report_prints_the_metrics(events_db):
    done = hotro("report", "--from", "2026-11-16", "--to", "2026-11-17", "--json",
                 HOTRO_EVENTS_DB=str(events_db))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["totals"]["conversations"] == 4 and result["trend"]["conversations"] == 3
    table = hotro("report", "--from", "2026-11-16", "--to", "2026-11-17", "--channel", "rest",
                  "--events", str(events_db))
    assert table.returncode == 0, table.stderr
    assert "Cuộc trò chuyện / Conversations" in table.stdout and "widget" not in table.stdout


@pytest.mark.parametrize("args,message", [
    (["--from", "2026-13-01"], "invalid date '2026-13-01'"),
    (["--to", "hôm qua"], "invalid date 'hôm qua'"),
    (["--from", "2026-11-17", "--to", "2026-11-16"], "--from is after --to"),
])
def test_hotro_report_refuses_bad_dates_clearly(events_db, args, message):
    done = hotro("report", *args, "--events", str(events_db))
    assert done.returncode == 2 and message in done.stderr


def test_hotro_report_without_events_says_why(tmp_path):
    done = hotro("report", "--events", str(tmp_path / "none.db"))
    assert done.returncode == 1 and "event broker" in done.stderr
