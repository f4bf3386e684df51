"""hotro's lock stores (bot/lock_store.py): a conversation's messages are served one at a time,
in the order they came, and the next goes on as soon as one finishes: in memory, and in a
real Redis shared by two Rasa servers' stores."""
from __future__ import annotations

import asyncio
from typing import List

import pytest
import redis

from bot.lock_store import PromptLockStore, PromptRedisLockStore


async def burst(stores, conversation: str, messages: int = 8) -> List[tuple]:
    """`messages` turns of one conversation started together, each on the next store in
    turn; the (event, message) sequence they produce while holding the lock."""
    seen: List[tuple] = []

    async def turn(n: int) -> None:
        async with stores[n % len(stores)].lock(conversation):
            seen.append(("start", n))
            await asyncio.sleep(0.01)  # the turn's work
            seen.append(("end", n))

    tasks = []
    for n in range(messages):
        tasks.append(asyncio.create_task(turn(n)))
        await asyncio.sleep(0)  # each takes its ticket in this order
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)
    return seen


IN_ORDER = [(event, n) for n in range(8) for event in ("start", "end")]


def test_in_memory_turns_go_one_at_a_time_in_order_each_woken_by_the_one_before():
    store = PromptLockStore()
    store.look_every = 3600  # only a finished ticket can wake a waiter: no look would come in time
    assert asyncio.run(burst([store], "khach-1")) == IN_ORDER
    assert store.conversation_locks == {} and store._turns_over == {}


@pytest.fixture
def redis_server(redis_url) -> int:
    """The port of the tests' Redis (scripts/services.sh; tests/conftest.py's redis_url:
    a failure under `make test` or CI when it is missing), its databases 1 and 3 emptied."""
    port = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs["port"]
    for db in (1, 3):
        redis.Redis(port=port, db=db).flushdb()
    return port


def test_redis_turns_of_two_servers_go_one_at_a_time_in_order(redis_server):
    # Two Rasa servers' stores on one Redis, the conversation's messages alternating.
    one, two = (PromptRedisLockStore(host="127.0.0.1", port=redis_server, db=1) for _ in range(2))
    assert asyncio.run(burst([one, two], "khach-2")) == IN_ORDER
    assert redis.Redis(port=redis_server, db=1).keys("lock:*") == []


def test_redis_store_reads_endpoints_yml(redis_server):
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    store = LockStore.create(EndpointConfig(
        url="127.0.0.1", port=redis_server, db=3, type="bot.lock_store.PromptRedisLockStore"))
    assert isinstance(store, PromptRedisLockStore)
    assert asyncio.run(burst([store], "khach-3", messages=3)) == IN_ORDER[:6]
