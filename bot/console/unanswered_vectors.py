"""The vectors of unanswered messages, kept in hotro's database (table `unanswered_vectors`,
bot/db.py's engine: SQLite by default, PostgreSQL by URL), so a message is embedded once
for every console replica and restart, and an editor's view only reads them.

A row is keyed by the SHA-256 of the text the embedder read (the message as the FAQ
search prepares it: bot.analytics.clustering.embedded_texts) and the embedder's spec, so
vectors of another embedder are never mixed in, and a text the search now prepares
differently (accents restored by a newer corpus) is embedded again. The vector is stored
as little-endian float32 bytes (1.5 kB for e5-small's 384 dimensions).
"""
from __future__ import annotations

import hashlib
from typing import Dict, List, Sequence, Tuple

import numpy as np
from sqlalchemy import Column, DateTime, LargeBinary, String, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import declarative_base

from bot.analytics.clustering import embedded_texts
from bot.db import utcnow

VectorsBase = declarative_base()
READ_CHUNK = 500  # hashes per SELECT ... IN (...), under every database's parameter limit
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class VectorRow(VectorsBase):
    __tablename__ = "unanswered_vectors"
    text_hash = Column(String(64), primary_key=True)  # SHA-256 hex of the embedded text
    embedder = Column(String(255), primary_key=True)  # the embedder's spec
    vector = Column(LargeBinary, nullable=False)  # float32, little-endian
    created_at = Column(DateTime, nullable=False, default=utcnow)


def text_hash(embedded_text: str) -> str:
    return hashlib.sha256(embedded_text.encode("utf-8")).hexdigest()


class VectorStore:
    def __init__(self, engine) -> None:
        self.engine = engine  # its table comes with the schema's migrations (bot/migrations)

    def stored(self, embedder: str, hashes: Sequence[str]) -> Dict[str, np.ndarray]:
        """hash -> vector of those `hashes` stored for `embedder`."""
        found: Dict[str, np.ndarray] = {}
        wanted = list(dict.fromkeys(hashes))
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), READ_CHUNK):
                rows = connection.execute(
                    select(VectorRow.text_hash, VectorRow.vector)
                    .where(VectorRow.embedder == embedder,
                           VectorRow.text_hash.in_(wanted[start:start + READ_CHUNK])))
                found.update((h, np.frombuffer(v, dtype="<f4")) for h, v in rows)
        return found

    def add(self, embedder: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Stores the vectors; one stored meanwhile (the page and the background task at
        once, another replica) is kept."""
        rows = {h: np.asarray(v, dtype="<f4").tobytes() for h, v in zip(hashes, vectors)}
        if not rows:
            return
        now = utcnow()
        insert = _INSERTS[self.engine.dialect.name]
        with self.engine.begin() as connection:
            connection.execute(insert(VectorRow).on_conflict_do_nothing(), [
                {"text_hash": h, "embedder": embedder, "vector": v, "created_at": now}
                for h, v in rows.items()])

    def _lookup(self, kb, texts: Sequence[str]) -> Tuple[List[str], List[str], Dict[str, np.ndarray]]:
        """(the texts as the embedder reads them, their hashes, hash -> stored vector)."""
        embedded = embedded_texts(kb, texts)
        hashes = [text_hash(e) for e in embedded]
        return embedded, hashes, self.stored(kb.embedder.spec, hashes)

    def missing(self, kb, texts: Sequence[str]) -> List[str]:
        """The texts whose vector for `kb`'s embedder is not stored."""
        _, hashes, stored = self._lookup(kb, texts)
        return [t for t, h in zip(texts, hashes) if h not in stored]

    def vectors(self, kb, texts: Sequence[str]) -> np.ndarray:
        """A vector for each text (len(texts), dim): the stored ones read, the others
        embedded with `kb` and stored."""
        embedded, hashes, known = self._lookup(kb, texts)
        missing: Dict[str, str] = {h: e for e, h in zip(embedded, hashes) if h not in known}
        if missing:
            made = kb.embedder.embed_queries(list(missing.values()))
            self.add(kb.embedder.spec, list(missing), made)
            known.update(zip(missing, made))
        return np.asarray([known[h] for h in hashes], dtype=np.float32).reshape(len(texts), -1)

    def count(self, embedder: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(VectorRow)
                                      .where(VectorRow.embedder == embedder)).scalar_one()
