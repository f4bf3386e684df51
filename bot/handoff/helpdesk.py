"""The helpdesk notifier: every handoff POSTed to another helpdesk (handoff.webhook_url),
for teams that work their tickets there.

Each handoff is written to an outbox table first (so a crash loses nothing), then a
background thread POSTs it as JSON, signed with HMAC-SHA256 of the raw body in the
`X-Hotro-Signature: sha256=<hex>` header (secret from HOTRO_WEBHOOK_SECRET), retrying
with exponential backoff until the receiver answers 2xx or attempts run out.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Optional

from sqlalchemy import Column, DateTime, Integer, String, Text, select

from bot.db import utcnow
from bot.handoff.store import Base, Ticket, ticket_store
from bot.signing import sha256_signature

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SIGNATURE_HEADER = "X-Hotro-Signature"


class OutboxRow(Base):
    __tablename__ = "webhook_outbox"
    id = Column(Integer, primary_key=True)
    url = Column(String(1000), nullable=False)
    body = Column(Text, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    delivered_at = Column(DateTime)
    last_error = Column(String(500))


def _webhook_url() -> str:
    from bot.settings import load_settings

    return (load_settings().get("handoff") or {}).get("webhook_url") or ""


def notify_helpdesk(ticket: Ticket) -> None:
    """Queue the ticket (with its transcript) for the external helpdesk, if one is set."""
    url = _webhook_url()
    if not url:
        return
    store = ticket_store()
    body = json.dumps({"event": "handoff", "ticket": ticket.as_dict()}, ensure_ascii=False)
    with store.session() as session, session.begin():
        session.add(OutboxRow(url=url, body=body, next_attempt_at=utcnow()))
    _ensure_worker()


def _post(url: str, body: bytes, secret: str) -> None:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", SIGNATURE_HEADER: sha256_signature(secret, body)})
    with urllib.request.urlopen(request, timeout=10) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not 2xx", response.headers, None)


def deliver_due() -> int:
    """One pass over the outbox: send what is due. Returns how many were delivered."""
    store = ticket_store()
    secret = os.environ.get("HOTRO_WEBHOOK_SECRET", "")
    delivered = 0
    with store.session() as session:
        due = session.execute(select(OutboxRow).where(
            OutboxRow.delivered_at.is_(None), OutboxRow.attempts < MAX_ATTEMPTS,
            OutboxRow.next_attempt_at <= utcnow())).scalars().all()
    for row in due:
        try:
            _post(row.url, row.body.encode(), secret)
            changes = {"delivered_at": utcnow(), "last_error": None}
            delivered += 1
        except (urllib.error.URLError, OSError) as exc:
            backoff = timedelta(seconds=min(600, 2 ** row.attempts))
            changes = {"next_attempt_at": utcnow() + backoff, "last_error": str(exc)[:500]}
            logger.warning("handoff webhook to %s failed (attempt %d): %s",
                           row.url, row.attempts + 1, exc)
        with store.session() as session, session.begin():
            fresh = session.get(OutboxRow, row.id)
            fresh.attempts += 1
            for key, value in changes.items():
                setattr(fresh, key, value)
    return delivered


_worker: Optional[threading.Thread] = None
_worker_lock = threading.Lock()


def _run_worker() -> None:
    while True:
        try:
            deliver_due()
        except Exception:  # noqa: BLE001 - the worker must outlive one bad pass
            logger.exception("handoff webhook worker pass failed")
        time.sleep(1)


def _ensure_worker() -> None:
    """Start the delivery thread once per process (also resumes a restart's backlog)."""
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_run_worker, name="handoff-webhook", daemon=True)
            _worker.start()
