"""hotro's lock stores (bot/lock_store.py): a conversation's messages are served one at a time,
in the order they came, and the next goes on as soon as one finishes: in memory, and in a
real Redis shared by two Rasa servers' stores."""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
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


def test_redis_tickets_taken_at_the_same_moment_by_many_servers_are_all_distinct_and_kept(
        redis_server):
    # Eight Rasa servers (threads, each with its own connection) taking tickets for one
    # conversation at once: no number twice (two turns at once), none overwritten (a message
    # refused with "Could not acquire lock").
    servers, per_server = 8, 25
    stores = [PromptRedisLockStore(host="127.0.0.1", port=redis_server, db=1)
              for _ in range(servers)]
    start = threading.Barrier(servers)

    def take(store) -> List[int]:
        start.wait()
        return [store.issue_ticket("khach-4") for _ in range(per_server)]

    with ThreadPoolExecutor(servers) as pool:
        tickets = [t for taken in pool.map(take, stores) for t in taken]
    assert sorted(tickets) == list(range(servers * per_server))
    kept = stores[0].get_lock("khach-4")
    assert sorted(t.number for t in kept.tickets) == sorted(tickets)

    with ThreadPoolExecutor(servers) as pool:  # all finished at once: the lock is gone
        list(pool.map(lambda n: stores[n % servers].cleanup("khach-4", n), tickets))
    assert redis.Redis(port=redis_server, db=1).keys("lock:*") == []


def test_redis_turns_of_two_servers_running_at_once_never_overlap(redis_server):
    # Two Rasa servers, each on its own event loop in its own thread, 12 messages each of one
    # conversation: every turn is served, one at a time.
    events: List[tuple] = []

    def server(name: str) -> None:
        store = PromptRedisLockStore(host="127.0.0.1", port=redis_server, db=1)

        async def turn(n: int) -> None:
            async with store.lock("khach-5"):
                events.append(("start", name, n))
                await asyncio.sleep(0.005)
                events.append(("end", name, n))

        async def main() -> None:
            await asyncio.wait_for(asyncio.gather(*(turn(n) for n in range(12))), timeout=30)

        asyncio.run(main())

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(server, ("a", "b")))  # a LockError in a turn fails the test here
    assert len(events) == 48
    assert all(start[0] == "start" and end[0] == "end" and start[1:] == end[1:]
               for start, end in zip(events[::2], events[1::2])), events
