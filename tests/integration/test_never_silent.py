"""`hotro run` as an operator runs it: a process that dies is started again, and a customer
who writes meanwhile gets an apology in their language and a ticket, never silence.

Runs its own `hotro run` (its own ports and var dir; the test stack's hotro.yml, so the
same ticket database as the `tickets` fixture).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.stack import Stack, _ready, free_port
from tests.conftest import Customer

HOTRO = str(Path(sys.executable).parent / "hotro")
APOLOGY_VI = "trợ lý tự động đang gặp sự cố"
APOLOGY_EN = "technical problem"


class HotroRun:
    def __init__(self, var_dir: Path, settings: Path) -> None:
        # Only for its URLs: `hotro run` starts the processes.
        self.stack = Stack(model=Path("unused"), var_dir=var_dir, rasa_port=free_port(),
                           action_port=free_port(), console_port=free_port())
        self.output = var_dir / "hotro-run.out"
        self.rasa_before_actions = False  # did the Rasa server ever answer first?
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                [HOTRO, "run", "--no-train", "--port", str(self.stack.rasa_port),
                 "--action-port", str(self.stack.action_port),
                 "--console-port", str(self.stack.console_port), "--var-dir", str(var_dir)],
                env={**os.environ, "HOTRO_CONFIG": str(settings)}, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)

    def wait_running(self, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while "hotro is running" not in self.printed():
            assert self.process.poll() is None, self.printed()
            assert time.monotonic() < deadline, self.printed()
            if _ready(f"{self.stack.rasa_url}/status") and \
                    not _ready(f"{self.stack.action_url}/health"):
                self.rasa_before_actions = True
            time.sleep(0.3)

    def printed(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def action_server_pid(self) -> int:
        wanted = ["run", "actions"]
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if any(argv[i:i + 2] == wanted for i in range(len(argv))) and \
                    str(self.stack.action_port) in argv:
                return int(entry.name)
        raise AssertionError("no action server process")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(120)


@pytest.fixture(scope="module")
def hotro_run(stack_settings, tmp_path_factory):
    run = HotroRun(tmp_path_factory.mktemp("hotro-run"), stack_settings)
    try:
        run.wait_running()
        yield run
    finally:
        if run.process.poll() is None:
            run.stop()


def test_the_rasa_server_takes_messages_only_once_the_action_server_is_ready(hotro_run):
    assert not hotro_run.rasa_before_actions, hotro_run.printed()
    # the first message is answered, FAQ search included
    assert "20.000đ" in Customer(hotro_run.stack).says_text("phí ship bao nhiêu")


def test_killed_action_server_is_restarted_and_meanwhile_customers_get_an_apology_and_a_ticket(
        hotro_run, tickets):
    vi, en = Customer(hotro_run.stack), Customer(hotro_run.stack)
    assert "Hello" in en.says_text("hello, good morning")
    old_pid = hotro_run.action_server_pid()
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
    assert hotro_run.action_server_pid() != old_pid
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
