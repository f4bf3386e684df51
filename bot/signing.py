"""The `sha256=<hex>` HMAC-SHA256 signature of a request body: what Meta sends in
`X-Hub-Signature-256` and what hotro sends to a helpdesk in `X-Hotro-Signature`."""
from __future__ import annotations

import hashlib
import hmac
from typing import Optional


def sha256_signature(secret: str, body: bytes) -> str:
    """"sha256=<hex HMAC-SHA256 of body keyed with secret>"."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_sha256_signature(secret: Optional[str], body: bytes, header: Optional[str]) -> bool:
    """True when `header` is "sha256=<hex HMAC-SHA256 of body keyed with secret>".

    An empty secret verifies nothing (a signature keyed with "" is forgeable by anyone).
    """
    if not secret or not header or not isinstance(header, str):
        return False
    method, _, digest = header.strip().partition("=")
    if method.lower() != "sha256" or not digest:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, digest.strip().lower())
