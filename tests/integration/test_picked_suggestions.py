"""Learning from picked suggestions, through the real stack (Rasa server with the event
broker, action server, console): a customer's message gets suggestions and she picks one;
the console proposes that message as a phrasing of the picked entry; an editor accepts the
proposals in bulk and publishes; the same message then gets the answer, not buttons."""
from __future__ import annotations

import json
import time

from tests.conftest import Customer
from tests.integration.conftest import console_login

# Messages the bot is unsure about (two entries compete); the first that gets suggestions
# is used (not conftest.GREY_ZONE's first, which later tests still need in the grey zone).
CANDIDATES = ("tiền vận chuyển hết bao nhiêu", "phí ship tính sao vậy", "phí vận chuyển bao nhiêu")


def buttons(reply):
    return [b for m in reply for b in m.get("buttons") or []]


def text_of(reply):
    return "\n".join(m.get("text", "") for m in reply)


def test_a_picked_suggestion_becomes_a_phrasing_and_is_then_answered(stack, stack_settings):
    for message in CANDIDATES:
        customer = Customer(stack)  # a conversation each: failing twice would hand over
        offered = customer.say(message)
        if buttons(offered):
            break
    assert buttons(offered), f"none of {CANDIDATES} got suggestions: {offered}"
    payload = buttons(offered)[0]["payload"]
    entry_id = json.loads(payload[len("/ask_question"):])["faq_id"]
    answer = text_of(customer.say(payload))  # she picks the first suggestion: its answer

    editor = console_login(stack, stack_settings, "hoa", "editor")
    url = f"{stack.console_url}/api/unanswered/proposals"
    proposals = editor.get(url, timeout=60).json()["proposals"]
    mine = [p for p in proposals if p["text"] == message and p["entry_id"] == entry_id]
    assert len(mine) == 1 and mine[0]["channels"] == {"rest": 1}, proposals
    accepted = editor.post(f"{url}/accept", timeout=60, json={
        "items": [{"entry_id": p["entry_id"], "keys": p["keys"]} for p in mine], "publish": True})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["results"][0]["added"] == [message] and accepted.json()["published_version"]
    # (another test's customer may have picked another entry for the same words)
    assert not [p for p in editor.get(url, timeout=60).json()["proposals"]
                if p["text"] == message and p["entry_id"] == entry_id]

    # Within seconds every server serves the new version: the same message is answered.
    deadline = time.monotonic() + 90
    while True:
        reply = Customer(stack).say(message)
        if not buttons(reply):
            break
        assert time.monotonic() < deadline, f"still offered buttons after 90 s: {reply}"
        time.sleep(1)
    assert text_of(reply) == answer
