"""Fixtures of the integration tests beyond the stack (tests/conftest.py): the stack's
ticket store and a logged-in console agent."""
from __future__ import annotations

import os
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
        [str(Path(sys.executable).parent / "hotro"), "user", "add", username, "--role", role],
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
