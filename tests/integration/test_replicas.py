"""Two replicas (two Rasa servers, each with its own action server) on one PostgreSQL and
one Redis, as deploy/docker-compose.yml runs them: a conversation whose messages alternate
between the replicas goes on as if one server had it all, over REST, over the widget's
socket.io (a reload that lands on the other replica) and over Messenger's and Zalo's signed
webhooks (both replicas' channels talk to the Graph API's and Zalo OpenAPI's stand-ins). The
second turn of each flow depends on the first: a pick among suggestions (a quick reply, a
numbered choice kept in hotro's database), a second failure that hands over. A webhook that
Meta delivers to both replicas is answered once; a flood spread over both gets one budget."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional

import pytest
import requests
import yaml

from bot.handoff.store import TicketStore
from bot.limits import SENDER_BURST
from tests.channels.conftest import (channel_env, fb_body, fb_post, fb_text_event, new_id,
                                     standin_servers, zalo_event, zalo_post)
from tests.conftest import Customer, SocketCustomer
from tests.integration.conftest import grey_zone_question
from tests.production import production_stacks, running
from tests.standins.base import Recorded
from tests.standins.graph import GraphStandin


@pytest.fixture(scope="module")
def standins():
    """(Graph API stand-in, Zalo OpenAPI stand-in): both replicas' webhook channels use them."""
    with standin_servers() as servers:
        yield servers


@pytest.fixture(scope="module")
def replicas(model, stack_settings, new_postgres_database, redis_url, standins, tmp_path_factory):
    """(replica A, replica B, hotro's database): nobody is online in its console."""
    database = new_postgres_database()
    settings = yaml.safe_load(stack_settings.read_text(encoding="utf-8"))
    stacks = production_stacks(model, settings, database, new_postgres_database(), redis_url,
                               tmp_path_factory.mktemp("replicas"), replicas=2)
    for stack in stacks:
        stack.extra_env.update(channel_env(*standins))
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


def settled(sent, count: int) -> List[Recorded]:
    """`sent()` (what reached a stand-in for one customer) once it has more than `count`
    and nothing more came for a second: the whole of a turn's replies."""
    deadline = time.monotonic() + 60
    while len(sent()) <= count:
        assert time.monotonic() < deadline, f"no reply after {count} messages: {sent()}"
        time.sleep(0.1)
    while True:
        before = len(sent())
        time.sleep(1)
        if len(sent()) == before:
            return sent()


def messenger_turn(stack, graph: GraphStandin, psid: str, text: str,
                   quick_reply: Optional[str] = None) -> List[dict]:
    """A signed webhook with the customer's message to `stack`; the messages of the page's
    answer that the Graph API stand-in accepted for the customer."""
    before = len(graph.delivered_to(psid))
    posted = fb_post(stack, fb_body(fb_text_event(psid, text, quick_reply=quick_reply)))
    assert posted.status_code == 200, posted.text
    return [r.json["message"] for r in settled(lambda: graph.delivered_to(psid), before)[before:]]


def test_a_messenger_conversation_alternating_between_replicas(replicas, standins):
    a, b, _ = replicas
    graph, _ = standins
    grey_zone = grey_zone_question(b)
    psid = new_id("psid")
    greeted = messenger_turn(a, graph, psid, "chào shop")
    assert "Xin chào" in greeted[0]["text"], greeted
    offered = messenger_turn(b, graph, psid, grey_zone)
    assert offered[0]["text"].startswith("Bạn muốn hỏi về nội dung nào"), offered
    # the suggestions are the last message's quick replies; a tap sends title and payload
    pick = next(q for q in offered[-1]["quick_replies"] if "shipping-fee" in q["payload"])
    answered = messenger_turn(a, graph, psid, pick["title"], quick_reply=pick["payload"])
    assert "20.000đ nội thành" in " ".join(m.get("text", "") for m in answered), answered

    # each turn's replies came after the last turn's (the slices above), and nothing else:
    # no second answer from the other replica, no message the stand-in refused
    assert len(graph.messages_to(psid)) == len(greeted + offered + answered)
    assert user_texts(a, psid) == ["chào shop", grey_zone, pick["payload"]]
    assert json.dumps(tracker(a, psid)["events"]) == json.dumps(tracker(b, psid)["events"])


def test_a_webhook_delivered_to_both_replicas_is_answered_once(replicas, standins):
    a, b, _ = replicas
    graph, _ = standins
    psid = new_id("psid")
    body = fb_body(fb_text_event(psid, "chào shop"))  # one mid, delivered twice (Meta retries)
    with ThreadPoolExecutor(2) as pool:
        statuses = [r.status_code for r in pool.map(lambda stack: fb_post(stack, body), (a, b))]
    assert statuses == [200, 200]
    answered = [r.json["message"].get("text", "") for r in settled(
        lambda: graph.delivered_to(psid), 0)]
    assert sum("Xin chào" in text for text in answered) == 1, answered
    assert user_texts(a, psid) == user_texts(b, psid) == ["chào shop"]


def test_a_numbered_choice_offered_on_zalo_by_one_replica_is_read_by_the_other(
        replicas, standins):
    a, b, _ = replicas
    _, zalo = standins
    grey_zone = grey_zone_question(a)
    buttons = [button for m in Customer(a).say(grey_zone) for button in m.get("buttons") or []]
    user = new_id("u")
    assert zalo_post(a, zalo_event(user, text=grey_zone)).json() == {"status": "ok"}
    offered = [r.json["message"]["text"] for r in settled(lambda: zalo.delivered_to(user), 0)]
    assert any(f"\n2. {buttons[1]['title']}" in text for text in offered), (buttons, offered)

    assert zalo_post(b, zalo_event(user, text="2")).json() == {"status": "ok"}
    settled(lambda: zalo.delivered_to(user), len(offered))  # the answer reached the customer
    chosen = [e for e in tracker(b, user)["events"] if e["event"] == "user"][-1]
    assert (chosen["text"], chosen["metadata"]["typed"]) == (buttons[1]["payload"], "2"), chosen
    assert chosen["parse_data"]["intent"]["name"] == "ask_question"


def test_a_flood_spread_over_both_replicas_gets_one_senders_budget(replicas):
    """30 messages of one sender at once, alternating replicas: the burst of 20 passes, the
    rest are refused with 429 (each replica counting alone would have let all 30 through);
    another customer is still answered."""
    a, b, _ = replicas
    sender = new_id("flood")

    def post(i: int) -> int:
        stack = a if i % 2 == 0 else b
        return requests.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": f"alo {i}"}, timeout=120).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(post, range(30)))
    assert codes.count(429) >= 30 - SENDER_BURST - 2  # a second's refill may let one or two more in
    assert codes.count(200) + codes.count(429) == 30
    reply = Customer(b, new_id("calm")).say("phí vận chuyển bao nhiêu")
    assert reply and reply[0].get("text")
