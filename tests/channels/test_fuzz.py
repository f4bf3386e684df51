"""Fuzzing both webhooks on the running server with hostile requests (hypothesis).

Each webhook gets at least 1,000 requests: random bytes, random JSON, webhook-shaped
JSON with fields of the wrong type, control characters, huge or odd text, and every
kind of signature (none, garbage, another algorithm, another secret, another body,
the right one). The server must never answer 5xx, must still be up and answering
afterwards, and every refusal (4xx) must have its line in the log.
Derandomized: the same examples every run.
"""
from __future__ import annotations

import json
import time
from typing import Any, Dict

import pytest
import requests

hypothesis = pytest.importorskip(
    "hypothesis", reason="hypothesis==6.56.4 is needed for the webhook fuzz tests")
from hypothesis import given, strategies as st  # noqa: E402

from bot.channels.messenger import signature_256  # noqa: E402
from bot.channels.zalo import zalo_signature  # noqa: E402
from tests.conftest import wait_log_count  # noqa: E402
from tests.fuzzing import (EXAMPLES, FUZZ_SETTINGS, hostile_text, json_values,  # noqa: E402
                           scalars)
from tests.channels.conftest import (FB_APP_SECRET, ZALO_APP_ID, ZALO_OA_SECRET,  # noqa: E402
                                     fb_body, fb_post, fb_text_event, new_id, rasa_log,
                                     zalo_event, zalo_post)

ids = st.one_of(st.from_regex(r"\A[0-9]{1,20}\Z"), json_values)


def _maybe(strategy: Any) -> Any:
    return st.one_of(strategy, json_values)


# ---------------------------------------------------------------- Messenger

fb_message = st.fixed_dictionaries({}, optional={
    "mid": _maybe(st.from_regex(r"\Am_[a-z0-9]{4,12}\Z")), "text": _maybe(hostile_text),
    "quick_reply": _maybe(st.fixed_dictionaries({"payload": _maybe(hostile_text)})),
    "attachments": json_values, "is_echo": _maybe(st.booleans()), "sticker_id": json_values})
fb_event = st.fixed_dictionaries({}, optional={
    "sender": _maybe(st.fixed_dictionaries({"id": ids})),
    "recipient": _maybe(st.fixed_dictionaries({"id": ids})), "timestamp": scalars,
    "message": _maybe(fb_message),
    "postback": _maybe(st.fixed_dictionaries({}, optional={"payload": _maybe(hostile_text),
                                                           "title": hostile_text,
                                                           "mid": hostile_text})),
    "delivery": json_values, "read": json_values, "reaction": json_values})
fb_payload = st.fixed_dictionaries({}, optional={
    "object": _maybe(st.sampled_from(["page", "instagram", "user"])),
    "entry": _maybe(st.lists(st.fixed_dictionaries({}, optional={
        "id": ids, "time": scalars, "messaging": _maybe(st.lists(fb_event, max_size=3))}),
        max_size=3))})


@st.composite
def fb_requests(draw: Any) -> Dict[str, Any]:
    # about 1 in 15 is a valid, signed message that the bot answers (costly: NLU runs)
    kind = draw(st.sampled_from(["bytes"] * 2 + ["json"] * 2 + ["shaped"] * 7 + ["huge"]
                                + ["get"] * 2 + ["message"]))
    if kind == "message":  # a well-formed, correctly signed message with hostile content
        event = fb_text_event(draw(st.sampled_from(["fuzz-a", "fuzz-b", "fuzz-c"])),
                              draw(hostile_text.filter(lambda t: t.strip())),
                              quick_reply=draw(st.one_of(st.none(), hostile_text)))
        body = fb_body(event)
        return {"method": "POST", "body": body, "content_type": "application/json",
                "signature": signature_256(FB_APP_SECRET, body)}
    if kind == "get":
        return {"method": "GET", "params": draw(st.dictionaries(
            st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "x"]),
            st.text(max_size=20), max_size=4))}
    if kind == "bytes":
        body = draw(st.binary(max_size=300))
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif kind == "huge":
        body = b'{"object": "page", "entry": [' + b" " * (600 * 1024) + b"]}"
    else:
        body = json.dumps(draw(fb_payload), ensure_ascii=draw(st.booleans())).encode(
            "utf-8", "surrogatepass")
    signature = draw(st.sampled_from([
        None, "", "garbage", "sha256=", "sha256=" + "0" * 64, "sha1", "other-secret",
        "other-body", "right", "right", "right", "right-upper"]))
    if signature == "sha1":
        signature = "sha1=" + "a" * 40
    elif signature == "other-secret":
        signature = signature_256("not-the-secret", body)
    elif signature == "other-body":
        signature = signature_256(FB_APP_SECRET, body + b"x")
    elif signature == "right":
        signature = signature_256(FB_APP_SECRET, body)
    elif signature == "right-upper":
        signature = signature_256(FB_APP_SECRET, body).upper()
    content_type = draw(st.sampled_from(["application/json", "text/plain", "",
                                         "multipart/form-data; boundary=x",
                                         "application/x-www-form-urlencoded"]))
    return {"method": "POST", "body": body, "signature": signature,
            "content_type": content_type}


# ---------------------------------------------------------------- Zalo

ZALO_EVENTS = ["user_send_text", "user_send_image", "user_send_sticker", "user_send_file",
               "user_send_location", "user_send_gif", "user_send_", "user_send_group_text",
               "oa_send_text", "oa_send_list", "user_received_message", "user_seen_message",
               "follow", "unfollow", "user_submit_info", "USER_SEND_TEXT"]
zalo_payload = st.fixed_dictionaries({
    "timestamp": st.one_of(st.from_regex(r"\A1[0-9]{12}\Z"), st.from_regex(r"\A1[0-9]{12}\Z"),
                           st.integers(min_value=0, max_value=2**62), scalars)}, optional={
    "app_id": _maybe(st.just(ZALO_APP_ID)),
    "event_name": st.one_of(st.sampled_from(ZALO_EVENTS), json_values),
    "sender": _maybe(st.fixed_dictionaries({"id": ids})),
    "recipient": _maybe(st.fixed_dictionaries({"id": ids})),
    "message": _maybe(st.fixed_dictionaries({}, optional={
        "msg_id": _maybe(st.from_regex(r"\A[a-f0-9]{8,20}\Z")), "text": _maybe(hostile_text),
        "attachments": json_values})),
    "user_id_by_app": json_values})


@st.composite
def zalo_requests(draw: Any) -> Dict[str, Any]:
    kind = draw(st.sampled_from(["bytes"] * 2 + ["json"] * 2 + ["shaped"] * 8 + ["huge"]
                                + ["message"]))
    timestamp = ""
    if kind == "message":  # a well-formed, correctly signed message with hostile content
        event = zalo_event(draw(st.sampled_from(["fuzz-a", "fuzz-b", "fuzz-c"])),
                           event_name=draw(st.sampled_from(["user_send_text"] * 3 + [
                               "user_send_image", "user_send_sticker"])),
                           text=draw(hostile_text))
        body = json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass")
        return {"method": "POST", "body": body, "content_type": "application/json",
                "signature": zalo_signature(ZALO_APP_ID, body, event["timestamp"],
                                            ZALO_OA_SECRET)}
    if kind == "bytes":
        body = draw(st.binary(max_size=300))
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif kind == "huge":
        body = json.dumps({"event_name": "user_send_text", "timestamp": "1",
                           "message": {"text": "a" * 300 * 1024}}).encode()
    else:
        payload = draw(zalo_payload)
        timestamp = payload.get("timestamp")
        timestamp = str(timestamp) if isinstance(timestamp, (str, int)) and \
            not isinstance(timestamp, bool) else ""
        body = json.dumps(payload, ensure_ascii=draw(st.booleans())).encode(
            "utf-8", "surrogatepass")
    signature = draw(st.sampled_from([
        None, "", "mac=", "garbage", "mac=" + "f" * 64, "no-prefix", "oa-id-prefix",
        "other-secret", "other-timestamp", "right", "right", "right", "right-upper"]))
    if signature == "no-prefix":
        signature = zalo_signature(ZALO_APP_ID, body, timestamp, ZALO_OA_SECRET)[4:]
    elif signature == "oa-id-prefix":
        signature = zalo_signature("388613280878808645", body, timestamp, ZALO_OA_SECRET)
    elif signature == "other-secret":
        signature = zalo_signature(ZALO_APP_ID, body, timestamp, "not-the-secret")
    elif signature == "other-timestamp":
        signature = zalo_signature(ZALO_APP_ID, body, timestamp + "0", ZALO_OA_SECRET)
    elif signature == "right":
        signature = zalo_signature(ZALO_APP_ID, body, timestamp, ZALO_OA_SECRET)
    elif signature == "right-upper":
        signature = zalo_signature(ZALO_APP_ID, body, timestamp, ZALO_OA_SECRET).upper()
    content_type = draw(st.sampled_from(["application/json", "text/plain", ""]))
    return {"method": "POST", "body": body, "signature": signature,
            "content_type": content_type}


# ---------------------------------------------------------------- the runs

def _send(session: requests.Session, url: str, request: Dict[str, Any], header: str
          ) -> requests.Response:
    if request["method"] == "GET":
        return session.get(url, params=request["params"], timeout=30)
    headers = {"Content-Type": request["content_type"]}
    if request["signature"] is not None:
        headers[header] = request["signature"]
    return session.post(url, data=request["body"], headers=headers, timeout=30)


def _fuzz(channel_stack: Any, path: str, header: str, strategy: Any, log_marker: str
          ) -> Dict[str, int]:
    url = f"{channel_stack.rasa_url}{path}"
    session = requests.Session()
    counts = {"requests": 0, "refused": 0, "accepted": 0}
    refused_before = rasa_log(channel_stack).count(log_marker)

    @FUZZ_SETTINGS
    @given(strategy)
    def hit(request: Dict[str, Any]) -> None:
        reply = _send(session, url, request, header)
        counts["requests"] += 1
        assert reply.status_code < 500, (reply.status_code, reply.text[:300], request)
        assert reply.status_code in (200, 400, 403, 413), (reply.status_code, reply.text[:300])
        if reply.status_code >= 400:
            counts["refused"] += 1
            if request["method"] == "POST":
                assert reply.json()["error"]
        else:
            counts["accepted"] += 1

    started = time.monotonic()
    hit()
    counts["seconds"] = round(time.monotonic() - started)
    assert counts["requests"] >= EXAMPLES
    assert counts["refused"] > EXAMPLES // 2 and counts["accepted"] > 40, counts

    # every refusal has its log line
    expected = refused_before + counts["refused"]
    assert wait_log_count(channel_stack, log_marker, expected) == expected
    assert f"{log_marker}: unexpected error" not in rasa_log(channel_stack)
    assert requests.get(f"{channel_stack.rasa_url}/status", timeout=30).status_code == 200
    return counts


def test_fuzz_messenger_webhook(channel_stack, graph):
    counts = _fuzz(channel_stack, "/webhooks/facebook/webhook", "X-Hub-Signature-256",
                   fb_requests(), "rejected messenger webhook")
    print("messenger fuzz:", counts)
    psid = new_id("psid")  # still answering real customers
    assert fb_post(channel_stack, fb_body(fb_text_event(psid, "xin chào"))).status_code == 200
    graph.wait_messages_to(psid, timeout=120)
    assert "failed to handle messenger message" not in rasa_log(channel_stack)
    assert graph.delivered_to("fuzz-a"), "the hostile but valid messages were answered"


def test_fuzz_zalo_webhook(channel_stack, zalo):
    counts = _fuzz(channel_stack, "/webhooks/zalo/webhook", "X-ZEvent-Signature",
                   zalo_requests(), "rejected zalo webhook")
    print("zalo fuzz:", counts)
    user = new_id("u")
    assert zalo_post(channel_stack, zalo_event(user, text="xin chào")).status_code == 200
    zalo.wait_delivered_to(user, timeout=120)
    assert "failed to handle zalo message" not in rasa_log(channel_stack)
    assert zalo.delivered_to("fuzz-a"), "the hostile but valid messages were answered"
