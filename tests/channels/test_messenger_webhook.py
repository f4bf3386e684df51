"""The Messenger webhook on the real Rasa + action servers, replies to the Graph stand-in."""
from __future__ import annotations

import json
import time

import requests

from bot.channels.messenger import signature_256
from tests.channels.conftest import (FB_APP_SECRET, FB_VERIFY_TOKEN, db_rows, fb_body,
                                     fb_post, fb_text_event, last_user_intent, new_id, rasa_log,
                                     wait_for_intent)


def test_verify_token_handshake(channel_stack):
    url = f"{channel_stack.rasa_url}/webhooks/facebook/webhook"
    ok = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": FB_VERIFY_TOKEN,
                                   "hub.challenge": "1158201444"}, timeout=30)
    assert (ok.status_code, ok.text) == (200, "1158201444")
    for params in ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
                   {"hub.mode": "unsubscribe", "hub.verify_token": FB_VERIFY_TOKEN,
                    "hub.challenge": "1"},
                   {"hub.challenge": "1"}, {}):
        refused = requests.get(url, params=params, timeout=30)
        assert refused.status_code == 403 and "1" not in refused.text


def test_signed_message_is_answered_through_the_send_api(channel_stack, graph):
    psid = new_id("psid")
    reply = fb_post(channel_stack, fb_body(fb_text_event(psid, "xin chào")))
    assert (reply.status_code, reply.text) == (200, "EVENT_RECEIVED")
    sent = graph.wait_messages_to(psid)[0]
    assert sent.query["access_token"] == "page-token-standin"
    assert sent.path == "/v19.0/me/messages"
    assert sent.json["messaging_type"] == "RESPONSE" and "tag" not in sent.json
    assert sent.json["message"]["text"].startswith("Xin chào!")
    # Rasa's conversation remembers which channel the customer came from
    tracker = requests.get(f"{channel_stack.rasa_url}/conversations/{psid}/tracker",
                           timeout=30).json()
    assert tracker["latest_input_channel"] == "facebook"


def test_wrong_or_missing_signature_gets_403_and_no_reply(channel_stack, graph):
    senders, log_before = [], rasa_log(channel_stack).count("rejected messenger webhook")
    cases = [None, "", "sha256=" + "0" * 64, signature_256("not-the-secret", b"x"),
             "sha1=" + "0" * 40, "sign-other-body"]
    for signature in cases:
        psid = new_id("psid")
        senders.append(psid)
        body = fb_body(fb_text_event(psid, "xin chào"))
        if signature == "sign-other-body":
            signature = signature_256(FB_APP_SECRET, body + b" ")
        reply = fb_post(channel_stack, body, signature=signature)
        assert reply.status_code == 403, (signature, reply.text)
        assert "signature" in reply.json()["error"].lower()
    # A signed message sent afterwards is answered; none of the refused ones ever is.
    control = new_id("psid")
    fb_post(channel_stack, fb_body(fb_text_event(control, "xin chào")))
    graph.wait_messages_to(control)
    assert all(graph.messages_to(psid) == [] for psid in senders)
    assert rasa_log(channel_stack).count("rejected messenger webhook") >= log_before + len(cases)


def test_redelivered_events_and_echoes_get_no_second_reply(channel_stack, graph):
    psid = new_id("psid")
    event = fb_text_event(psid, "xin chào")
    body = fb_body(event)
    assert fb_post(channel_stack, body).status_code == 200
    first = len(graph.wait_messages_to(psid))
    assert fb_post(channel_stack, body).status_code == 200  # Meta redelivers the same event
    echo = {"sender": {"id": "PAGE_ID"}, "recipient": {"id": psid}, "timestamp": 1,
            "message": {"mid": new_id("m_"), "is_echo": True, "text": "Xin chào!"}}
    receipts = [{"sender": {"id": psid}, "recipient": {"id": "PAGE_ID"},
                 "delivery": {"mids": [event["message"]["mid"]], "watermark": 1}},
                {"sender": {"id": psid}, "recipient": {"id": "PAGE_ID"},
                 "read": {"watermark": 1}}]
    assert fb_post(channel_stack, fb_body(echo, *receipts)).status_code == 200
    # a new message afterwards: its answer comes after anything the duplicate would cause
    fb_post(channel_stack, fb_body(fb_text_event(psid, "xin chào")))
    graph.wait_messages_to(psid, 2 * first)
    time.sleep(1)
    assert len(graph.messages_to(psid)) == 2 * first
    assert "ignored duplicate messenger event" in rasa_log(channel_stack)


def test_quick_reply_and_postback_payloads_are_processed_as_the_buttons_intent(
        channel_stack, graph):
    psid = new_id("psid")
    fb_post(channel_stack, fb_body(fb_text_event(psid, "bạn là bot à")))
    asked = graph.wait_messages_to(psid)[0]
    assert asked.json["message"]["quick_replies"] == [
        {"content_type": "text", "title": "Gặp nhân viên", "payload": "/request_human"}]
    # The customer taps the quick reply: Messenger sends its title as text, payload aside.
    fb_post(channel_stack, fb_body(fb_text_event(psid, "Gặp nhân viên",
                                                 quick_reply="/request_human")))
    wait_for_intent(channel_stack, psid, "request_human")

    other = new_id("psid")
    postback = {"sender": {"id": other}, "recipient": {"id": "PAGE_ID"}, "timestamp": 2,
                "postback": {"title": "Bắt đầu", "payload": "/greet", "mid": new_id("m_")}}
    fb_post(channel_stack, fb_body(postback))
    assert graph.wait_messages_to(other)[0].json["message"]["text"].startswith("Xin chào!")
    assert last_user_intent(channel_stack, other) == "greet"


def test_a_photo_or_sticker_is_answered_by_the_bot_in_the_conversations_language(channel_stack, graph):
    psid = new_id("psid")
    photo = {"sender": {"id": psid}, "recipient": {"id": "PAGE_ID"}, "timestamp": 3,
             "message": {"mid": new_id("m_"), "attachments": [
                 {"type": "image", "payload": {"url": "https://cdn.example/p.jpg"}}]}}
    fb_post(channel_stack, fb_body(photo))
    sent = graph.wait_messages_to(psid)[0]
    assert sent.json["message"]["text"].startswith("Xin lỗi, mình chỉ đọc được tin nhắn chữ")
    assert "Sorry" not in sent.json["message"]["text"]
    wait_for_intent(channel_stack, psid, "unreadable")  # a turn of the conversation, in the tracker

    english = new_id("psid")
    fb_post(channel_stack, fb_body(fb_text_event(english, "hello, where is my order please")))
    graph.wait_messages_to(english)
    sticker = {"sender": {"id": english}, "recipient": {"id": "PAGE_ID"}, "timestamp": 4,
               "message": {"mid": new_id("m_"), "sticker_id": 369239263222822, "attachments": [
                   {"type": "image", "payload": {"url": "https://cdn.example/like.png", "sticker_id": 1}}]}}
    fb_post(channel_stack, fb_body(sticker))
    texts = lambda: [m.json["message"].get("text") or "" for m in graph.wait_messages_to(english)]  # noqa: E731
    deadline = time.monotonic() + 60
    while not any(t.startswith("Sorry, I can only read text messages") for t in texts()):
        assert time.monotonic() < deadline, texts()
        time.sleep(0.2)
    assert not any(t.startswith("Xin lỗi, mình chỉ đọc") for t in texts())


def test_agent_reply_after_24_hours_uses_the_human_agent_tag(channel_stack, graph):
    psid = new_id("psid")
    fb_post(channel_stack, fb_body(fb_text_event(psid, "xin chào")))
    graph.wait_messages_to(psid)
    time.sleep(0.5)
    greeting = len(graph.delivered_to(psid))

    def agent_says(text: str, agent: bool = True) -> None:
        event = {"event": "bot", "text": text, "metadata": {"agent": True} if agent else {}}
        reply = requests.post(
            f"{channel_stack.rasa_url}/conversations/{psid}/tracker/events",
            params={"output_channel": "facebook", "execute_side_effects": "true"},
            json=event, timeout=30)
        assert reply.status_code == 200, reply.text

    agent_says("Chào bạn, mình là nhân viên Hotro Shop.")
    # the customer's last message, as stored by the server, is now 25 hours old
    [(at,)] = db_rows(channel_stack,
                      "SELECT at FROM messenger_last_inbound WHERE sender = :psid", psid=psid)
    assert abs(at - time.time()) < 120
    db_rows(channel_stack, "UPDATE messenger_last_inbound SET at = :at WHERE sender = :psid",
            at=time.time() - 25 * 3600, psid=psid)
    agent_says("Đơn hàng của bạn đã được hoàn tiền.")
    agent_says("(bot) Cảm ơn bạn!", agent=False)

    sent = graph.wait_messages_to(psid, greeting + 3)
    kinds = [(m.json["message"]["text"], m.json["messaging_type"], m.json.get("tag"))
             for m in sent[greeting:]]
    assert kinds == [("Chào bạn, mình là nhân viên Hotro Shop.", "RESPONSE", None),
                     ("Đơn hàng của bạn đã được hoàn tiền.", "MESSAGE_TAG", "HUMAN_AGENT"),
                     ("(bot) Cảm ơn bạn!", "RESPONSE", None)]
    # the agent's messages are in the one transcript, the tracker
    tracker = requests.get(f"{channel_stack.rasa_url}/conversations/{psid}/tracker",
                           timeout=30).json()
    assert [e["text"] for e in tracker["events"] if e.get("event") == "bot"
            and (e.get("metadata") or {}).get("agent")] == [
        "Chào bạn, mình là nhân viên Hotro Shop.", "Đơn hàng của bạn đã được hoàn tiền."]


def test_batched_events_are_all_answered(channel_stack, graph):
    first, second = new_id("psid"), new_id("psid")
    body = json.dumps({"object": "page", "entry": [
        {"id": "PAGE_ID", "time": 1, "messaging": [fb_text_event(first, "xin chào")]},
        {"id": "PAGE_ID", "time": 1, "messaging": [fb_text_event(second, "hello")]}]},
        ensure_ascii=False).encode()
    assert fb_post(channel_stack, body).status_code == 200
    graph.wait_messages_to(first)
    graph.wait_messages_to(second)


def test_a_flood_from_one_customer_is_dropped_with_one_notice_and_others_are_answered(channel_stack, graph):
    from bot.limits import SENDER_BURST

    flooder, other = new_id("psid"), new_id("psid")
    # One webhook call carrying far more messages than anyone types: a script's flood.
    events = [fb_text_event(flooder, f"spam {i}") for i in range(3 * SENDER_BURST)]
    body = json.dumps({"object": "page", "entry": [{"id": "PAGE_ID", "time": 1, "messaging": events}]},
                      ensure_ascii=False).encode()
    assert fb_post(channel_stack, body).status_code == 200  # acknowledged: Facebook must not resend
    assert fb_post(channel_stack, fb_body(fb_text_event(other, "xin chào"))).status_code == 200
    graph.wait_messages_to(other)  # another customer is answered meanwhile
    notice = graph.wait_for(lambda r: isinstance(r.json, dict)
                            and (r.json.get("recipient") or {}).get("id") == flooder
                            and "nhanh quá" in ((r.json.get("message") or {}).get("text") or ""), 1, 120)
    assert len(notice) == 1 and "faster than I can read" in notice[0].json["message"]["text"]
    assert rasa_log(channel_stack).count("dropped messenger message") >= 2 * SENDER_BURST - 5
