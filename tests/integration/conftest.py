"""Fixtures of the integration tests beyond the stack (tests/conftest.py): the stack's
ticket store, a logged-in console agent and `hotro run` as an operator runs it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import sqlalchemy
import yaml

from bot.handoff.store import TicketStore
from bot.stack import Stack, _ready, free_port
from tests.conftest import Customer

HOTRO = str(Path(sys.executable).parent / "hotro")


@pytest.fixture(scope="session")
def tickets(stack_settings) -> TicketStore:
    settings = yaml.safe_load(stack_settings.read_text(encoding="utf-8"))
    return TicketStore(settings["handoff"]["database_url"])


def everyone_offline(tickets: TicketStore) -> None:
    """No console counts as open: nobody is online for the handoff decision."""
    with tickets.session() as session, session.begin():
        session.execute(sqlalchemy.text("DELETE FROM agent_presence"))


@contextmanager
def console_open(stack, agent, tickets: TicketStore):
    """`agent` online (their console open) for the block, nobody online after it: later
    tests expect that."""
    agent.get(f"{stack.console_url}/", timeout=30).raise_for_status()
    try:
        yield agent
    finally:
        everyone_offline(tickets)


@pytest.fixture
def no_agent_online(tickets):
    everyone_offline(tickets)
    yield


@pytest.fixture(scope="session")
def wait_ticket(tickets):
    """wait_ticket(conversation_id): the conversation's latest ticket, once it exists."""
    def wait(conversation_id, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ticket = tickets.latest_ticket_for(conversation_id)
            if ticket:
                return ticket
            time.sleep(0.2)
        raise AssertionError(f"no ticket for {conversation_id}")
    return wait


def console_login(stack, stack_settings, username: str, role: str) -> requests.Session:
    """A console account made with `hotro user add`, logged in like a browser."""
    created = subprocess.run(
        [HOTRO, "user", "add", username, "--role", role],
        env={**os.environ, "HOTRO_CONFIG": str(stack_settings),
             "HOTRO_NEW_PASSWORD": "mat-khau-dai-123"},
        capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stdout + created.stderr
    session = requests.Session()
    session.headers["Origin"] = stack.console_url
    login = session.post(f"{stack.console_url}/login", allow_redirects=False, timeout=30,
                         data={"username": username, "password": "mat-khau-dai-123"})
    assert login.status_code == 303, login.text
    return session


@pytest.fixture(scope="session")
def agent(stack, stack_settings):
    """An agent account in the stack's console, logged in like a browser."""
    session = console_login(stack, stack_settings, "lan", "agent")
    session.get(f"{stack.console_url}/", timeout=30).raise_for_status()  # agent is online
    return session


class HotroRun:
    """`hotro run` in a process of its own: its own ports and var dir, `settings` its
    hotro.yml (the test stack's: the same ticket database as the `tickets` fixture)."""

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

    # What tells each of its processes apart in /proc/PID/cmdline, beside its port.
    ARGV = {"action server": ["run", "actions"], "rasa server": ["run", "--enable-api"],
            "console": ["-m", "bot.console"]}

    def pid_of(self, service: str) -> int:
        """The process id of one of the processes `hotro run` started (a restart changes it)."""
        wanted = self.ARGV[service]
        port = str({"action server": self.stack.action_port, "rasa server": self.stack.rasa_port,
                    "console": self.stack.console_port}[service])
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if any(argv[i:i + 2] == wanted for i in range(len(argv))) and port in argv:
                return int(entry.name)
        raise AssertionError(f"no {service} process")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(120)


@contextmanager
def hotro_running(settings: Path, var_dir: Path):
    """A `hotro run` for the block, once it says it is running; stopped after it."""
    run = HotroRun(var_dir, settings)
    try:
        run.wait_running()
        yield run
    finally:
        if run.process.poll() is None:
            run.stop()


# Questions in the FAQ's grey zone on the sample corpus (two entries compete: suggestions).
# Earlier tests publish edits to the session's FAQ (and the decision is refitted to them),
# and stacks of their own may copy its index, so a test takes the first that still does.
# The first sits well inside the zone (confidence 0.31 between the cuts 0.08 and 0.62);
# "phí vận chuyển bao nhiêu" sits on the answer cut, and a machine's float rounding
# decides whether it is answered.
GREY_ZONE = ("giao hàng tốn phí không", "tiền vận chuyển hết bao nhiêu", "ship hàng mất phí không",
             "phí vận chuyển bao nhiêu", "phí ship tính sao vậy")


def grey_zone_question(stack) -> str:
    """The first of GREY_ZONE that `stack` answers with suggestions, shipping-fee among them."""
    for question in GREY_ZONE:
        reply = Customer(stack).say(question)
        if reply and reply[0]["text"].startswith("Bạn muốn hỏi về nội dung nào") and any(
                "shipping-fee" in b["payload"] for b in reply[0].get("buttons") or []):
            return question
    pytest.fail(f"none of {GREY_ZONE} gets suggestions any more: {reply}")

