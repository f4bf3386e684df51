"""The shop's profile edited in the console reaches the running bot, through the real Rasa,
action server and console, without a restart."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from bot.shop import REFRESH_SECONDS


@pytest.fixture(scope="session")
def shop_admin(stack, stack_settings):
    """An admin account in the stack's console, logged in like a browser."""
    created = subprocess.run(
        [str(Path(sys.executable).parent / "hotro"), "user", "add", "chu-shop", "--role",
         "admin"],
        env={**os.environ, "HOTRO_CONFIG": str(stack_settings),
             "HOTRO_NEW_PASSWORD": "mat-khau-dai-123"},
        capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stdout + created.stderr
    session = requests.Session()
    session.headers["Origin"] = stack.console_url
    login = session.post(f"{stack.console_url}/login", allow_redirects=False, timeout=30,
                         data={"username": "chu-shop", "password": "mat-khau-dai-123"})
    assert login.status_code == 303, login.text
    return session


def save(stack, admin, **changes):
    url = f"{stack.console_url}/api/admin/shop"
    version = admin.get(url, timeout=30).json()["version"]
    reply = admin.post(url, json={"version": version, **changes}, timeout=30)
    assert reply.status_code == 200, reply.text
    time.sleep(REFRESH_SECONDS + 0.5)  # every process re-reads the profile by then


def test_a_holiday_saved_in_the_console_tells_the_customer_the_shop_is_closed(
        stack, shop_admin, customer, tickets, agent):
    agent.get(f"{stack.console_url}/", timeout=30).raise_for_status()  # an agent is online
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    # Around midnight the message may be read on the next day: both are holidays.
    save(stack, shop_admin, holidays=[today.isoformat(), (today + timedelta(1)).isoformat()])
    try:
        reply = customer.says_text("cho tôi gặp nhân viên")
        assert "ngoài giờ làm việc" in reply
        ticket = tickets.latest_ticket_for(customer.sender)
        assert f"#{ticket.id}" in reply and ticket.status == "waiting"
    finally:
        save(stack, shop_admin, holidays=[])
    # The day is a working day again: a person takes over.
    agent.get(f"{stack.console_url}/", timeout=30).raise_for_status()
    again = customer.__class__(stack)
    assert "đã chuyển bạn đến nhân viên" in again.says_text("cho tôi gặp nhân viên")
