"""The stored vectors of unanswered messages (bot/console/unanswered_vectors.py) on SQLite and
PostgreSQL, with the bot's own (default) embedder: what a view reads is what the grouping
would have embedded, each text is embedded once, another embedder's vectors never answer,
and a vector stored twice at once is kept once."""
from __future__ import annotations

import numpy as np
import pytest

from bot.analytics.clustering import embedded_texts, message_vectors
from bot.console.unanswered_vectors import VectorStore, text_hash
from bot.db import engine_for
from tests.unit.test_unanswered import one_kb

MESSAGES = ["mình muốn hủy đơn hàng", "minh muon huy don hang", "phí ship về Huế bao nhiêu",
            "mình muốn hủy đơn hàng"]


@pytest.fixture(scope="module")
def kb():
    return one_kb()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_each_text_is_embedded_once_and_read_back_as_it_was(database, kb, tmp_path, request,
                                                           monkeypatch):
    url = (f"sqlite:///{tmp_path / 'hotro.db'}" if database == "sqlite"
           else request.getfixturevalue("new_postgres_database")())
    store = VectorStore(engine_for(url))
    embedded = []
    real = kb.embedder.embed_queries
    monkeypatch.setattr(kb.embedder, "embed_queries", lambda texts: embedded.extend(texts) or real(texts))

    assert store.missing(kb, MESSAGES) == MESSAGES
    first = store.vectors(kb, MESSAGES)
    expected = message_vectors(kb, MESSAGES)
    assert first.shape == (4, kb.embedder.dim) and np.allclose(first, expected, atol=1e-6)
    distinct = set(embedded_texts(kb, MESSAGES))
    assert store.count(kb.embedder.spec) == len(distinct)

    embedded.clear()
    again = VectorStore(engine_for(url)).vectors(kb, MESSAGES)  # another replica, or a restart
    assert embedded == [] and np.array_equal(again, first) and store.missing(kb, MESSAGES) == []

    hashes = [text_hash(t) for t in distinct]
    assert store.stored("sentence-transformers:other-model", hashes) == {}
    store.add(kb.embedder.spec, hashes, np.zeros((len(hashes), kb.embedder.dim)))  # stored meanwhile
    assert np.array_equal(store.vectors(kb, MESSAGES), first) and embedded == []
