"""How long the support metrics take on 100,000 events (the issue asks for under 2 s).

  .venv/bin/python bench/analytics_speed.py      (prints one markdown table)

Makes a month of synthetic conversations on three channels as Rasa's event broker
publishes them (session start, action and slot events around every customer and bot
message): FAQ answers, suggestions picked or not, "I don't know", handoffs answered by an
agent and resolved with a rating. Times `metrics()` on the events in memory, and reading
the broker's table (SQLite, Rasa's schema) plus `metrics()`, best of three each.
"""
from __future__ import annotations

import json
import os
import random
import sqlite3
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.analytics.events import read_events
from bot.analytics.metrics import metrics
from bot.shop import ShopProfile

TARGET_EVENTS = 100_000
START = date(2026, 10, 1)
DAYS = 30
SHOP = ShopProfile(name="Hotro Shop", hotline="1900 6868", email="hotro@hotroshop.vn",
                   timezone="Asia/Ho_Chi_Minh",
                   office_hours={"days": list(range(7)), "open": "08:00", "close": "21:00"})


def conversation(rng: random.Random, number: int) -> list:
    sender = f"khach-{number}"
    channel = rng.choice(["widget", "facebook", "zalo"])
    day = START + timedelta(days=rng.randrange(DAYS))
    t = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60),
                 tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).timestamp()
    events = []

    def add(kind, **fields):
        events.append({"sender_id": sender, "event": kind, "timestamp": t, **fields})

    def user(text, intent, **entities):
        add("user", text=text, input_channel=channel,
            parse_data={"intent": {"name": intent, "confidence": 0.9},
                        "entities": [{"entity": k, "value": v} for k, v in entities.items()]})
        add("slot", name="language", value="vi")

    def bot(action, text, **metadata):
        add("action", name=action)
        add("bot", text=text, data={}, metadata={"utter_action": action, **metadata})
        add("action", name="action_listen")

    add("action", name="action_session_start")
    add("session_started")
    add("action", name="action_listen")
    for _ in range(rng.randrange(1, 4)):
        t += rng.uniform(5, 120)
        user("phí ship về hà nội bao nhiêu vậy shop", "ask_question")
        t += rng.uniform(0.2, 2)
        outcome = rng.random()
        if outcome < 0.6:
            bot("action_answer_question", "Phí giao hàng 20.000đ.", faq={"kind": "answer"})
        elif outcome < 0.8:
            bot("action_answer_question", "Bạn muốn hỏi về nội dung nào?",
                faq={"kind": "suggest", "suggestions": ["a", "b"]})
            if rng.random() < 0.5:
                t += rng.uniform(3, 30)
                user('/ask_question{"faq_id":"a"}', "ask_question", faq_id="a")
                t += 0.5
                bot("action_answer_question", "Phí giao hàng 20.000đ.", faq={"kind": "answer"})
        else:
            bot("action_answer_question", "Mình chưa có câu trả lời.", failure=True,
                faq={"kind": "abstain"})
    if rng.random() < 0.3:
        t += rng.uniform(5, 60)
        user("cho mình gặp nhân viên", "request_human")
        t += 1
        bot("action_handoff", "Mình chuyển bạn đến nhân viên.",
            handoff={"ticket": number, "reason": "request_human"})
        add("pause")
        t += rng.uniform(30, 20_000)
        add("bot", text="Chào bạn, mình là Lan.", data={}, metadata={"agent": "lan"})
        t += rng.uniform(60, 3_000)
        add("resume")
        bot("utter_ask_rating", "Bạn chấm giúp shop từ 1 đến 5 nhé.")
        if rng.random() < 0.6:
            t += rng.uniform(5, 120)
            rating = str(rng.randrange(1, 6))
            user(f'/rate{{"rating": "{rating}"}}', "rate", rating=rating)
            bot("action_record_rating", "Cảm ơn bạn đã đánh giá!")
    return events


def make_events() -> list:
    rng, events, number = random.Random(12), [], 0
    while len(events) < TARGET_EVENTS:
        events.extend(conversation(rng, number))
        number += 1
    events = events[:TARGET_EVENTS]
    events.sort(key=lambda e: e["timestamp"])  # as published: senders interleaved
    return events


def best_of(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    events = make_events()
    start, end = START + timedelta(days=15), START + timedelta(days=DAYS - 1)
    result = metrics(events, start, end, shop=SHOP)
    in_memory = best_of(3, lambda: metrics(events, start, end, shop=SHOP))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.db"
        with sqlite3.connect(path) as db:  # Rasa's SQLEventBroker schema
            db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                       "data TEXT)")
            db.executemany("INSERT INTO events (sender_id, data) VALUES (?, ?)",
                           [(e["sender_id"], json.dumps(e)) for e in events])
        from_table = best_of(3, lambda: metrics(read_events(str(path)), start, end, shop=SHOP))
    totals = result["totals"]
    print("| events | conversations (15 days) | previous period | metrics() s | "
          "read table + metrics() s | load average (1 min, 2 cores) |")
    print("|---|---|---|---|---|---|")
    print(f"| {len(events):,} | {totals['conversations']:,} | "
          f"{result['previous']['conversations']:,} | {in_memory:.2f} | {from_table:.2f} | "
          f"{os.getloadavg()[0]:.1f} |")


if __name__ == "__main__":
    main()
