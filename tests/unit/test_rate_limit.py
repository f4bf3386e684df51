"""The per-sender token bucket of the channels (bot/channels/rate_limit.py), in memory and
shared by replicas in a real Redis."""
import logging
import uuid

import redis

from bot.channels.rate_limit import SenderRateLimit, SharedSenderRateLimit, sender_rate_limit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_flood_is_refused_and_told_once():
    clock = Clock()
    limit = SenderRateLimit(burst=5, per_minute=60, clock=clock)
    assert [limit.check("a") for _ in range(5)] == [(True, False)] * 5
    assert [limit.check("a") for _ in range(3)] == [(False, True), (False, False), (False, False)]
    assert limit.retry_after("a") == 1


def test_one_senders_flood_leaves_the_others_their_own_budget():
    limit = SenderRateLimit(burst=3, per_minute=6, clock=Clock())
    for _ in range(10):
        limit.check("flood")
    assert limit.check("flood")[0] is False
    assert all(limit.check("calm")[0] for _ in range(3))


def test_the_budget_comes_back_with_time_and_a_new_streak_is_told_again():
    clock = Clock()
    limit = SenderRateLimit(burst=2, per_minute=30, clock=clock)  # one message every 2 s
    limit.check("a"), limit.check("a")
    assert limit.check("a") == (False, True)
    assert limit.retry_after("a") == 2
    clock.now += 2.0
    assert limit.check("a") == (True, False)
    assert limit.check("a") == (False, True)  # refused again: a new streak, told again
    clock.now += 60
    assert [limit.check("a")[0] for _ in range(3)] == [True, True, False]  # never more than the burst


# Shared in Redis (SharedSenderRateLimit): what two replicas of a channel see together.

def shared_limits(redis_url, count: int, **kwargs) -> list:
    """`count` limits as `count` replicas make them: each its own connection to one Redis."""
    return [SharedSenderRateLimit(redis.Redis.from_url(redis_url), **kwargs) for _ in range(count)]


def test_a_flood_spread_over_two_replicas_gets_one_budget_and_is_told_once(redis_url):
    a, b = shared_limits(redis_url, 2, burst=5, per_minute=6)
    flood = f"flood-{uuid.uuid4().hex}"
    verdicts = [(a if i % 2 == 0 else b).check(flood) for i in range(12)]
    assert [allowed for allowed, _ in verdicts] == [True] * 5 + [False] * 7
    assert sum(first for _, first in verdicts) == 1  # told once, by whichever replica refused first
    assert b.retry_after(flood) == 10  # one message every 10 s, the bucket empty
    assert a.retry_after(flood) == 10  # asking takes nothing
    calm = f"calm-{uuid.uuid4().hex}"
    assert all(limit.check(calm)[0] for limit in (a, b, a, b, a))  # the others keep theirs


def test_without_its_redis_each_replica_still_limits_on_its_own(caplog):
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.25, socket_timeout=0.25)
    limit = SharedSenderRateLimit(dead, burst=3, per_minute=6)
    with caplog.at_level(logging.WARNING, logger="bot.channels.rate_limit"):
        assert [limit.check("khach")[0] for _ in range(5)] == [True, True, True, False, False]
    assert limit.retry_after("khach") == 10
    assert "Redis unreachable" in caplog.text
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1  # not once a message


def test_channels_share_their_limit_where_the_replicas_share_a_redis(monkeypatch, redis_url):
    monkeypatch.delenv("HOTRO_REDIS_HOST", raising=False)
    assert type(sender_rate_limit("rest")) is SenderRateLimit
    client = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs
    monkeypatch.setenv("HOTRO_REDIS_HOST", client["host"])
    monkeypatch.setenv("HOTRO_REDIS_PORT", str(client["port"]))
    monkeypatch.setenv("HOTRO_REDIS_DB", str(client.get("db", 0)))
    a, b = sender_rate_limit("rest"), sender_rate_limit("rest")
    sender = f"khach-{uuid.uuid4().hex}"
    assert isinstance(a, SharedSenderRateLimit)
    allowed = [(a if i % 2 else b).check(sender)[0] for i in range(a.burst + 4)]
    assert allowed == [True] * a.burst + [False] * 4
    assert sender_rate_limit("widget").check(sender)[0]  # each channel counts its own messages
