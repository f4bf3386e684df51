"""One customer sending several messages at once (a burst) is answered whole and in order.

Rasa serves one message of a conversation at a time; hotro's lock store (bot/lock_store.py)
passes the conversation on as soon as a message is answered. The time a burst takes is
measured in bench/burst.py, not asserted here.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

from tests.conftest import Customer

BURST = [
    "xin chào shop",
    "phí ship về hà nội bao nhiêu",
    "làm sao để hủy đơn",
    "shop oi doi tra hang the nao",
    "ship cod dc ko",
    "how do I return an item",
    "thanks",
    "bao lâu thì nhận được hàng",
]


def replies_in_tracker(tracker: Dict) -> List[tuple]:
    """(user text, [bot texts after it until the next user message]) in tracker order."""
    turns: List[tuple] = []
    for event in tracker["events"]:
        if event["event"] == "user":
            turns.append((event["text"], []))
        elif event["event"] == "bot" and turns:
            turns[-1][1].append(event.get("text") or "")
    return turns


def test_a_burst_from_one_customer_is_answered_whole_and_in_order(stack):
    customer = Customer(stack)
    with ThreadPoolExecutor(len(BURST)) as pool:
        replies = list(pool.map(customer.say, BURST))

    for text, reply in zip(BURST, replies):
        assert reply and all(m.get("text") for m in reply), (text, reply)
    turns = replies_in_tracker(customer.tracker())
    assert sorted(t for t, _ in turns) == sorted(BURST)  # each message once
    # Each message's own answers follow it in the transcript, before the next message:
    # what each request got back is what the tracker shows after that message.
    answered = dict(turns)
    for text, reply in zip(BURST, replies):
        assert [m["text"] for m in reply] == answered[text], text
