"""Internal notes on a ticket: kept with who and when, shown on the ticket, never sent to
Rasa (so never to the customer's channel); role checks and bad input."""
from __future__ import annotations

import logging

from tests.console.conftest import PASSWORD
from tests.console.test_api import seed


def test_an_agent_adds_notes_that_never_reach_rasa(console, agent, store, rasa):
    ticket_id = seed(store, rasa)
    client = console.login("lan")
    posts_before = len(rasa.recorded(lambda r: r.method == "POST"))
    added = client.post(f"{console.url}/api/tickets/{ticket_id}/notes",
                        json={"text": "  Khách VIP, <b>đã</b> đổi hàng 2 lần  "}, timeout=10)
    assert added.status_code == 200, added.text
    note = added.json()["note"]
    assert note["author"] == "lan" and note["author_name"] == "Nguyễn Thị Lan"
    assert note["text"] == "Khách VIP, <b>đã</b> đổi hàng 2 lần" and note["created_at"]
    console.users.add_user("hoa", PASSWORD, "agent", "Hoa")
    console.login("hoa").post(f"{console.url}/api/tickets/{ticket_id}/notes",
                              json={"text": "Đã gọi lại lúc 10h"}, timeout=10).raise_for_status()
    notes = client.get(f"{console.url}/api/tickets/{ticket_id}/notes", timeout=10).json()["notes"]
    assert [(n["author"], n["text"]) for n in notes] == [
        ("lan", "Khách VIP, <b>đã</b> đổi hàng 2 lần"), ("hoa", "Đã gọi lại lúc 10h")]
    # Nothing went to Rasa: not in the tracker, not in the transcript the customer shares.
    assert len(rasa.recorded(lambda r: r.method == "POST")) == posts_before
    assert not any("VIP" in str(e) for e in rasa.state("cust-1")["events"])
    lines = client.get(f"{console.url}/api/tickets/{ticket_id}", timeout=10).json()["transcript"]
    assert not any("VIP" in line["text"] for line in lines)
    # Notes on a resolved ticket still work (what happened after, for the next agent).
    store.resolve(ticket_id)
    assert client.post(f"{console.url}/api/tickets/{ticket_id}/notes",
                       json={"text": "Khách đã nhận hàng"}, timeout=10).status_code == 200


def test_notes_refuse_editors_bad_input_and_unknown_tickets(console, agent, store, rasa,
                                                             caplog):
    caplog.set_level(logging.WARNING, logger="bot.console")
    ticket_id = seed(store, rasa)
    console.users.add_user("bien", PASSWORD, "editor")
    editor = console.login("bien")
    assert editor.post(f"{console.url}/api/tickets/{ticket_id}/notes", json={"text": "hi"},
                       timeout=10).status_code == 403
    assert editor.get(f"{console.url}/api/tickets/{ticket_id}/notes",
                      timeout=10).status_code == 200  # editors read
    client = console.login("lan")
    for body, status in [({"text": "  "}, 400), ({"text": "x" * 2001}, 400), ({}, 400),
                         (["text"], 400)]:
        assert client.post(f"{console.url}/api/tickets/{ticket_id}/notes", json=body,
                           timeout=10).status_code == status, body
    assert client.post(f"{console.url}/api/tickets/{ticket_id}/notes", data="text=hi",
                       timeout=10).status_code == 415
    assert client.post(f"{console.url}/api/tickets/999/notes", json={"text": "hi"},
                       timeout=10).status_code == 404
    assert client.get(f"{console.url}/api/tickets/999/notes", timeout=10).status_code == 404
    assert console.client().get(f"{console.url}/api/tickets/{ticket_id}/notes",
                                timeout=10).status_code == 401
    other_origin = console.login("lan")
    other_origin.headers["Origin"] = "http://evil.example"
    assert other_origin.post(f"{console.url}/api/tickets/{ticket_id}/notes",
                             json={"text": "hi"}, timeout=10).status_code == 403
    assert "note on ticket" in caplog.text
    assert client.get(f"{console.url}/api/tickets/{ticket_id}/notes",
                      timeout=10).json()["notes"] == []


def test_notes_survive_a_restart(console, agent, store, rasa, db_path):
    from tests.console.conftest import ConsoleServer, console_settings

    ticket_id = seed(store, rasa)
    console.login("lan").post(f"{console.url}/api/tickets/{ticket_id}/notes",
                              json={"text": "ghi nhớ"}, timeout=10).raise_for_status()
    console.stop()
    again = ConsoleServer(console_settings(db_path, rasa.url)).start()
    try:
        notes = again.login("lan").get(f"{again.url}/api/tickets/{ticket_id}/notes",
                                       timeout=10).json()["notes"]
        assert [n["text"] for n in notes] == ["ghi nhớ"]
    finally:
        again.stop()
