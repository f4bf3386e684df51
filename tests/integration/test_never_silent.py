"""`hotro run` as an operator runs it: a process that dies is started again, and a customer
who writes meanwhile gets an apology in their language and a ticket, never silence.

Runs its own `hotro run` (its own ports and var dir; the test stack's hotro.yml, so the
same ticket database as the `tickets` fixture).
"""
from __future__ import annotations

import os
import signal
import time

import pytest
import requests

from bot.stack import _ready
from tests.conftest import Customer
from tests.integration.conftest import hotro_running

APOLOGY_VI = "trợ lý tự động đang gặp sự cố"
APOLOGY_EN = "technical problem"


@pytest.fixture(scope="module")
def hotro_run(stack_settings, tmp_path_factory):
    with hotro_running(stack_settings, tmp_path_factory.mktemp("hotro-run")) as run:
        yield run


def test_the_rasa_server_takes_messages_only_once_the_action_server_is_ready(hotro_run):
    assert not hotro_run.rasa_before_actions, hotro_run.printed()
    # the first message is answered, FAQ search included
    assert "20.000đ" in Customer(hotro_run.stack).says_text("phí ship bao nhiêu")


def test_killed_action_server_is_restarted_and_meanwhile_customers_get_an_apology_and_a_ticket(
        hotro_run, tickets):
    vi, en = Customer(hotro_run.stack), Customer(hotro_run.stack)
    assert "Hello" in en.says_text("hello, good morning")
    old_pid = hotro_run.pid_of("action server")
    os.kill(old_pid, signal.SIGKILL)  # kill -9: a crash

    # Sent while the action server is down: each customer is told, in their language.
    vi_reply = vi.say("shop oi lam sao de huy don vay")
    en_reply = en.say("how can I cancel my order?")
    assert len(vi_reply) == 1 and APOLOGY_VI in vi_reply[0]["text"], vi_reply
    assert len(en_reply) == 1 and APOLOGY_EN in en_reply[0]["text"], en_reply

    # ... and a person has each message, with the conversation, on a ticket.
    for customer, text, reply in [(vi, "shop oi lam sao de huy don vay", vi_reply),
                                  (en, "how can I cancel my order?", en_reply)]:
        ticket = tickets.latest_ticket_for(customer.sender)
        assert ticket is not None and ticket.reason == "bot_unavailable"
        assert f"#{ticket.id}" in reply[0]["text"]
        assert text in [line.get("text") for line in ticket.transcript], ticket.transcript
    assert tickets.latest_ticket_for(en.sender).language == "en"

    # `hotro run` starts it again; the Rasa server served throughout, and answers again.
    deadline = time.monotonic() + 300
    while not _ready(f"{hotro_run.stack.action_url}/health"):
        assert time.monotonic() < deadline, hotro_run.printed()
        time.sleep(0.5)
    assert hotro_run.pid_of("action server") != old_pid
    assert "action server exited with code -9" in hotro_run.printed()
    assert "action server started again" in hotro_run.printed()
    assert "20.000đ" in vi.says_text("phí ship bao nhiêu")
    assert "Visa" in en.says_text("do you take visa cards")


def test_sigterm_stops_every_process(hotro_run):
    assert hotro_run.stop() == 0
    for url in (f"{hotro_run.stack.rasa_url}/status", f"{hotro_run.stack.action_url}/health",
                f"{hotro_run.stack.console_url}/healthz"):
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=5)
