"""A message whose conversation cannot be read or kept fails, rather than being answered blind.

Rasa wraps every tracker store in FailSafeTrackerStore (rasa/core/agent.py). When the store
cannot be read, the message is handled on a new, empty tracker: the customer is answered as
a stranger, and by the bot even if a person has the conversation. When the store cannot be
written, the turn is kept in memory only: the reply went out, the transcript misses it.
kill -9 of PostgreSQL under load left an answered message out of its conversation so
(tests/integration/test_faults.py, "untracked"). `install` makes the wrapper raise the
store's error instead: the message is not handled, and its channel has it sent again (REST
answers 503 with Retry-After, the webhook channels retry while the store is down, the widget
asks the customer to send it again).
"""
from __future__ import annotations

import logging
from typing import Any

from rasa.core.tracker_store import FailSafeTrackerStore
from sanic import Blueprint

logger = logging.getLogger(__name__)


def _raise(error: Exception) -> None:
    raise error


def install(blueprint: Blueprint) -> None:
    """Once the Rasa server has loaded its agent, its tracker store's errors are raised.
    Every hotro channel calls this on its blueprint; the first one does it."""

    @blueprint.listener("after_server_start")
    async def raise_tracker_store_errors(app: Any, _loop: Any) -> None:
        agent = getattr(app.ctx, "agent", None)
        store = getattr(agent, "tracker_store", None)
        if not isinstance(store, FailSafeTrackerStore) or store._on_tracker_store_error is _raise:
            return
        store._on_tracker_store_error = _raise  # the processor holds the same wrapper
        logger.info("tracker store errors fail the message (no fallback to memory)")
