"""Taking a webhook call in, without Rasa: the dedupe write to hotro's database must not
stop the server's event loop (every other customer's turn runs on it), and a customer's
messages must still reach the bot in the order the platform sent them."""
from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, Iterator, List

import pytest
import sqlalchemy.exc

from bot.channels.messenger import MessengerInput, MessengerStore, signature_256
from tests.channels.conftest import fb_body, fb_text_event, new_id
from tests.standins.graph import GraphStandin

SECRET = "app-secret"


class SlowStore(MessengerStore):
    """hotro's real channel store on a database that answers slowly (a busy disk, a far
    server), the first write slowest: 0.3 s, then 0.2, then 0.1."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = 0
        self.delays = [0.3, 0.2, 0.1]

    def first_time(self, event_key: str) -> bool:
        self.writing += 1
        time.sleep(self.delays.pop(0) if self.delays else 0.0)
        self.writing -= 1
        return super().first_time(event_key)


class Request:
    """What the webhook reads of a Sanic request."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.headers: Dict[str, str] = {"X-Hub-Signature-256": signature_256(SECRET, body)}
        self.remote_addr = self.ip = "127.0.0.1"


@pytest.fixture
def graph() -> Iterator[GraphStandin]:
    server = GraphStandin("page-token").start()
    yield server
    server.stop()


def test_the_dedupe_write_runs_off_the_event_loop_and_messages_keep_their_order(graph):
    psid = new_id("psid")
    texts = ["tin thứ nhất", "tin thứ hai", "tin thứ ba"]

    async def scenario() -> tuple:
        channel = MessengerInput("verify", SECRET, "page-token", graph_url=f"{graph.url}/v19.0",
                                 retry_backoff=0.01)
        store = channel.store = SlowStore()
        received: List[str] = []
        ticks_while_writing = 0

        async def on_new_message(message: Any) -> None:
            received.append(message.text)

        async def another_customers_work() -> None:
            nonlocal ticks_while_writing
            while True:
                await asyncio.sleep(0.005)
                ticks_while_writing += store.writing > 0

        other = asyncio.create_task(another_customers_work())
        try:
            # Three webhook calls at once, as Meta may send them: taken in arrival order.
            answers = await asyncio.gather(*(
                channel._take_webhook(Request(fb_body(fb_text_event(psid, t))), on_new_message)
                for t in texts))
            while channel._tasks:
                await asyncio.gather(*list(channel._tasks))
        finally:
            other.cancel()
            await channel.client.close()
        return [a.status for a in answers], received, ticks_while_writing

    statuses, received, ticks_while_writing = asyncio.run(scenario())
    assert statuses == [200, 200, 200]
    assert received == texts  # taken one call at a time: a slow first write holds the rest
    # Blocking writes would let nothing else run while they last (0 ticks).
    assert ticks_while_writing > 0


class FailingStore(MessengerStore):
    """hotro's real channel store, whose database goes away at the second write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.down = False

    def first_time(self, event_key: str) -> bool:
        self.writes += 1
        if self.down or self.writes == 2:
            raise sqlalchemy.exc.OperationalError("INSERT", {}, ConnectionError("database is down"))
        return super().first_time(event_key)


def test_a_call_the_database_failed_halfway_loses_no_message_when_meta_sends_it_again(graph):
    psid = new_id("psid")
    texts = ["cho mình hỏi phí ship", "và đổi trả thế nào"]
    body = fb_body(*(fb_text_event(psid, t) for t in texts))

    async def scenario() -> tuple:
        channel = MessengerInput("verify", SECRET, "page-token", graph_url=f"{graph.url}/v19.0",
                                 retry_backoff=0.01)
        channel.store = FailingStore()
        received: List[str] = []

        async def on_new_message(message: Any) -> None:
            received.append(message.text)

        statuses = []
        try:
            for _ in range(2):  # Meta sends again what was not acknowledged
                statuses.append((await channel._take_webhook(Request(body), on_new_message)).status)
                while channel._tasks:
                    await asyncio.gather(*list(channel._tasks))
        finally:
            await channel.client.close()
        return statuses, received

    statuses, received = asyncio.run(scenario())
    assert statuses == [503, 200]
    assert received == texts  # each once: the first, recorded before the failure, is not lost
