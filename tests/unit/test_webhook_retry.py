"""WebhookInputMixin._in_order: a message that failed on a store down is handled again, in
order; one that failed on a bug is not (its replies could go out twice)."""
from __future__ import annotations

import asyncio
import logging

import pytest
import redis.exceptions
from sqlalchemy.exc import OperationalError

from bot.channels import webhook_base
from bot.channels.webhook_base import WebhookInputMixin, store_unavailable


class Channel(WebhookInputMixin):
    label = "test"
    log = logging.getLogger("test_webhook_retry")

    def __init__(self) -> None:
        self._init_webhook_state()


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(webhook_base, "STORE_RETRY_FIRST", 0.01)
    monkeypatch.setattr(webhook_base, "STORE_RETRY_FOR", 0.5)


def test_what_counts_as_a_store_down():
    assert store_unavailable(redis.exceptions.ConnectionError("refused"))
    assert store_unavailable(OperationalError("SELECT", {}, Exception("server closed")))
    assert store_unavailable(ConnectionRefusedError())
    assert not store_unavailable(KeyError("a bug"))


def test_a_store_down_is_retried_and_later_messages_wait_behind(caplog):
    done, failures = [], [redis.exceptions.ConnectionError("refused")] * 3

    async def work(text):
        if text == "first" and failures:
            raise failures.pop()
        done.append(text)

    async def both():
        channel = Channel()
        await asyncio.gather(channel._in_order("s", "1", lambda: work("first")),
                             channel._in_order("s", "2", lambda: work("second")))
    asyncio.run(both())
    assert done == ["first", "second"]
    assert caplog.text.count("a store is unavailable") == 3


def test_a_bug_is_not_retried_and_a_store_down_for_too_long_is_given_up(caplog):
    calls = []

    async def bug():
        calls.append("bug")
        raise KeyError("a bug")

    async def down():
        calls.append("down")
        raise redis.exceptions.ConnectionError("refused")

    asyncio.run(Channel()._in_order("s", "1", bug))
    assert calls == ["bug"] and "failed to handle test message 1" in caplog.text
    asyncio.run(Channel()._in_order("s", "2", down))
    assert 3 <= calls.count("down") <= 8
    assert "gave up on test message 2" in caplog.text
