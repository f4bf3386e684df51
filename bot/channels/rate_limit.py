"""Per-sender rate limit of the customer channels: a token bucket for each sender.

A flood from one conversation would otherwise queue its messages behind Rasa's lock for
that conversation and spend the NLU's time that every other customer waits for. Each
channel keeps one limit, made by `sender_rate_limit()`: in the process's memory, or, where
the Rasa replicas share a Redis (HOTRO_REDIS_HOST, as deploy/endpoints.yml's lock store),
in Redis, so that a flood spread over the replicas gets one budget, not one per replica.
While that Redis cannot be reached, each process limits on its own.
"""
from __future__ import annotations

import logging
import math
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

import redis

from bot.limits import SENDER_BURST, SENDER_PER_MINUTE

logger = logging.getLogger(__name__)

MAX_TRACKED_SENDERS = 100_000  # the least recently seen are forgotten (a full bucket again)


@dataclass
class _Bucket:
    tokens: float
    at: float
    refused: bool = False  # the sender has been told to slow down since the last allowed message


class SenderRateLimit:
    def __init__(self, burst: int = SENDER_BURST, per_minute: float = SENDER_PER_MINUTE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if burst < 1 or per_minute <= 0:
            raise ValueError("burst must be >= 1 and per_minute > 0")
        self.burst = burst
        self.per_second = per_minute / 60.0
        self._clock = clock
        self._buckets: "OrderedDict[str, _Bucket]" = OrderedDict()

    def check(self, sender: str) -> Tuple[bool, bool]:
        """(allowed, first refusal): takes one message's token when there is one. The second
        value is True for the first refused message of a streak, so the customer is told
        once, not for every message of a flood."""
        now = self._clock()
        bucket = self._buckets.pop(sender, None) or _Bucket(float(self.burst), now)
        self._buckets[sender] = bucket  # most recently seen last
        if len(self._buckets) > MAX_TRACKED_SENDERS:
            self._buckets.popitem(last=False)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.refused = False
            return True, False
        first = not bucket.refused
        bucket.refused = True
        return False, first

    def retry_after(self, sender: str) -> int:
        """Whole seconds until `sender` may send again."""
        bucket = self._buckets.get(sender)
        if bucket is None or bucket.tokens >= 1.0:
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) / self.per_second))


# One bucket, atomically: refill by the time passed (Redis's clock, the same for every
# replica), then take a token when ARGV[4] is 1; with 0 only report the wait. Returns
# {allowed, first refusal of a streak, whole seconds until the next token}.
_BUCKET = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'refused')
local tokens = math.min(burst, (tonumber(b[1]) or burst) + math.max(0, now - (tonumber(b[2]) or now)) * rate)
local refused, allowed, first = b[3] == '1', 0, 0
if ARGV[4] == '1' then
  if tokens >= 1 then
    tokens, refused, allowed = tokens - 1, false, 1
  else
    if not refused then first = 1 end
    refused = true
  end
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now), 'refused', refused and '1' or '0')
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
local wait = 0
if tokens < 1 then wait = math.max(1, math.ceil((1 - tokens) / rate)) end
return {allowed, first, wait}
"""
RETRY_SHARED_AFTER = 5.0  # seconds of limiting in memory after Redis failed, before trying it again


class SharedSenderRateLimit(SenderRateLimit):
    """The same buckets in Redis, shared by every process that uses that Redis; the
    in-memory buckets while it cannot be reached (a customer is never refused, nor a
    message lost, because the limiter's store is down)."""

    def __init__(self, client: "redis.Redis", burst: int = SENDER_BURST,
                 per_minute: float = SENDER_PER_MINUTE, clock: Callable[[], float] = time.monotonic,
                 prefix: str = "hotro:rate:") -> None:
        super().__init__(burst, per_minute, clock)
        self._script = client.register_script(_BUCKET)
        self._prefix = prefix
        # a full bucket again after this long: Redis forgets it then
        self._ttl = math.ceil(burst / self.per_second) + 60
        self._down_until = 0.0

    def _shared(self, sender: str, take: bool) -> Optional[Any]:
        if self._clock() < self._down_until:
            return None
        try:
            return self._script(keys=[self._prefix + sender],
                                args=[self.burst, self.per_second, self._ttl, 1 if take else 0])
        except redis.RedisError as exc:
            self._down_until = self._clock() + RETRY_SHARED_AFTER
            logger.warning("rate limit: Redis unreachable (%s); limiting in this process for %g s",
                           exc, RETRY_SHARED_AFTER)
            return None

    def check(self, sender: str) -> Tuple[bool, bool]:
        shared = self._shared(sender, take=True)
        if shared is None:
            return super().check(sender)
        return bool(shared[0]), bool(shared[1])

    def retry_after(self, sender: str) -> int:
        shared = self._shared(sender, take=False)
        return super().retry_after(sender) if shared is None else int(shared[2])


def sender_rate_limit(channel: str) -> SenderRateLimit:
    """`channel`'s limit: shared in Redis where the replicas share one (HOTRO_REDIS_HOST,
    HOTRO_REDIS_PORT, HOTRO_REDIS_DB: deploy/endpoints.yml's lock store), else in memory."""
    host = os.environ.get("HOTRO_REDIS_HOST")
    if not host:
        return SenderRateLimit()
    # Short timeouts: the limiter runs on the event loop and must not hold a turn up.
    client = redis.Redis(host=host, port=int(os.environ.get("HOTRO_REDIS_PORT") or 6379),
                         db=int(os.environ.get("HOTRO_REDIS_DB") or 0),
                         socket_timeout=0.25, socket_connect_timeout=0.25)
    return SharedSenderRateLimit(client, prefix=f"hotro:rate:{channel}:")
