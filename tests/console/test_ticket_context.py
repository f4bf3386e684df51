"""What a ticket shows beside its own transcript: the customer's conversations on other
channels (same phone or email) and the messages their channel refused to deliver."""
from __future__ import annotations

import asyncio
import os

import aiohttp
import pytest

from bot.handoff.profiles import customer_profiles
from bot.handoff.store import TicketStore, ticket_store
from bot.stack import free_port
from tests.browser import CHROMIUM, INSTALL_HINT, Browser
from tests.console.conftest import PASSWORD, ConsoleServer, console_settings
from tests.console.test_api import _next

XSS = '<img src=x onerror="window.__xss=1">'
CLOSED = "Zalo error -230: User has not interacted with the OA in the past 7 days"


def same_customer(store: TicketStore, *identities) -> None:
    """Each (channel, sender) gives the same number, written its own way."""
    for (channel, sender), written in zip(identities, ("0912 345 678", "+84912345678",
                                                        "84 912 345 678")):
        customer_profiles(store).link(channel, sender, phone=written)


def test_ticket_lists_the_customers_conversations_on_other_channels(console, agent, store,
                                                                    rasa):
    rasa.add_user_message("psid-7", "Áo size M còn hàng không shop?", channel="facebook")
    rasa.add_bot_message("psid-7", "Dạ còn ạ.")
    rasa.add_user_message("web-1", "cho mình gặp nhân viên", intent="request_human",
                          channel="widget")
    ticket = store.create("web-1", "request_human", [], channel="widget")
    same_customer(store, ("facebook", "psid-7"), ("widget", "web-1"))
    customer_profiles(store).link("zalo", "someone-else", phone="0987654321")

    data = console.login("lan").get(f"{console.url}/api/tickets/{ticket.id}",
                                    timeout=10).json()
    assert [l["text"] for l in data["transcript"]] == ["cho mình gặp nhân viên"]
    [linked] = data["linked"]
    assert (linked["channel"], linked["conversation_id"], linked["source"]) == (
        "facebook", "psid-7", "live")
    assert [(l["role"], l["text"]) for l in linked["transcript"]] == [
        ("customer", "Áo size M còn hàng không shop?"), ("bot", "Dạ còn ạ.")]
    assert data["undelivered"] == []
    # A ticket of a customer who gave no contact has nothing linked.
    other = store.create("anon", "request_human", [], channel="rest")
    assert console.login("lan").get(f"{console.url}/api/tickets/{other.id}",
                                    timeout=10).json()["linked"] == []


def test_linked_conversations_fall_back_to_their_snapshot_when_rasa_is_down(db_path):
    server = ConsoleServer(console_settings(db_path, f"http://127.0.0.1:{free_port()}")).start()
    try:
        server.users.add_user("lan", PASSWORD, "agent")
        store = ticket_store(f"sqlite:///{db_path}")
        store.create("psid-7", "callback", [{"time": None, "role": "customer",
                                             "text": "snapshot của Messenger"}],
                     channel="facebook")
        ticket = store.create("web-1", "request_human", [], channel="widget")
        same_customer(store, ("facebook", "psid-7"), ("widget", "web-1"),
                      ("zalo", "never-handed-off"))
        data = server.login("lan").get(f"{server.url}/api/tickets/{ticket.id}",
                                       timeout=30).json()
        assert [(c["conversation_id"], c["source"], [l["text"] for l in c["transcript"]])
                for c in data["linked"]] == [
            ("psid-7", "snapshot", ["snapshot của Messenger"]),
            ("never-handed-off", "snapshot", [])]
    finally:
        server.stop()


def test_ticket_carries_the_messages_the_channel_could_not_deliver(console, agent, store):
    ticket, opened = store.add_undelivered("zalo-1", "zalo", "Đơn của bạn đã được giao.",
                                           CLOSED, True, reason="undelivered")
    assert opened
    client = console.login("lan")
    [row] = client.get(f"{console.url}/api/tickets", timeout=10).json()["tickets"]
    assert (row["id"], row["reason"], row["channel"]) == (ticket.id, "undelivered", "zalo")
    data = client.get(f"{console.url}/api/tickets/{ticket.id}", timeout=10).json()
    [message] = data["undelivered"]
    assert message["text"] == "Đơn của bạn đã được giao." and message["window_closed"]
    assert message["channel"] == "zalo" and "-230" in message["error"]
    assert message["created_at"].endswith("+00:00")


def test_websocket_pushes_new_undelivered_messages(console, agent, store, rasa):
    ticket = store.create("zalo-2", "request_human", [], channel="zalo")
    token = console.login("lan").cookies["hotro_session"]

    async def scenario() -> None:
        headers = {"Origin": console.url, "Cookie": f"hotro_session={token}"}
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(f"{console.url}/ws", headers=headers) as ws:
                await ws.send_json({"type": "subscribe", "ticket": ticket.id})
                first = await _next(ws, "undelivered")
                assert first["ticket"] == ticket.id and first["messages"] == []
                # the Rasa process (a channel) writes it: the page follows without a reload
                store.add_undelivered("zalo-2", "zalo", "Chào anh, em là Lan ạ.", "-230",
                                      True, reason="undelivered")
                pushed = await _next(ws, "undelivered")
                assert [m["text"] for m in pushed["messages"]] == ["Chào anh, em là Lan ạ."]

    asyncio.run(scenario())


def test_ticket_page_shows_both_as_text(console, agent, store, rasa):
    """In Chromium: the sections render the customer's and the bot's text as characters."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser test needs Chromium at {CHROMIUM}: {INSTALL_HINT}")
    rasa.add_user_message("psid-7", XSS, channel="facebook")
    rasa.add_user_message("zalo-3", "cho mình gặp nhân viên", channel="zalo")
    ticket = store.create("zalo-3", "request_human", [], channel="zalo")
    same_customer(store, ("facebook", "psid-7"), ("zalo", "zalo-3"))
    store.add_undelivered("zalo-3", "zalo", XSS, CLOSED, True,
                          reason="undelivered")

    with Browser() as browser:
        browser.navigate(f"{console.url}/login?next=/tickets/{ticket.id}")
        browser.type_into("#username", "lan")
        browser.type_into("#password", PASSWORD)
        browser.click("#login-submit")
        browser.wait_for("document.querySelectorAll('#linked li').length === 1")
        linked = browser.text("#linked-box")
        assert "Cuộc trò chuyện trước trên kênh khác" in linked
        assert "Messenger · psid-7" in linked and XSS in linked
        undelivered = browser.text("#undelivered-box")
        assert "Chưa gửi được tới khách (cửa sổ nhắn tin đã đóng)" in undelivered
        assert "Not delivered to the customer (messaging window closed)" in undelivered
        assert XSS in undelivered
        assert browser.evaluate("document.querySelectorAll('main img').length") == 0
        assert browser.evaluate("typeof window.__xss") == "undefined"
        assert browser.errors == [], browser.errors
