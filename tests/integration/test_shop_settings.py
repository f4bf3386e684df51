"""The shop's profile edited in the console reaches the running bot, through the real Rasa,
action server and console, without a restart."""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.shop import REFRESH_SECONDS
from tests.integration.conftest import console_login


@pytest.fixture(scope="session")
def shop_admin(stack, stack_settings):
    """An admin account in the stack's console, logged in like a browser."""
    return console_login(stack, stack_settings, "chu-shop", "admin")


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


def test_an_admin_rewords_the_greeting_and_hotline_and_the_next_widget_chat_says_them(stack, shop_admin):
    """In real Chromium: the admin edits the shop page; a new widget conversation, with no
    retrain or restart, is greeted with the admin's words and the new hotline."""
    from tests.browser import CHROMIUM, INSTALL_HINT, Browser
    from tests.integration.test_widget_browser import W, open_demo, send, wait_bubble

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser test needs Chromium at {CHROMIUM}: {INSTALL_HINT}")
    greeting = "Chào mừng bạn đến với {shop_name}! Cần gấp bạn cứ gọi {hotline} nhé."
    try:
        with Browser() as admin:
            admin.navigate(f"{stack.console_url}/login")
            admin.type_into("#username", "chu-shop")
            admin.type_into("#password", "mat-khau-dai-123")
            admin.click("#login-submit")
            admin.wait_for("location.pathname === '/'")
            admin.navigate(f"{stack.console_url}/admin/shop")
            admin.wait_for("document.readyState === 'complete' && !!document.getElementById('greeting_vi')")
            # The admin's edits, put into the form's fields (typing is tested by the console's
            # own browser test); the form is then submitted by its button, as a click does.
            admin.evaluate(f"document.getElementById('hotline').value = '0909 123 456';"
                           f" document.getElementById('greeting_vi').value = {greeting!r}; true")
            admin.click("#shop-save")
            admin.wait_for("!!document.getElementById('shop-saved')")
            assert admin.errors == [], admin.errors
        time.sleep(REFRESH_SECONDS + 0.5)  # every process re-reads the profile by then
        with Browser() as customer:
            open_demo(customer, stack)
            customer.click(W + ".launcher")
            send(customer, "xin chào shop")
            wait_bubble(customer, "bot", "Chào mừng bạn đến với Hotro Shop! Cần gấp bạn cứ gọi 0909 123 456 nhé.")
            assert customer.errors == [], customer.errors
    finally:
        save(stack, shop_admin, hotline="1900 6868", greeting={"vi": "", "en": ""})
