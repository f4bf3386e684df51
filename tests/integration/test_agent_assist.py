"""Agent assist through the real stack: the console process searches the FAQ the bot serves
(the published store version), for the customer's latest message, and the answer the agent
sends from it reaches the customer on the widget."""
from __future__ import annotations

import time

from tests.integration.conftest import console_open


def test_the_agent_sends_the_suggested_answer_and_the_customer_gets_it(
        stack, agent, tickets, socket_customer, wait_ticket):
    console = stack.console_url
    with console_open(stack, agent, tickets):  # an agent online: the handoff pauses the bot
        socket_customer.send("cho mình gặp nhân viên với")
        socket_customer.wait_for("đã chuyển bạn đến nhân viên")
        ticket = wait_ticket(socket_customer.session_id)
        socket_customer.send("phi ship ve ha noi bao nhieu vay shop")  # to the agent now
        deadline = time.monotonic() + 60
        while True:  # until the customer's message is in the tracker
            found = agent.get(f"{console}/api/tickets/{ticket.id}/suggestions", timeout=120)
            assert found.status_code == 200, found.text
            found = found.json()
            if (found["message"] or {}).get("text") == "phi ship ve ha noi bao nhieu vay shop":
                break
            assert time.monotonic() < deadline, found
            time.sleep(0.5)
        top = found["suggestions"][0]
        assert top["entry_id"] == "shipping-fee" and "20.000đ" in top["answer"]
        reply = "Dạ " + top["answer"]
        agent.post(f"{console}/api/tickets/{ticket.id}/reply", json={"text": reply},
                   timeout=30).raise_for_status()
        assert socket_customer.wait_for(reply)["text"] == reply
        # The bot had said nothing to the question: the agent has the conversation.
        assert sum("20.000đ" in (m.get("text") or "") for m in socket_customer.received) == 1
