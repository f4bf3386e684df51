"""The Zalo OA webhook on the real Rasa + action servers, replies to the OpenAPI stand-in."""
from __future__ import annotations

import json
import time

import requests

from bot.channels.zalo import ZaloInput, undelivered_messages, zalo_signature
from tests.channels.conftest import (ZALO_APP_ID, ZALO_OA_SECRET, db_rows,
                                     last_user_intent, new_id, rasa_log, stack_database_url,
                                     stack_tickets,
                                     wait_for_intent, zalo_event, zalo_post)


def test_signed_text_is_answered_with_a_consultation_message(channel_stack, zalo):
    user = new_id("u")
    started = time.monotonic()
    reply = zalo_post(channel_stack, zalo_event(user, text="xin chào"))
    assert reply.status_code == 200 and time.monotonic() - started < 2
    sent = zalo.wait_delivered_to(user)[0]
    assert sent.headers["access_token"] == zalo.valid_access_token
    assert sent.json == {"recipient": {"user_id": user}, "message": {
        "text": "Xin chào! Mình là trợ lý ảo của Hotro Shop. Mình có thể giúp gì cho bạn ạ?"}}


def test_wrong_or_missing_signature_gets_403_and_no_reply(channel_stack, zalo):
    users = []
    for signature in (None, "", "mac=", "mac=" + "0" * 64, "sha256=abc",
                      "bad-timestamp", "oa-secret-as-hmac"):
        user = new_id("u")
        users.append(user)
        event = zalo_event(user, text="xin chào")
        body = json.dumps(event).encode()
        if signature == "bad-timestamp":
            signature = zalo_signature(ZALO_APP_ID, body, "1", ZALO_OA_SECRET)
        elif signature == "oa-secret-as-hmac":
            signature = zalo_signature(ZALO_APP_ID, body, event["timestamp"], "other-secret")
        reply = zalo_post(channel_stack, body=body, signature=signature)
        assert reply.status_code == 403, (signature, reply.text)
    control = new_id("u")
    zalo_post(channel_stack, zalo_event(control, text="xin chào"))
    zalo.wait_delivered_to(control)
    assert all(zalo.messages_to(user) == [] for user in users)
    assert "rejected zalo webhook from 127.0.0.1 (403): wrong X-ZEvent-Signature" in \
        rasa_log(channel_stack)


def test_duplicates_echoes_and_receipts_get_no_reply(channel_stack, zalo):
    user = new_id("u")
    event = zalo_event(user, text="xin chào")
    assert zalo_post(channel_stack, event).json()["status"] == "ok"
    first = len(zalo.wait_delivered_to(user))
    assert zalo_post(channel_stack, event).json()["status"] == "duplicate"  # Zalo's retry
    for name in ("oa_send_text", "user_received_message", "user_seen_message", "follow"):
        reply = zalo_post(channel_stack, zalo_event(user, event_name=name, text="Xin chào!"))
        assert reply.json()["status"] == "ignored", name
    zalo_post(channel_stack, zalo_event(user, text="xin chào"))
    zalo.wait_delivered_to(user, 2 * first)
    time.sleep(1)
    assert len(zalo.messages_to(user)) == 2 * first
    [(count,)] = db_rows(channel_stack, "SELECT count(*) FROM channel_seen "
                         "WHERE channel = 'zalo' AND event_key = :key",
                         key=event["message"]["msg_id"])
    assert count == 1


def test_images_stickers_files_are_answered_by_the_bot_and_kept_in_the_tracker(channel_stack, zalo):
    user = new_id("u")
    kinds = [("user_send_image", {"attachments": [{"type": "image", "payload": {
                 "thumbnail": "https://x/t.jpg", "url": "https://x/p.jpg"}}]}),
             ("user_send_sticker", {"attachments": [{"type": "sticker", "payload": {
                 "id": "1", "url": "https://x/s.png"}}]}),
             ("user_send_location", {"attachments": [{"type": "location", "payload": {
                 "coordinates": {"latitude": "10.7", "longitude": "106.7"}}}]}),
             ("user_send_file", {}), ("user_send_audio", {})]
    for name, message in kinds:
        assert zalo_post(channel_stack, zalo_event(user, event_name=name, **message)
                         ).status_code == 200
    sent = zalo.wait_delivered_to(user, len(kinds))
    assert all(m.json["message"]["text"].startswith(
        "Xin lỗi, mình chỉ đọc được tin nhắn chữ") for m in sent)
    assert last_user_intent(channel_stack, user) == "unreadable"  # turns of the conversation
    tracker = requests.get(f"{channel_stack.rasa_url}/conversations/{user}/tracker", timeout=30).json()
    kinds_seen = [e["value"] for ev in tracker["events"] if ev.get("event") == "user"
                  for e in ev["parse_data"]["entities"] if e["entity"] == "kind"]
    assert sorted(kinds_seen) == ["audio", "file", "image", "location", "sticker"]


def test_a_sticker_in_an_english_conversation_gets_english_and_reaches_the_ticket(channel_stack, zalo):
    user = new_id("u")
    zalo_post(channel_stack, zalo_event(user, text="hi, I would like to know my order status"))
    zalo.wait_delivered_to(user)
    zalo_post(channel_stack, zalo_event(user, event_name="user_send_sticker", attachments=[
        {"type": "sticker", "payload": {"id": "1", "url": "https://x/s.png"}}]))
    wait_for_intent(channel_stack, user, "unreadable")
    zalo_post(channel_stack, zalo_event(user, text="I want to talk to a real person please"))
    wait_for_intent(channel_stack, user, "request_human")
    texts = [m.json["message"].get("text") or "" for m in zalo.wait_delivered_to(user, 3)]
    assert any(t.startswith("Sorry, I can only read text messages") for t in texts), texts
    assert not any(t.startswith("Xin lỗi, mình chỉ đọc") for t in texts), texts
    deadline = time.monotonic() + 30
    while (ticket := stack_tickets(channel_stack).latest_ticket_for(user)) is None:
        assert time.monotonic() < deadline, "no ticket"
        time.sleep(0.2)
    assert "[sticker]" in [line["text"] for line in ticket.transcript if line["role"] == "customer"]
    assert ticket.language == "en"




def test_numbered_buttons_and_the_reply_1_maps_to_the_payload(channel_stack, zalo):
    user = new_id("u")
    zalo_post(channel_stack, zalo_event(user, text="bạn là bot à"))
    asked = zalo.wait_delivered_to(user)[0]
    assert "\n1. Gặp nhân viên" in asked.json["message"]["text"]
    zalo_post(channel_stack, zalo_event(user, text="1"))
    wait_for_intent(channel_stack, user, "request_human")
    tracker = requests.get(f"{channel_stack.rasa_url}/conversations/{user}/tracker",
                           timeout=30).json()
    [*_, chosen] = [e for e in tracker["events"] if e.get("event") == "user"]
    assert chosen["text"] == "/request_human" and chosen["metadata"]["typed"] == "1"
    # the choice is used once: a later "1" is just text for the bot
    zalo_post(channel_stack, zalo_event(user, text="1"))
    deadline = time.monotonic() + 60
    while len([e for e in requests.get(
            f"{channel_stack.rasa_url}/conversations/{user}/tracker", timeout=30).json()["events"]
            if e.get("event") == "user"]) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    tracker = requests.get(f"{channel_stack.rasa_url}/conversations/{user}/tracker",
                           timeout=30).json()
    assert [e for e in tracker["events"] if e.get("event") == "user"][-1]["text"] == "1"


def test_expired_token_is_refreshed_and_the_rotated_pair_persisted(channel_stack, zalo,
                                                                  monkeypatch):
    user = new_id("u")
    old_refresh = zalo.valid_refresh_token
    zalo.expire_access_token()
    zalo_post(channel_stack, zalo_event(user, text="xin chào"))
    sent = zalo.wait_delivered_to(user)[0]
    assert sent.headers["access_token"] == zalo.valid_access_token
    assert zalo.valid_refresh_token != old_refresh
    refused = [r for r in zalo.messages_to(user) if r.answer.get("error") == -216]
    assert len(refused) == 1  # tried once with the dead token, then refreshed
    [(access, refresh)] = db_rows(channel_stack, "SELECT access_token, refresh_token FROM "
                                  "zalo_tokens WHERE app_id = :app", app=ZALO_APP_ID)
    assert (access, refresh) == (zalo.valid_access_token, zalo.valid_refresh_token)
    # What a restart would do with the same credentials file and database:
    monkeypatch.setenv("HOTRO_DATABASE_URL", stack_database_url(channel_stack))
    restarted = ZaloInput.from_credentials({
        "app_id": ZALO_APP_ID, "app_secret": "x", "oa_secret_key": ZALO_OA_SECRET,
        "access_token": "at-initial", "refresh_token": "rt-initial"})
    assert restarted.client.refresh_token == zalo.valid_refresh_token


def test_closed_window_is_recorded_as_undelivered_not_lost(channel_stack, zalo):
    user = new_id("u")
    zalo.user_errors[user] = (-230, "User has not interacted with the OA in the past 7 days")
    zalo_post(channel_stack, zalo_event(user, text="xin chào"))
    zalo.wait_for(lambda r: zalo._to(user)(r))
    deadline = time.monotonic() + 30
    while not undelivered_messages(user, stack_database_url(channel_stack)):
        assert time.monotonic() < deadline, "not recorded as undelivered"
        time.sleep(0.2)
    [row] = undelivered_messages(user, stack_database_url(channel_stack))
    assert row["text"].startswith("Xin chào!") and row["error_code"] == "-230"
    assert "messaging window closed" in rasa_log(channel_stack)
    # ... and a person sees it: it is on a ticket in the stack's ticket store.
    tickets = stack_tickets(channel_stack)
    while tickets.open_ticket_for(user) is None:
        assert time.monotonic() < deadline, "no ticket for the undelivered message"
        time.sleep(0.2)
    ticket = tickets.open_ticket_for(user)
    assert (ticket.reason, ticket.channel) == ("undelivered", "zalo")
    assert [m["text"] for m in tickets.undelivered(ticket.id)] == [row["text"]]


def test_agent_reply_goes_out_through_the_zalo_channel(channel_stack, zalo):
    user = new_id("u")
    zalo_post(channel_stack, zalo_event(user, text="xin chào"))
    zalo.wait_delivered_to(user)
    reply = requests.post(f"{channel_stack.rasa_url}/conversations/{user}/tracker/events",
                          params={"output_channel": "latest", "execute_side_effects": "true"},
                          json={"event": "bot", "text": "Mình là nhân viên, mình giúp bạn nhé.",
                                "metadata": {"agent": True}}, timeout=30)
    assert reply.status_code == 200
    assert zalo.wait_delivered_to(user, 2)[-1].json["message"]["text"] == \
        "Mình là nhân viên, mình giúp bạn nhé."
