"""The console's ticket rules (bot/console/tickets.py), without a server: who may take,
reply to and resolve a ticket, and what each refusal tells the agent."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.console.auth import User
from bot.console.tickets import (CLAIM, KEEP, RESOLVE, RETRY_RESUME, TAKE_OVER, Refused,
                                 assignment, check_claimed, check_may_reply,
                                 check_works_tickets, reply_text, resolution)
from bot.handoff.store import OPEN, RESOLVED, WAITING, Ticket

NOW = datetime(2026, 11, 30, 9, 0)


def person(username: str, role: str) -> User:
    return User(1, username, username.title(), role, True, NOW, None)


def ticket(status: str = WAITING, assigned_to=None) -> Ticket:
    return Ticket(7, "cust-1", "socketio", None, "vi", "request_human", status, NOW,
                  assigned_to, NOW if assigned_to else None, None, None, None, [])


LAN, HOA = person("lan", "agent"), person("hoa", "agent")
LEAD, EDITOR = person("minh", "lead"), person("thu", "editor")


def refusal(call, *args) -> Refused:
    with pytest.raises(Refused) as caught:
        call(*args)
    return caught.value


def test_an_editor_only_looks():
    assert refusal(check_works_tickets, EDITOR).status == 403
    for user in (LAN, LEAD, person("boss", "admin")):
        check_works_tickets(user)


def test_assigning_a_free_ticket_claims_it_and_ones_own_is_kept():
    assert assignment(LAN, ticket()) == CLAIM
    assert assignment(LAN, ticket(OPEN, "lan")) == KEEP


def test_a_ticket_held_by_another_agent_is_refused_with_who_holds_it():
    held = ticket(OPEN, "hoa")
    refused = refusal(assignment, LAN, held)
    assert refused.status == 409 and refused.extra == {"assigned_to": "hoa"}
    assert "hoa" in refused.message
    assert refusal(check_may_reply, LAN, held).status == 409
    assert refusal(resolution, LAN, held, False).status == 409


def test_a_lead_takes_over_replies_and_resolves_anothers_ticket():
    held = ticket(OPEN, "hoa")
    assert assignment(LEAD, held) == TAKE_OVER
    check_may_reply(LEAD, held)
    assert resolution(LEAD, held, False) == RESOLVE


def test_losing_the_race_for_a_ticket_is_a_409():
    assert check_claimed(LAN, ticket(OPEN, "lan")).assigned_to == "lan"
    assert refusal(check_claimed, LAN, ticket(OPEN, "hoa")).extra == {"assigned_to": "hoa"}
    # Resolved meanwhile: nobody got it.
    assert refusal(check_claimed, LAN, ticket(RESOLVED)).message == \
        "Yêu cầu đã thay đổi / Ticket changed"
    assert refusal(check_claimed, LAN, None).status == 404


def test_a_resolved_ticket_is_not_taken_or_answered_and_resolved_once():
    done = ticket(RESOLVED, "lan")
    assert refusal(assignment, LAN, done).status == 409
    assert refusal(check_may_reply, LAN, done).status == 409
    refused = refusal(resolution, LAN, done, False)  # would ask for a rating twice
    assert refused.status == 409 and refused.extra["ticket"]["id"] == 7
    assert resolution(LAN, done, True) == RETRY_RESUME  # the bot was not resumed: retry


@pytest.mark.parametrize("value", [None, "", "   \n ", 42, ["hi"]])
def test_an_empty_reply_is_a_400(value):
    assert refusal(reply_text, value).status == 400


def test_a_reply_is_sent_trimmed_in_nfc_and_at_most_4000_characters():
    assert reply_text("  Cho\u0300 mi\u0300nh xem\r\nnhé  ") == "Chò mình xem\nnhé"
    assert len(reply_text("a" * 4000)) == 4000
    too_long = refusal(reply_text, "a" * 4001)
    assert too_long.status == 400 and "4000" in too_long.message
