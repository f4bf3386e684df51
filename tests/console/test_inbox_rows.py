"""The inbox shows each ticket's customer by name, phone or email (never the session id)
and their latest message, live from Rasa or from the ticket's snapshot."""
from __future__ import annotations

from bot.handoff.profiles import customer_profiles
from tests.console.test_api import seed


def rows_of(client, console):
    return {t["id"]: t for t in client.get(f"{console.url}/api/tickets",
                                          timeout=10).json()["tickets"]}


def test_inbox_names_the_customer_and_shows_their_latest_message(console, agent, store,
                                                                 rasa):
    named = seed(store, rasa, "cust-1", name="Chị Mai")
    by_phone = seed(store, rasa, "a3f9c2e417b84d6f9a0e5c1d2b3a4f56", name=None)
    by_email = seed(store, rasa, "cust-3", name=None, channel="zalo")
    unknown = seed(store, rasa, "cust-4", name=None)
    profiles = customer_profiles(store)
    profiles.link("socketio", "a3f9c2e417b84d6f9a0e5c1d2b3a4f56", phone="0912 345 678")
    profiles.link("zalo", "cust-3", email="Hang@Example.com")
    rasa.add_user_message("a3f9c2e417b84d6f9a0e5c1d2b3a4f56", "đơn HT123456 giao chưa shop?")

    rows = rows_of(console.login("lan"), console)
    assert rows[named]["customer"]["label"] == "Chị Mai"
    assert rows[by_phone]["customer"] == {"name": None, "phone": "0912345678", "email": None,
                                          "label": "0912345678"}
    assert rows[by_email]["customer"]["label"] == "hang@example.com"
    assert rows[unknown]["customer"]["label"] is None  # the page says "unknown customer"
    assert rows[by_phone]["last_message"] == "đơn HT123456 giao chưa shop?"
    assert rows[named]["last_message"] == "cho mình gặp nhân viên"
    # The ticket page has the same customer.
    view = console.login("lan").get(f"{console.url}/api/tickets/{by_phone}", timeout=10).json()
    assert view["customer"]["phone"] == "0912345678"


def test_a_call_back_number_names_the_customer_and_long_messages_are_cut(console, agent,
                                                                         store, rasa):
    ticket_id = seed(store, rasa, "cust-9", name=None)
    store.set_contact(ticket_id, "0987654321")
    rasa.add_user_message("cust-9", "x" * 1000)
    row = rows_of(console.login("lan"), console)[ticket_id]
    assert row["customer"]["label"] == "0987654321"
    assert len(row["last_message"]) == 200 and row["last_message"].endswith("…")


def test_with_rasa_down_the_inbox_shows_the_snapshot_message(db_path):
    from bot.handoff.store import ticket_store
    from bot.stack import free_port
    from tests.console.conftest import PASSWORD, ConsoleServer, console_settings

    server = ConsoleServer(console_settings(db_path, f"http://127.0.0.1:{free_port()}")).start()
    try:
        server.users.add_user("lan", PASSWORD, "agent")
        ticket_id = ticket_store(f"sqlite:///{db_path}").create(
            "cust-5", "request_human", [{"time": None, "role": "customer", "text": "alo shop"},
                                        {"time": None, "role": "bot", "text": "Dạ"}]).id
        row = rows_of(server.login("lan"), server)[ticket_id]
        assert row["last_message"] == "alo shop"
    finally:
        server.stop()
