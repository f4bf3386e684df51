"""Webhook signatures: Meta's X-Hub-Signature-256 and Zalo's X-ZEvent-Signature."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from bot.channels.messenger import signature_256, verify_signature_256
from bot.channels.zalo import verify_zalo_signature, zalo_signature

BODY = json.dumps({"object": "page", "entry": [{"messaging": [
    {"sender": {"id": "1"}, "message": {"mid": "m1", "text": "xin chào"}}]}]},
    ensure_ascii=False).encode("utf-8")


def test_messenger_signature_is_hmac_sha256_of_the_raw_body():
    expected = hmac.new(b"app-secret", BODY, hashlib.sha256).hexdigest()
    assert signature_256("app-secret", BODY) == f"sha256={expected}"
    assert verify_signature_256("app-secret", BODY, f"sha256={expected}")
    assert verify_signature_256("app-secret", BODY, f"sha256={expected.upper()}")


@pytest.mark.parametrize("header", [
    None, "", "sha256=", "sha256", "=abc", "sha256=zz",
    "sha256=" + "0" * 64,
    "sha1=" + hmac.new(b"app-secret", BODY, hashlib.sha1).hexdigest(),  # Rasa's old header
    "md5=" + hashlib.md5(BODY).hexdigest(),
    signature_256("other-secret", BODY),
    signature_256("app-secret", BODY + b" "),
    signature_256("app-secret", BODY) + "00",
])
def test_messenger_signature_rejects(header):
    assert not verify_signature_256("app-secret", BODY, header)


def test_messenger_signature_needs_a_secret():
    """With no app secret configured, even a signature keyed with "" must not pass."""
    assert not verify_signature_256("", BODY, signature_256("", BODY))
    assert not verify_signature_256(None, BODY, signature_256("", BODY))


def test_zalo_signature_is_sha256_of_app_id_body_timestamp_secret():
    expected = hashlib.sha256(b"123456" + BODY + b"1700000000000" + b"oa-key").hexdigest()
    assert zalo_signature("123456", BODY, "1700000000000", "oa-key") == f"mac={expected}"
    assert verify_zalo_signature("123456", "oa-key", BODY, "1700000000000", f"mac={expected}")
    # Zalo sends the timestamp as a string; a JSON number with the same digits is the same.
    assert verify_zalo_signature("123456", "oa-key", BODY, 1700000000000, f"mac={expected}")


def test_zalo_signature_is_not_an_hmac():
    keyed = hmac.new(b"oa-key", b"123456" + BODY + b"1700", hashlib.sha256).hexdigest()
    assert not verify_zalo_signature("123456", "oa-key", BODY, "1700", f"mac={keyed}")


@pytest.mark.parametrize("app_id,secret,body,timestamp,header", [
    ("123456", "oa-key", BODY, "1700", None),
    ("123456", "oa-key", BODY, "1700", ""),
    ("123456", "oa-key", BODY, "1700", zalo_signature("123456", BODY, "1700", "oa-key")[4:]),
    ("123456", "oa-key", BODY, "1700", zalo_signature("123456", BODY, "1701", "oa-key")),
    ("123456", "oa-key", BODY, "1700", zalo_signature("654321", BODY, "1700", "oa-key")),
    ("123456", "oa-key", BODY, "1700", zalo_signature("123456", BODY, "1700", "other")),
    ("123456", "oa-key", BODY + b"\n", "1700", zalo_signature("123456", BODY, "1700", "oa-key")),
    # the same JSON re-serialised is another body: verification needs the raw bytes
    ("123456", "oa-key", json.dumps(json.loads(BODY)).encode(), "1700",
     zalo_signature("123456", BODY, "1700", "oa-key")),
    ("123456", "oa-key", BODY, None, zalo_signature("123456", BODY, "None", "oa-key")),
    ("123456", "oa-key", BODY, True, zalo_signature("123456", BODY, "True", "oa-key")),
    ("123456", "oa-key", BODY, ["1700"], zalo_signature("123456", BODY, "['1700']", "oa-key")),
    ("", "oa-key", BODY, "1700", zalo_signature("", BODY, "1700", "oa-key")),
    ("123456", "", BODY, "1700", zalo_signature("123456", BODY, "1700", "")),
])
def test_zalo_signature_rejects(app_id, secret, body, timestamp, header):
    assert not verify_zalo_signature(app_id, secret, body, timestamp, header)
