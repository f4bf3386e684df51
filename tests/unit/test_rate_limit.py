"""The per-sender token bucket of the channels (bot/channels/rate_limit.py)."""
from bot.channels.rate_limit import SenderRateLimit


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
