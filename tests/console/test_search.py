"""All tickets, resolved ones included: filters, search over customers and transcripts
(phone numbers in any writing), the whole conversation kept on resolve, bad filters."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.handoff.profiles import customer_profiles
from tests.console.conftest import PASSWORD
from tests.console.test_api import seed


def search(client, console, **params):
    return client.get(f"{console.url}/api/tickets/search", params=params, timeout=10)


def ids(reply):
    assert reply.status_code == 200, reply.text
    return [t["id"] for t in reply.json()["tickets"]]


def test_a_resolved_ticket_is_found_by_the_customers_phone_and_by_what_was_said(
        console, agent, store, rasa):
    client = console.login("lan")
    ticket_id = seed(store, rasa, "widget-1", name=None)
    customer_profiles(store).link("zalo", "zalo-77", phone="0912345678")
    customer_profiles(store).link("socketio", "widget-1", phone="+84 912 345 678")
    other = seed(store, rasa, "widget-2", name="Anh Tuấn")
    client.post(f"{console.url}/api/tickets/{ticket_id}/reply",
                json={"text": "Em đổi áo size M cho chị nhé"}, timeout=10).raise_for_status()
    rasa.add_user_message("widget-1", "cảm ơn em, áo bị rách ở tay")
    assert client.post(f"{console.url}/api/tickets/{ticket_id}/resolve", json={},
                       timeout=10).status_code == 200
    assert ticket_id not in [t["id"] for t in client.get(
        f"{console.url}/api/tickets", timeout=10).json()["tickets"]]  # gone from the inbox

    for q in ("0912 345 678", "0912.345.678", "+84912345678"):  # the profile's phone
        assert ids(search(client, console, q=q)) == [ticket_id], q
    # After handoff, in the live transcript: kept on the ticket when it was resolved.
    assert ids(search(client, console, q="bị rách")) == [ticket_id]
    assert ids(search(client, console, q="SIZE M")) == [ticket_id]
    assert ids(search(client, console, q="anh tuấn")) == [other]
    row = search(client, console, q="0912345678").json()["tickets"][0]
    assert row["status"] == "resolved" and row["customer"]["label"] == "0912345678"
    assert row["last_message"] == "cảm ơn em, áo bị rách ở tay"
    assert search(client, console, q="không có ai").json()["total"] == 0
    assert ids(search(client, console, q="không có ai")) == []


def test_filters_by_status_channel_agent_and_date(console, agent, store, rasa):
    console.users.add_user("hoa", PASSWORD, "agent")
    first = seed(store, rasa, "c-1", channel="zalo")
    second = seed(store, rasa, "c-2", channel="socketio")
    third = seed(store, rasa, "c-3", channel="zalo")
    store.assign(first, "lan")
    store.resolve(first)
    store.assign(second, "hoa")
    client = console.login("hoa")
    assert ids(search(client, console)) == [third, second, first]  # newest first
    assert ids(search(client, console, status="resolved")) == [first]
    assert ids(search(client, console, channel="zalo")) == [third, first]
    assert ids(search(client, console, agent="hoa")) == [second]
    assert ids(search(client, console, channel="zalo", status="waiting")) == [third]
    today = datetime.utcnow() + timedelta(hours=7)  # the shop's day (Asia/Ho_Chi_Minh)
    day = today.date().isoformat()
    assert ids(search(client, console, **{"from": day, "to": day})) == [third, second, first]
    tomorrow = (today + timedelta(days=1)).date().isoformat()
    assert ids(search(client, console, **{"from": tomorrow})) == []
    assert ids(search(client, console, limit="1", offset="1")) == [second]
    assert search(client, console, limit="1").json()["total"] == 3
    # The page lists the agents and channels to filter on.
    page = client.get(f"{console.url}/tickets", timeout=10).text
    assert 'value="hoa"' in page and 'value="zalo"' in page and "Tất cả yêu cầu" in page


def test_bad_filters_get_400_naming_the_field(console, agent, caplog):
    caplog.set_level(logging.WARNING, logger="bot.console")
    client = console.login("lan")
    for params, field in [({"status": "closed"}, "status"), ({"from": "2026-13-01"}, "from"),
                          ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
                          ({"limit": "0"}, "limit"), ({"limit": "abc"}, "limit"),
                          ({"offset": "-1"}, "offset"), ({"q": "x" * 201}, "q")]:
        reply = search(client, console, **params)
        assert reply.status_code == 400 and reply.json()["field"] == field, params
        assert " / " in reply.json()["error"]
    assert "bad ticket search" in caplog.text


def test_search_needs_a_session_and_is_not_fooled_by_like_wildcards(console, agent, store,
                                                                     rasa):
    seed(store, rasa, "c-1", name="Chị Mai")
    assert console.client().get(f"{console.url}/api/tickets/search",
                                timeout=10).status_code == 401
    assert console.client().get(f"{console.url}/tickets", allow_redirects=False,
                                timeout=10).status_code in (302, 303)
    client = console.login("lan")
    assert ids(search(client, console, q="%")) == []
    assert ids(search(client, console, q="_")) == []
