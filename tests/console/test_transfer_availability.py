"""Transferring a ticket to a colleague, and the agent's available/away toggle that the
handoff decision and the queue estimate count (TicketStore.agents_online)."""
from __future__ import annotations

import logging

from tests.console.conftest import PASSWORD
from tests.console.test_api import seed


def transfer(client, console, ticket_id, **body):
    return client.post(f"{console.url}/api/tickets/{ticket_id}/transfer", json=body,
                       timeout=10)


def test_the_holder_hands_the_ticket_to_a_colleague_with_a_note(console, agent, store, rasa):
    ticket_id = seed(store, rasa)
    console.users.add_user("hoa", PASSWORD, "agent", "Trần Thị Hoa")
    lan = console.login("lan")
    lan.post(f"{console.url}/api/tickets/{ticket_id}/assign", json={}, timeout=10)
    moved = transfer(lan, console, ticket_id, to="hoa", note="Khách cần đổi size, kho Q3")
    assert moved.status_code == 200, moved.text
    assert moved.json()["ticket"]["assigned_to"] == "hoa" == store.get(ticket_id).assigned_to
    notes = lan.get(f"{console.url}/api/tickets/{ticket_id}/notes", timeout=10).json()["notes"]
    assert notes[-1]["author"] == "lan"
    assert "Trần Thị Hoa (hoa)" in notes[-1]["text"] and "kho Q3" in notes[-1]["text"]
    assert rasa.state("cust-1")["paused"]  # a person still has the conversation
    assert not any("kho Q3" in str(e) for e in rasa.state("cust-1")["events"])
    # Now Hoa's: Lan may no longer reply or transfer it back.
    assert lan.post(f"{console.url}/api/tickets/{ticket_id}/reply", json={"text": "hi"},
                    timeout=10).status_code == 409
    assert transfer(lan, console, ticket_id, to="lan").status_code == 409
    hoa = console.login("hoa")
    assert hoa.post(f"{console.url}/api/tickets/{ticket_id}/reply", json={"text": "Dạ em Hoa"},
                    timeout=10).status_code == 200
    agents = {a["username"]: a for a in hoa.get(f"{console.url}/api/agents",
                                                 timeout=10).json()["agents"]}
    assert set(agents) == {"lan", "hoa"} and agents["hoa"]["display_name"] == "Trần Thị Hoa"


def test_a_lead_reassigns_any_ticket_and_bad_transfers_are_refused(console, agent, store,
                                                                   rasa, caplog):
    caplog.set_level(logging.WARNING, logger="bot.console")
    ticket_id = seed(store, rasa)
    console.users.add_user("hoa", PASSWORD, "agent")
    console.users.add_user("truong", PASSWORD, "lead")
    console.users.add_user("bien", PASSWORD, "editor")
    store.assign(ticket_id, "lan")
    lead = console.login("truong")
    assert transfer(lead, console, ticket_id, to="hoa").json()["ticket"]["assigned_to"] == "hoa"
    for body, status in [({"to": "bien"}, 400), ({"to": "khong-co"}, 400), ({}, 400),
                         ({"to": 5}, 400), ({"to": "hoa"}, 400),
                         ({"to": "lan", "note": "x" * 2001}, 400)]:
        assert transfer(lead, console, ticket_id, **body).status_code == status, body
    assert transfer(console.login("bien"), console, ticket_id, to="lan").status_code == 403
    assert transfer(lead, console, 999, to="lan").status_code == 404
    store.resolve(ticket_id)
    assert transfer(lead, console, ticket_id, to="lan").status_code == 409
    assert "transfer by truong refused" in caplog.text


def test_an_away_agent_is_not_counted_online(console, agent, store):
    console.users.add_user("hoa", PASSWORD, "agent")
    lan, hoa = console.login("lan"), console.login("hoa")
    for client in (lan, hoa):
        client.get(f"{console.url}/", timeout=10).raise_for_status()  # both in the console
    assert store.agents_online() == 2
    state = lan.post(f"{console.url}/api/availability", json={"available": False}, timeout=10)
    assert state.json() == {"available": False, "online": 1}
    assert store.agents_online() == 1  # what hand_off and the queue estimate count
    lan.get(f"{console.url}/", timeout=10)  # still in the console: still away
    assert store.agents_online() == 1
    agents = {a["username"]: a for a in hoa.get(f"{console.url}/api/agents",
                                                 timeout=10).json()["agents"]}
    assert agents["lan"]["available"] is False and agents["lan"]["online"] is False
    assert agents["hoa"]["online"] is True
    hoa.post(f"{console.url}/api/availability", json={"available": False}, timeout=10)
    assert store.agents_online() == 0
    assert lan.post(f"{console.url}/api/availability", json={"available": True},
                    timeout=10).json() == {"available": True, "online": 1}
    assert lan.get(f"{console.url}/api/availability", timeout=10).json()["available"] is True


def test_availability_bad_input_and_roles(console, agent):
    console.users.add_user("bien", PASSWORD, "editor")
    lan = console.login("lan")
    for body in ({"available": "no"}, {}, [True], {"available": 0}):
        assert lan.post(f"{console.url}/api/availability", json=body,
                        timeout=10).status_code == 400, body
    assert console.login("bien").post(f"{console.url}/api/availability",
                                      json={"available": False}, timeout=10).status_code == 403
    assert console.client().get(f"{console.url}/api/availability",
                                timeout=10).status_code == 401


def test_handing_back_to_the_bot_resumes_it_and_requeues_the_ticket(console, agent, store,
                                                                    rasa, caplog):
    caplog.set_level(logging.WARNING, logger="bot.console")
    ticket_id = seed(store, rasa)
    console.users.add_user("hoa", PASSWORD, "agent")
    lan = console.login("lan")
    lan.post(f"{console.url}/api/tickets/{ticket_id}/assign", json={}, timeout=10)
    assert rasa.state("cust-1")["paused"]
    url = f"{console.url}/api/tickets/{ticket_id}/handback"
    assert console.login("hoa").post(url, json={}, timeout=10).status_code == 409  # Lan's
    rasa.fail_posts = 1
    failed = lan.post(url, json={}, timeout=10)
    assert failed.status_code == 502 and store.get(ticket_id).assigned_to == "lan"
    back = lan.post(url, json={"note": "Khách chỉ hỏi phí ship"}, timeout=10)
    assert back.status_code == 200, back.text
    assert not rasa.state("cust-1")["paused"]  # the bot answers again
    # ...to the customer's next message: Rasa's rules read a turn after action_listen.
    assert rasa.recorded(lambda r: r.method == "POST")[-1].json == [
        {"event": "resume"}, {"event": "action", "name": "action_listen"}]
    ticket = store.get(ticket_id)
    assert ticket.status == "waiting" and ticket.assigned_to is None
    notes = lan.get(f"{console.url}/api/tickets/{ticket_id}/notes", timeout=10).json()["notes"]
    assert notes[-1]["text"] == "Trả lại cho bot / Handed back to the bot: Khách chỉ hỏi phí ship"
    assert lan.post(url, json={"note": 5}, timeout=10).status_code == 400
    store.resolve(ticket_id)
    assert lan.post(url, json={}, timeout=10).status_code == 409
    assert "hand-back by" in caplog.text
