"""Bad input to the REST webhook: a 4xx with a clear error or a polite reply, never a 500."""
from __future__ import annotations

import pytest
import requests


def test_empty_message_is_rejected_clearly(customer):
    reply = customer.post({"sender": customer.sender, "message": "   "})
    assert reply.status_code == 400
    assert "message" in reply.json()["error"]


def test_100kb_message_is_rejected_clearly(customer):
    reply = customer.post({"sender": customer.sender, "message": "đơn hàng " * 11000})
    assert reply.status_code == 413
    assert "too long" in reply.json()["error"]


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]", b'"text"',
                                  b'{"sender": 5, "message": "hi"}',
                                  b'{"sender": "x", "message": ["hi"]}',
                                  b'{"sender": "x", "message": "hi", "metadata": 3}'])
def test_malformed_bodies_get_400(stack, body):
    reply = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", data=body, timeout=30,
                          headers={"Content-Type": "application/json"})
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]


@pytest.mark.parametrize("text", ["😀😀🙏", "👍", "Привет, 你好, مرحبا", "<script>alert(1)</script>",
                                  "đơn hàng của tôi order #12345 đâu rồi ???", "\u200b\u200bxin chào"])
def test_odd_but_valid_messages_get_a_polite_reply(customer, text):
    replies = customer.say(text)
    assert replies and all(r.get("text") for r in replies)


def test_the_bot_still_answers_after_bad_input(customer):
    customer.post({"sender": customer.sender, "message": ""})
    assert "Xin chào" in customer.says_text("xin chào")


def test_a_flood_from_one_sender_is_cut_off_and_the_others_are_still_answered(stack, customer):
    from concurrent.futures import ThreadPoolExecutor

    from bot.limits import SENDER_BURST
    from tests.conftest import Customer, rasa_log

    flooder = Customer(stack)
    with ThreadPoolExecutor(max_workers=3 * SENDER_BURST + 1) as pool:  # all at once
        flood = [pool.submit(flooder.post, {"sender": flooder.sender, "message": f"spam {i}"})
                 for i in range(3 * SENDER_BURST)]
        answer = pool.submit(customer.says_text, "phí vận chuyển bao nhiêu")  # someone else, meanwhile
        replies = [f.result() for f in flood]
    refused = [r for r in replies if r.status_code == 429]
    assert len(refused) >= SENDER_BURST, [r.status_code for r in replies]
    assert all(r.status_code in (200, 429) for r in replies)
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    error = refused[0].json()["error"]
    assert "nhanh quá" in error and "faster than I can read" in error  # both languages: not known yet
    assert answer.result() and "nhanh quá" not in answer.result()  # the other customer is answered
    assert "rejected REST message from sender" in rasa_log(stack)
    # the flooder's own conversation holds only what was let through, in order
    said = [e["text"] for e in flooder.tracker()["events"] if e["event"] == "user"]
    assert len(said) == len(replies) - len(refused)
