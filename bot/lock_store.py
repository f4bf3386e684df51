"""Rasa's lock stores, handing a conversation to its next message at once.

Rasa serves one message of a conversation at a time: each message takes a ticket and
waits its turn (rasa/core/lock_store.py). Its waiters look again only once a second, so
8 messages a customer sent at once were answered over 7 seconds, each waiting up to a
second after the one before it finished. Here a finished ticket wakes the waiters of its
conversation in the same process, and the next in line goes on at once. Same tickets,
same order, same storage as Rasa's:

* `PromptLockStore`: in memory (one Rasa server);
* `PromptRedisLockStore`: in Redis (Rasa servers sharing conversations). A ticket finished
  by another server is seen at the next look, every 50 ms instead of every second. Rasa's
  Redis store changes a lock by reading it and writing it back, so two servers taking a
  ticket at once could both get the same number (two turns of one conversation at once)
  or overwrite each other's (a message refused with a LockError); here each change is one
  Redis transaction.

Expired tickets (a crashed turn) are dropped once a second, as Rasa does.

endpoints.yml:  lock_store: {type: bot.lock_store.PromptLockStore}
           or:  lock_store: {type: bot.lock_store.PromptRedisLockStore, url: HOST, port: 6379, db: 1}
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Callable, Dict, Optional, Text, TypeVar

import redis

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, RedisLockStore


class _NextInLine:
    """The waiting of both stores: woken by a finished ticket, else a look every `look_every`."""

    look_every = 1.0  # seconds

    def __init__(self, **store: Any) -> None:
        self._turns_over: Dict[Text, asyncio.Event] = {}  # set when a conversation's ticket finishes
        super().__init__(**store)

    async def _acquire_lock(self, conversation_id: Text, ticket: int,
                            wait_time_in_seconds: float) -> TicketLock:
        last_update = time.monotonic()
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:  # expired
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if not lock.is_locked(ticket):
                return lock
            turn_over = self._turns_over.setdefault(conversation_id, asyncio.Event())
            try:
                await asyncio.wait_for(turn_over.wait(), self.look_every)
            except asyncio.TimeoutError:
                pass
            # Rasa's loop drops expired tickets; a read-modify-write, so not at every look.
            if time.monotonic() - last_update >= wait_time_in_seconds:
                self.update_lock(conversation_id)
                last_update = time.monotonic()

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        super().finish_serving(conversation_id, ticket_number)
        turn_over = self._turns_over.pop(conversation_id, None)
        if turn_over is not None:
            turn_over.set()


T = TypeVar("T")


class _AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store with every read-modify-write of a lock done as one transaction
    (WATCH, then MULTI/EXEC, again if another server changed the lock in between)."""

    def _change(self, conversation_id: Text, change: Callable[[TicketLock], T],
                create: bool = False) -> Optional[T]:
        """Apply `change` to the stored lock (a new one if `create`; nothing is done to a
        missing lock otherwise) and store the result; a lock left with no ticket is deleted."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else (
                        self.create_lock(conversation_id) if create else None)
                    if lock is None:
                        return None
                    result = change(lock)
                    pipe.multi()
                    if lock.is_someone_waiting():
                        pipe.set(key, lock.dumps())
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another server changed this lock: read it again

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime),
                                create=True)
        except Exception as e:  # as Rasa's: the message is refused, not half-served
            raise LockError(f"Error while acquiring lock. Error:\n{e}")

    def update_lock(self, conversation_id: Text) -> None:
        self._change(conversation_id, TicketLock.remove_expired_tickets)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        # finish_serving already deletes a lock nobody waits for; Rasa's separate check and
        # delete could drop a ticket another server took in between.
        self.finish_serving(conversation_id, ticket_number)


class PromptLockStore(_NextInLine, InMemoryLockStore):
    def __init__(self, endpoint_config: Any = None) -> None:
        super().__init__()


class PromptRedisLockStore(_NextInLine, _AtomicRedisLockStore):
    look_every = 0.05  # another Rasa server's finished ticket is seen within 50 ms

    def __init__(self, endpoint_config: Any = None, **redis: Any) -> None:
        """From endpoints.yml (as Rasa's `type: redis`: url is the host) or keyword arguments."""
        if endpoint_config is not None:
            redis = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **redis}
        super().__init__(**redis)
