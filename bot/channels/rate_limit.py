"""Per-sender rate limit of the customer channels: a token bucket for each sender.

A flood from one conversation would otherwise queue its messages behind Rasa's lock for
that conversation and spend the NLU's time that every other customer waits for. Each
channel keeps one `SenderRateLimit` in its process (replicas each allow their own share;
the tracker lock still keeps one conversation's messages in order).
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Tuple

from bot.limits import SENDER_BURST, SENDER_PER_MINUTE

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
