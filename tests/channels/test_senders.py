"""The output channels against the stand-in APIs, without Rasa: message tags, token
refresh and rotation, retries, and nothing lost when a message cannot be delivered."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from bot.channels.messenger import (GraphClient, MessengerInput, MessengerOutput,
                                    MessengerStore, undelivered_messages as fb_undelivered)
from bot.channels.zalo import ZaloInput, ZaloStore, undelivered_messages
from bot.handoff.store import TicketStore, ticket_store
from bot.stack import free_port
from tests.standins.graph import GraphStandin
from tests.standins.zalo import ZaloStandin

DAY = 24 * 3600


def run(out: Any, method: str, *args: Any) -> Any:
    """`out.method(*args)` in a fresh event loop, closing the channel's HTTP session after."""
    async def with_cleanup() -> Any:
        try:
            return await getattr(out, method)(*args)
        finally:
            await out.client.close()
    return asyncio.run(with_cleanup())


@pytest.fixture
def graph() -> Iterator[GraphStandin]:
    server = GraphStandin("page-token").start()
    yield server
    server.stop()


@pytest.fixture
def zalo() -> Iterator[ZaloStandin]:
    server = ZaloStandin("app-1", "app-secret", "at-0", "rt-0").start()
    yield server
    server.stop()


# ---------------------------------------------------------------- Messenger

def messenger(graph: GraphStandin, now: float) -> MessengerOutput:
    client = GraphClient("page-token", f"{graph.url}/v19.0", retry_backoff=0.01)
    return MessengerOutput(client, MessengerStore(), clock=lambda: now)


def sent_types(graph: GraphStandin, psid: str):
    return [(r.json["messaging_type"], r.json.get("tag")) for r in graph.messages_to(psid)]


def test_agent_messages_past_24_hours_carry_the_human_agent_tag(graph):
    now = time.time()
    MessengerStore().record_inbound("recent", now - 3600)
    MessengerStore().record_inbound("old", now - DAY - 60)
    out = messenger(graph, now)

    for psid in ("recent", "old", "unknown"):
        run(out, "send_response", psid, {"text": "Chào anh, em là nhân viên.", "agent": True})
        run(out, "send_response", psid, {"text": "bot reply"})
    run(out, "send_response", "old", {"text": "agent via custom", "custom": {"agent": True}})
    assert sent_types(graph, "recent") == [("RESPONSE", None), ("RESPONSE", None)]
    assert sent_types(graph, "old") == [("MESSAGE_TAG", "HUMAN_AGENT"), ("RESPONSE", None),
                                        ("MESSAGE_TAG", "HUMAN_AGENT")]
    assert sent_types(graph, "unknown") == [("MESSAGE_TAG", "HUMAN_AGENT"), ("RESPONSE", None)]
    # the flag-only custom JSON was not sent as a message of its own
    assert [r.json["message"] for r in graph.messages_to("old")][-1] == {"text": "agent via custom"}


def test_last_inbound_time_survives_a_restart():
    MessengerStore().record_inbound("psid", 1000.0)
    MessengerStore().record_inbound("psid", 900.0)  # an older event does not move it back
    assert MessengerStore().last_inbound("psid") == 1000.0
    MessengerStore().record_inbound("psid", 1100.0)
    assert MessengerStore().last_inbound("psid") == 1100.0
    assert MessengerStore().last_inbound("other") is None


def test_messenger_buttons_become_quick_replies_within_limits(graph):
    out = messenger(graph, time.time())
    buttons = [{"title": f"Câu hỏi thường gặp số {i}", "payload": f"/ask_question{{\"faq_id\": \"q{i}\"}}"}
               for i in range(15)]
    run(out, "send_response", "psid", {"text": "Bạn hỏi về:", "buttons": buttons})
    [sent] = graph.delivered_to("psid")
    replies = sent.json["message"]["quick_replies"]
    assert len(replies) == 13 and replies[0]["title"] == "Câu hỏi thường gặp…"
    assert replies[0]["payload"] == '/ask_question{"faq_id": "q0"}'


def test_messenger_retries_5xx_and_records_what_cannot_be_delivered(graph):
    out = messenger(graph, time.time())
    graph.fail_next = [(500, {"error": {"message": "boom", "code": 1}}),
                       (503, {"error": {"message": "busy", "code": 2}})]
    run(out, "send_text_message", "psid", "lần thứ ba mới tới")
    assert [r.status for r in graph.messages_to("psid")] == [500, 503, 200]

    graph.closed_window.add("gone")
    run(out, "send_text_message", "gone", "tin nhắn ngoài khung 24 giờ")
    [row] = fb_undelivered("gone")
    assert row["text"] == "tin nhắn ngoài khung 24 giờ" and row["error_code"] == "10/2018278"


def test_messenger_unreachable_api_is_recorded_not_raised():
    client = GraphClient("page-token", f"http://127.0.0.1:{free_port()}", retry_attempts=2,
                         retry_backoff=0.01, timeout=2)
    run(MessengerOutput(client, MessengerStore()), "send_text_message", "psid", "xin chào")
    [row] = fb_undelivered("psid")
    assert row["error_code"] == "network"


def tickets_in(db: Path) -> TicketStore:
    """The ticket store the channels wrote to (see the ticket_db fixture)."""
    return ticket_store(f"sqlite:///{db}")


def test_a_closed_messenger_window_puts_the_message_on_a_new_handoff_ticket(graph, ticket_db):
    graph.closed_window.add("gone")
    run(messenger(graph, time.time()), "send_text_message", "gone",
        "Đơn của bạn đã được hoàn tiền.")
    ticket = tickets_in(ticket_db).open_ticket_for("gone")
    assert (ticket.reason, ticket.channel, ticket.status) == ("undelivered", "facebook",
                                                              "waiting")
    [message] = tickets_in(ticket_db).undelivered(ticket.id)
    assert message["text"] == "Đơn của bạn đã được hoàn tiền."
    assert message["window_closed"] is True and "10/2018278" in message["error"]


def test_a_broken_ticket_store_does_not_break_the_channel(graph, monkeypatch, caplog):
    import bot.channels.webhook_base as base

    def broken(*args):
        raise RuntimeError("database is gone")
    monkeypatch.setattr(base, "hand_off_undelivered", broken)
    graph.closed_window.add("gone")
    run(messenger(graph, time.time()), "send_text_message", "gone", "xin chào")
    # the message is not lost: its text is in the log line
    assert "facebook message to gone not put on a handoff ticket; its text: 'xin chào'" \
        in caplog.text


# ---------------------------------------------------------------- Zalo

def zalo_channel(zalo: ZaloStandin, refresh_token: str = "rt-0",
                 access_token: str = "at-0", **extra: Any) -> ZaloInput:
    return ZaloInput.from_credentials({
        "app_id": "app-1", "app_secret": "app-secret", "oa_secret_key": "oa-key",
        "access_token": access_token, "refresh_token": refresh_token,
        "openapi_url": zalo.url, "oauth_url": zalo.url,
        "retry_backoff": 0.01, **extra})


def test_expired_zalo_token_is_refreshed_rotated_and_kept_across_a_restart(zalo):
    channel = zalo_channel(zalo)
    run(channel.get_output_channel(), "send_text_message", "u1", "trước khi hết hạn")
    zalo.expire_access_token()
    run(channel.get_output_channel(), "send_text_message", "u1", "sau khi hết hạn")

    assert [r.json["message"]["text"] for r in zalo.delivered_to("u1")] == [
        "trước khi hết hạn", "sau khi hết hạn"]
    [refresh] = zalo.recorded(lambda r: r.path == "/v4/oa/access_token")
    assert refresh.headers["secret_key"] == "app-secret"
    assert refresh.form == {"app_id": "app-1", "refresh_token": "rt-0",
                            "grant_type": "refresh_token"}
    stored = ZaloStore().tokens("app-1")
    assert stored["access_token"] == zalo.valid_access_token
    assert stored["refresh_token"] == zalo.valid_refresh_token != "rt-0"
    assert stored["expires_at"] == pytest.approx(time.time() + 90000, abs=60)

    # A restart reads the same credentials (still the old, now dead, pair) and the store.
    restarted = zalo_channel(zalo)
    assert restarted.client.access_token == zalo.valid_access_token
    zalo.expire_access_token()
    run(restarted.get_output_channel(), "send_text_message", "u1", "sau khi khởi động lại")
    assert zalo.delivered_to("u1")[-1].json["message"]["text"] == "sau khi khởi động lại"
    assert len(zalo.recorded(lambda r: r.path == "/v4/oa/access_token")) == 2
    assert undelivered_messages("u1") == []


def test_new_tokens_in_the_credentials_win_over_the_stored_ones(zalo):
    ZaloStore().load_tokens("app-1", "at-0", "rt-0")
    ZaloStore().refresh_once("app-1", "at-0", "rt-0", lambda spent: ("at-rotated", "rt-rotated", None))
    assert zalo_channel(zalo).client.refresh_token == "rt-rotated"
    # an admin authorized the app again and put a fresh pair in the credentials
    fresh = zalo_channel(zalo, refresh_token="rt-fresh", access_token="at-fresh")
    assert (fresh.client.access_token, fresh.client.refresh_token) == ("at-fresh", "rt-fresh")
    assert zalo_channel(zalo, refresh_token="rt-fresh").client.refresh_token == "rt-fresh"


def test_closed_window_and_failed_refresh_are_recorded_as_undelivered(zalo):
    out = zalo_channel(zalo).get_output_channel()
    zalo.user_errors["away"] = (-230, "User has not interacted with the OA in the past 7 days")
    run(out, "send_text_message", "away", "Đơn hàng của bạn đã được giao.")
    [row] = undelivered_messages("away")
    assert (row["sender"], row["text"], row["error_code"], row["window_closed"]) == (
        "away", "Đơn hàng của bạn đã được giao.", "-230", True)
    assert len(zalo.messages_to("away")) == 1  # a closed window is not retried

    zalo.expire_access_token()
    zalo.valid_refresh_token = "rt-someone-else"  # our refresh token no longer works
    run(out, "send_text_message", "u2", "không gửi được")
    [row] = undelivered_messages("u2")
    assert row["text"] == "không gửi được" and row["error_code"] == "refresh"


def test_a_closed_zalo_window_lands_on_the_customers_open_ticket(zalo, ticket_db):
    """An agent's reply that Zalo refuses shows on the ticket the agent is working."""
    asked = tickets_in(ticket_db).create("away", "request_human", [], channel="zalo")
    zalo.user_errors["away"] = (-230, "User has not interacted with the OA in the past 7 days")
    out = zalo_channel(zalo).get_output_channel()
    run(out, "send_response", "away", {"text": "Chào anh, em là Lan ạ.", "agent": True})
    assert tickets_in(ticket_db).open_ticket_for("away").id == asked.id
    [message] = tickets_in(ticket_db).undelivered(asked.id)
    assert (message["text"], message["channel"], message["window_closed"]) == (
        "Chào anh, em là Lan ạ.", "zalo", True)
    assert undelivered_messages("away")[0]["text"] == message["text"]


def test_zalo_retries_5xx_with_backoff_then_delivers(zalo):
    out = zalo_channel(zalo).get_output_channel()
    zalo.fail_next = [(502, "bad gateway"), (200, {"error": -32,
                                                  "message": "Your OA reached limit call api"})]
    run(out, "send_text_message", "u3", "gửi lại")
    assert [(r.status, (r.answer or {}).get("error") if isinstance(r.answer, dict) else None)
            for r in zalo.messages_to("u3")] == [(502, None), (200, -32), (200, 0)]


def test_zalo_unreachable_api_is_recorded_not_raised():
    class Nowhere:
        url = f"http://127.0.0.1:{free_port()}"
    out = zalo_channel(Nowhere, retry_attempts=2, timeout=2)
    run(out.get_output_channel(), "send_text_message", "u4", "xin chào")
    [row] = undelivered_messages("u4")
    assert row["error_code"] == "network"


def test_zalo_buttons_as_numbers_or_list_template_and_remembered_choices(zalo):
    buttons = [{"title": "Gặp nhân viên", "payload": "/request_human"},
               {"title": "Không, cảm ơn", "payload": "/deny"}]
    run(zalo_channel(zalo).get_output_channel(), "send_response",
        "u5", {"text": "Bạn cần gì?", "buttons": buttons})
    [sent] = zalo.delivered_to("u5")
    assert sent.json["message"]["text"].startswith("Bạn cần gì?\n\n1. Gặp nhân viên\n2. Không")
    assert ZaloStore().take_choices("u5") == [
        {"title": "Gặp nhân viên", "payload": "/request_human"},
        {"title": "Không, cảm ơn", "payload": "/deny"}]
    assert ZaloStore().take_choices("u5") == []  # answered once

    run(zalo_channel(zalo, buttons="list").get_output_channel(), "send_response",
        "u6", {"text": "Bạn cần gì?", "buttons": buttons})
    text, template = [r.json["message"] for r in zalo.delivered_to("u6")]
    assert text == {"text": "Bạn cần gì?"}
    assert template["attachment"]["payload"]["template_type"] == "list"
    assert len(ZaloStore().take_choices("u6")) == 2


def test_channels_without_secrets_still_load(monkeypatch):
    """Unset ${ENV} references leave a channel refusing webhooks, not the server down."""
    for name in ("FB_APP_SECRET", "ZALO_APP_ID", "ZALO_OA_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    fb = MessengerInput.from_credentials({"verify": "${FB_VERIFY_TOKEN}",
                                          "secret": "${FB_APP_SECRET}",
                                          "page-access-token": "${FB_PAGE_ACCESS_TOKEN}"})
    za = ZaloInput.from_credentials({"app_id": "${ZALO_APP_ID}",
                                     "oa_secret_key": "${ZALO_OA_SECRET_KEY}"})
    assert not fb.configured and not za.configured
    monkeypatch.setenv("FB_APP_SECRET", "s3cret")
    assert MessengerInput.from_credentials({"secret": "${FB_APP_SECRET}"}).fb_secret == "s3cret"


def test_the_projects_credentials_load_without_any_channel_secret(monkeypatch):
    """credentials.yml read as Rasa reads it (rasa.core.run uses read_config_file, which
    fails on an unset variable in an unquoted value), with none of the channel variables
    set: both channels are built, unconfigured."""
    from rasa.shared.utils.io import read_config_file
    from bot.settings import PROJECT_DIR

    for name in ("FB_VERIFY_TOKEN", "FB_APP_SECRET", "FB_PAGE_ACCESS_TOKEN", "FB_GRAPH_URL",
                 "ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_ACCESS_TOKEN",
                 "ZALO_REFRESH_TOKEN", "ZALO_OPENAPI_URL", "ZALO_OAUTH_URL"):
        monkeypatch.delenv(name, raising=False)

    def channels():
        credentials = read_config_file(PROJECT_DIR / "credentials.yml")
        return (MessengerInput.from_credentials(
                    credentials["bot.channels.messenger.MessengerInput"]),
                ZaloInput.from_credentials(credentials["bot.channels.zalo.ZaloInput"]))

    fb, za = channels()
    assert not fb.configured and not za.configured
    assert fb.client.graph_url == "https://graph.facebook.com/v19.0"
    assert za.client.openapi_url == "https://openapi.zalo.me"

    for name, value in (("FB_APP_SECRET", "s"), ("FB_VERIFY_TOKEN", "v"),
                        ("FB_PAGE_ACCESS_TOKEN", "t"), ("FB_GRAPH_URL", "http://127.0.0.1:9/v19.0"),
                        ("ZALO_APP_ID", "1"), ("ZALO_OA_SECRET_KEY", "k")):
        monkeypatch.setenv(name, value)
    fb, za = channels()
    assert fb.configured and fb.fb_secret == "s" and za.configured
    assert fb.client.graph_url == "http://127.0.0.1:9/v19.0"


def test_a_refused_list_template_falls_back_to_numbered_text(zalo):
    out = zalo_channel(zalo, buttons="list").get_output_channel()
    zalo.fail_next = [(200, {"error": 0, "message": "Success", "data": {"message_id": "1"}}),
                      (200, {"error": -233, "message": "message type is invalid or not support"})]
    run(out, "send_response", "u7", {"text": "Bạn cần gì?", "buttons": [
        {"title": "Gặp nhân viên", "payload": "/request_human"}]})
    texts = [r.json["message"].get("text") for r in zalo.messages_to("u7")]
    assert texts == ["Bạn cần gì?", None, "1. Gặp nhân viên\n\n(Nhắn số để chọn)"]
    assert undelivered_messages("u7") == []
