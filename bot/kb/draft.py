"""The FAQ as the store holds it now, unpublished saves included, as a KnowledgeBase: what
the console's "try it" box and its search by meaning run against, so an editor sees what
the bot would do once the draft is published.

    drafts = DraftKnowledgeBases(settings)
    kb, version = drafts.get(store)          # one build per store version, cached
    result = try_message(kb, "phi ship bao nhieu")

When the store's latest version is the one this process serves, the draft is the served
KnowledgeBase (bot.kb.service.get_knowledge_base). Otherwise it is built with build_index
into `<kb.index_dir>_draft`, incrementally: only the entries whose text changed since the
previous draft are embedded, and the first draft starts from a copy of the served index.
The served index's answer decision is carried over, as every server does for the first
seconds after a publish (bot/kb/service.py), so the decision shown is the bot's.
"""
from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from bot.kb.index import DEFAULT_EXACT_INDEX_MAX, IndexParams
from bot.kb.index_store import MANIFEST, build_index, read_manifest
from bot.kb.search import KnowledgeBase
from bot.kb.service import get_knowledge_base, served_version
from bot.kb.store import FaqStore
from bot.text import prepare

log = logging.getLogger(__name__)

RANKED = 5  # entries the "try it" box lists


class DraftKnowledgeBases:
    """The draft KnowledgeBase of one configuration, cached per store version (thread-safe)."""

    def __init__(self, settings: Dict[str, Any]):
        from bot.settings import project_path

        self.settings = settings
        kb = dict(settings.get("kb") or {})
        index_dir = project_path(kb.get("index_dir", "var/kb_index"))
        self.draft_dir = index_dir.with_name(index_dir.name + "_draft")
        self._lock = threading.Lock()  # one build at a time; the others wait for it
        self._cached: Optional[Tuple[KnowledgeBase, int]] = None

    def get(self, store: FaqStore) -> Tuple[KnowledgeBase, int]:
        """(the KnowledgeBase of the store as it is now, that store version)."""
        head = store.head()
        with self._lock:
            if self._cached is not None and self._cached[1] == head:
                return self._cached
            served = get_knowledge_base(self.settings)
            if served_version(self.settings) == head:
                self._cached = (served, head)
            else:
                self._cached = (self._build(store, head, served), head)
            return self._cached

    def _build(self, store: FaqStore, head: int, served: KnowledgeBase) -> KnowledgeBase:
        self._start_from(served)
        entries = store.entries(head)
        decision = served.data.decision
        carried = {**decision, "carried_over": True} if decision else None
        kb = dict(self.settings.get("kb") or {})
        report = build_index(f"store v{head} (draft)", self.draft_dir, served.embedder.spec, progress=False,
                             embedder=served.embedder, params=IndexParams.from_settings(kb),
                             exact_index_max=int(kb.get("exact_index_max", DEFAULT_EXACT_INDEX_MAX)),
                             decision=(lambda data: carried) if carried else None, entries=entries)
        log.info("FAQ draft: %s", report.summary())
        return KnowledgeBase.load(self.draft_dir, served.embedder.spec, settings=self.settings)

    def _start_from(self, served: KnowledgeBase) -> None:
        """A first draft reuses the served index's vectors: a copy of its data directory."""
        if read_manifest(self.draft_dir) is not None or not served.data.path:
            return
        source = Path(served.data.path)
        self.draft_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, self.draft_dir / source.name, dirs_exist_ok=True)
        (self.draft_dir / MANIFEST).write_text(json.dumps(served.data.manifest, ensure_ascii=False),
                                               encoding="utf-8")


def try_message(kb: KnowledgeBase, text: str, language: Optional[str] = None) -> Dict[str, Any]:
    """What the bot's FAQ search makes of `text`: the ranked entries with their scores and
    the decision (KnowledgeBase.decide, the bot's own): "answer", "suggest" or "abstain"."""
    message = prepare(text)
    query = kb.query(message, language)
    decision = kb.decide(message, language)
    hits = kb.search(message, k=RANKED, language=language)
    decided = [h.entry_id for h in decision.hits]
    return {
        "kind": decision.kind, "confidence": round(float(decision.confidence), 4),
        "entry_id": decided[0] if decision.kind == "answer" else None,
        "suggestions": decided if decision.kind == "suggest" else [],
        "language": query.language, "restored": query.restored,
        "calibrated": kb.decision_model is not None,
        "hits": [{"id": h.entry_id, "topic": h.entry.topic, "question": h.entry.question,
                  "score": round(h.score, 4), "dense": round(h.dense, 4), "lexical": round(h.lexical, 4),
                  "answer": h.entry.answer(query.language)} for h in hits],
    }
