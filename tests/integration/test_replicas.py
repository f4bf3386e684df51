"""Two replicas (two Rasa servers, each with its own action server) on one PostgreSQL and
one Redis, as deploy/docker-compose.yml runs them: a conversation whose messages alternate
between the replicas goes on as if one server had it all, over REST and over the widget's
socket.io (a reload that lands on the other replica). The second turn of each flow depends
on the first: a pick among suggestions, a second failure that hands over.

(Messenger and Zalo keep their channel state in a per-host file for now, so their webhooks
are not alternated here.)"""
from __future__ import annotations

import json

import pytest
import requests
import yaml

from bot.handoff.store import TicketStore
from tests.conftest import Customer, SocketCustomer
from tests.integration.conftest import grey_zone_question
from tests.production import production_stacks, running



@pytest.fixture(scope="module")
def replicas(model, stack_settings, new_postgres_database, redis_url, tmp_path_factory):
    """(replica A, replica B, hotro's database): nobody is online in its console."""
    database = new_postgres_database()
    settings = yaml.safe_load(stack_settings.read_text(encoding="utf-8"))
    stacks = production_stacks(model, settings, database, new_postgres_database(), redis_url,
                               tmp_path_factory.mktemp("replicas"), replicas=2)
    with running(stacks) as (a, b):
        yield a, b, database


def tracker(stack, sender):
    reply = requests.get(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=30)
    reply.raise_for_status()
    return reply.json()


def user_texts(stack, sender):
    return [e["text"] for e in tracker(stack, sender)["events"] if e["event"] == "user"]


def suggestions(reply):
    return [b["payload"] for m in reply for b in m.get("buttons") or []
            if b["payload"].startswith("/ask_question")]


def test_a_suggestion_offered_by_one_replica_is_picked_on_the_other(replicas):
    a, b, _ = replicas
    on_a = Customer(a)
    on_b = Customer(b, on_a.sender)  # the same conversation, through the other server
    grey_zone = grey_zone_question(b)
    assert "Xin chào" in on_a.says_text("chào shop")
    offered = on_b.say(grey_zone)
    assert offered[0]["text"].startswith("Bạn muốn hỏi về nội dung nào"), offered
    pick = next(p for p in suggestions(offered) if "shipping-fee" in p)
    assert "20.000đ nội thành" in on_a.says_text(pick)
    # teencode, then English: the conversation's language follows on either replica
    assert "300.000đ" in on_b.says_text("mua bn tien thi dc freeship z shop")
    assert "Standard delivery" in on_a.says_text("how much is delivery?")
    said = ["chào shop", grey_zone, pick, "mua bn tien thi dc freeship z shop",
            "how much is delivery?"]
    assert user_texts(a, on_a.sender) == user_texts(b, on_a.sender) == said


def test_two_failures_on_two_replicas_open_one_ticket_with_the_whole_transcript(replicas):
    a, b, database = replicas
    on_a = Customer(a)
    on_b = Customer(b, on_a.sender)
    first = on_a.say("chim se dau canh cay")
    assert "/request_human" in [b["payload"] for b in first[0].get("buttons", [])]
    assert "chưa có nhân viên trực tuyến" in on_b.says_text("ca vang boi trong ho")

    tickets = TicketStore(database)
    mine = [t for t in tickets.list() if t.conversation_id == on_a.sender]
    assert len(mine) == 1 and mine[0].reason == "bot_failed_twice", mine
    said = [line["text"] for line in mine[0].transcript if line["role"] == "customer"]
    assert said == ["chim se dau canh cay", "ca vang boi trong ho"], mine[0].transcript

    # Asking for a person again, on replica A, finds the same ticket rather than a second.
    assert on_a.says_text("cho mình gặp nhân viên")
    assert [t.id for t in tickets.list() if t.conversation_id == on_a.sender] == [mine[0].id]


def test_the_widget_goes_on_after_a_reload_onto_the_other_replica(replicas):
    a, b, _ = replicas
    grey_zone = grey_zone_question(a)
    tab = SocketCustomer(a)
    try:
        assert tab.say("chao shop") == {"ok": True}
        tab.wait_for("Xin chào")
        assert tab.say(grey_zone) == {"ok": True}
        offer = tab.wait_for("Bạn muốn hỏi về nội dung nào")
    finally:
        tab.close()
    pick = next(q for q in offer["quick_replies"] if "shipping-fee" in q["payload"])

    reloaded = SocketCustomer.resume(b, tab.session_id)  # the widget keeps its session id
    try:
        assert reloaded.session_id == tab.session_id
        shown = requests.get(f"{b.rasa_url}/webhooks/widget/history", timeout=30,
                             params={"session_id": tab.session_id}).json()
        texts = [m["text"] for m in shown["messages"]]
        assert "chao shop" in texts and grey_zone in texts, shown
        assert reloaded.say(pick["payload"], title=pick["title"]) == {"ok": True}
        reloaded.wait_for("20.000đ nội thành")
    finally:
        reloaded.close()
    assert user_texts(a, tab.session_id) == ["chao shop", grey_zone, pick["payload"]]
    assert json.dumps(tracker(a, tab.session_id)["events"]) == json.dumps(
        tracker(b, tab.session_id)["events"])
