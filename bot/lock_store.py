"""PromptLockStore: Rasa's in-memory ticket lock that hands a conversation on at once.

Rasa serves one message of a conversation at a time: each message takes a ticket and
waits its turn (rasa/core/lock_store.py). Its waiters look again only once a second, so
8 messages a customer sends at once were answered over 7 seconds, each waiting up to a
second after the one before it finished. Here a finished ticket wakes the waiters of its
conversation, and the next in line goes on at once; the one-second look stays as the
fallback for tickets that expire (a crashed turn). Same tickets, same order as Rasa's.

endpoints.yml:  lock_store: {type: bot.lock_store.PromptLockStore}
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockError


class PromptLockStore(InMemoryLockStore):
    def __init__(self, endpoint_config: Any = None) -> None:
        super().__init__()
        # conversation -> set when its current ticket finishes (a fresh one per turn)
        self._turn_over: Dict[Text, asyncio.Event] = {}

    async def _acquire_lock(self, conversation_id: Text, ticket: int,
                            wait_time_in_seconds: float) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:  # expired
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if not lock.is_locked(ticket):
                return lock
            turn_over = self._turn_over.setdefault(conversation_id, asyncio.Event())
            try:
                await asyncio.wait_for(turn_over.wait(), wait_time_in_seconds)
            except asyncio.TimeoutError:
                self.update_lock(conversation_id)  # drop expired tickets, as Rasa's loop does

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        super().finish_serving(conversation_id, ticket_number)
        turn_over = self._turn_over.pop(conversation_id, None)
        if turn_over is not None:
            turn_over.set()
