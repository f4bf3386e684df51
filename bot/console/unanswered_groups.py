"""The unanswered questions grouped by meaning, and the phrasings customers' picked
suggestions propose, for the editors' page (unanswered.py) and the leads' dashboard.

Read from Rasa's event stream (bot/analytics/unanswered.py) for the dashboard's filters
(the shop's days, a channel), less what editors already handled (unanswered_marks.py). A
message as similar to an ignored one as two messages of one group stays ignored.
Grouping compares the distinct texts' vectors of the bot's own embedder (the FAQ search's
knowledge base, bot.kb.service), read from the table the console fills in the background
(unanswered_vectors.py, unanswered_embedding.py; a text not there yet is embedded and
stored here), and groups at most MAX_TEXTS of the latest distinct texts per view, so
10,000 failed turns do not hold the page.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

import numpy as np

from bot.analytics.clustering import DEFAULT_THRESHOLD, cluster, faq_centre, similarity
from bot.analytics.events import EventsUnavailable, read_events
from bot.analytics.unanswered import FailedTurn, PickedSuggestion, read_turns
from bot.console.dashboard import Filters
from bot.console.unanswered_marks import MarkStore
from bot.console.unanswered_vectors import VectorStore
from bot.kb.corpus import phrasing_key
from bot.kb.service import get_knowledge_base
from bot.kb.store import FaqStore
from bot.shop import shop_profile
from bot.text import normalize

MAX_TEXTS = 1000  # distinct texts grouped per view (the latest)
MAX_EXAMPLES = 8  # example messages shown per group
MAX_KEYS = 2000  # message keys a group hands the page (what "ignore" and "add" act on)


def same_text(text: str) -> str:
    """The form two messages that say the same thing share (NFC, one tone placement, case)."""
    return normalize(text).lower()


def _in_range(at: float, channel: str, selection: Filters, zone: ZoneInfo) -> bool:
    day = datetime.fromtimestamp(at, zone).date()
    return selection.start <= day <= selection.end and (selection.channel is None
                                                        or channel == selection.channel)


def read_selected(settings: Dict[str, Any], selection: Filters
                  ) -> Tuple[List[FailedTurn], List[PickedSuggestion], bool]:
    """The failed turns and picked suggestions of the selection; False when the broker's
    events cannot be read."""
    try:
        events = read_events()
    except EventsUnavailable:
        return [], [], False
    failed, picked = read_turns(events)
    zone = ZoneInfo(shop_profile(settings).timezone)
    return ([f for f in failed if _in_range(f.at, f.channel, selection, zone)],
            [p for p in picked if _in_range(p.at, p.channel, selection, zone)], True)


def messages_by_key(settings: Dict[str, Any], keys: Sequence[str]) -> Dict[str, str]:
    """key -> text of the failed turns and picked suggestions with those keys (all dates)."""
    wanted = set(keys)
    try:
        failed, picked = read_turns(read_events())
    except EventsUnavailable:
        return {}
    return {m.key: m.text for m in [*failed, *picked] if m.key in wanted}


def open_by_text(failed: List[FailedTurn], handled: Dict[str, str]) -> Dict[str, List[FailedTurn]]:
    """The failed turns no editor handled by what they say (`same_text`), each text's turns
    the latest first, the texts in the order of their latest turn."""
    by_text: Dict[str, List[FailedTurn]] = {}
    for turn in reversed(failed):  # the latest first
        if turn.key not in handled:
            by_text.setdefault(same_text(turn.text), []).append(turn)
    return by_text


def _not_ignored(kb, texts: List[str], vectors: np.ndarray, marks: MarkStore,
                 known: VectorStore, threshold: float, centre: Optional[np.ndarray]) -> List[bool]:
    ignored = marks.ignored_texts()
    if not ignored or not texts:
        return [True] * len(texts)
    nearest = similarity(vectors, texts, known.vectors(kb, ignored), ignored,
                         centre=centre).max(axis=1)
    return list(nearest < threshold)


def unanswered_groups(settings: Dict[str, Any], selection: Filters, marks: MarkStore,
                      store: FaqStore, known: VectorStore, offset: int = 0, limit: int = 20,
                      threshold: float = DEFAULT_THRESHOLD) -> Dict[str, Any]:
    """The page's data: the groups of open failed turns, largest first, `limit` from
    `offset`, each with examples, counts, channels, reasons and the nearest FAQ entry
    (`known`: the texts' stored vectors)."""
    failed, _, available = read_selected(settings, selection)
    by_text = open_by_text(failed, marks.marks())
    texts = list(by_text)
    grouped_texts = texts[:MAX_TEXTS]
    kb = get_knowledge_base(settings) if grouped_texts else None
    shown_texts = [by_text[t][0].text for t in grouped_texts]
    shown = known.vectors(kb, shown_texts) if kb else None
    centre = faq_centre(kb) if kb else None
    keep = _not_ignored(kb, shown_texts, shown, marks, known, threshold, centre) if kb else []
    kept = [i for i, k in enumerate(keep) if k]
    kept_texts = [shown_texts[i] for i in kept]
    vectors = shown[kept] if kept else None
    labels = cluster(similarity(vectors, kept_texts, centre=centre), threshold) if kept else []
    row = {i: n for n, i in enumerate(kept)}
    members: Dict[int, List[int]] = {}
    for i, label in zip(kept, labels):
        members.setdefault(label, []).append(i)
    groups = []
    for indexes in members.values():
        turns = [t for i in indexes for t in by_text[grouped_texts[i]]]
        # the most asked first, then the most typical (closest to the group's centre): the
        # first example is the group's title and a new entry's question
        centre = vectors[[row[i] for i in indexes]].mean(axis=0)
        counted = sorted(indexes, key=lambda i: (-len(by_text[grouped_texts[i]]),
                                                 -float(vectors[row[i]] @ centre)))
        groups.append({
            "size": len(turns),
            "texts": len(indexes),
            "latest": max(t.at for t in turns),
            "examples": [{"text": by_text[grouped_texts[i]][0].text,
                          "count": len(by_text[grouped_texts[i]]),
                          "keys": [t.key for t in by_text[grouped_texts[i]]][:MAX_KEYS]}
                         for i in counted[:MAX_EXAMPLES]],
            "keys": [t.key for t in turns][:MAX_KEYS],
            "channels": dict(Counter(t.channel or "?" for t in turns).most_common()),
            "reasons": dict(Counter(r for t in turns for r in t.reasons).most_common()),
        })
    groups.sort(key=lambda g: (-g["size"], -g["latest"]))
    page = groups[offset:offset + limit]
    for group in page:
        group["nearest"] = nearest_entry(kb, store, group["examples"][0]["text"])
        group["id"] = group["keys"][0]
    return {"groups": page, "total_groups": len(groups), "offset": offset, "limit": limit,
            "messages": sum(len(turns) for turns in by_text.values()), "distinct_texts": len(texts),
            "grouped_texts": len(grouped_texts), "events_available": available,
            "threshold": threshold}


def nearest_entry(kb, store: FaqStore, text: str) -> Optional[Dict[str, Any]]:
    """The FAQ entry the bot's own search puts first for `text`, with the latest version
    of it in the store (what a save of new phrasings starts from)."""
    hits = kb.search(text, k=1) if kb is not None else []
    if not hits:
        return None
    current = store.current(hits[0].entry_id)
    version = current.version if current is not None and not current.deleted else None
    return {"id": hits[0].entry_id, "question": hits[0].entry.question,
            "topic": hits[0].entry.topic, "score": round(hits[0].score, 3), "version": version}


def proposals(settings: Dict[str, Any], selection: Filters, marks: MarkStore,
              store: FaqStore, limit: int = 200) -> Dict[str, Any]:
    """Phrasings proposed by picked suggestions: (message, entry) pairs not handled yet and
    not already the entry's question or a phrasing, the most picked first."""
    _, picked, available = read_selected(settings, selection)
    handled = marks.marks()
    current = {x.entry.id: x for x in store.stored()}
    pairs: Dict[Tuple[str, str], List[PickedSuggestion]] = {}
    for pick in reversed(picked):
        stored = current.get(pick.entry_id)
        if pick.key in handled or stored is None:
            continue
        known = {phrasing_key(t) for t in [stored.entry.question, *stored.entry.phrasings]}
        if phrasing_key(pick.text) in known:
            continue
        pairs.setdefault((same_text(pick.text), pick.entry_id), []).append(pick)
    rows = [{"text": picks[0].text, "entry_id": entry_id, "count": len(picks),
             "question": current[entry_id].entry.question,
             "channels": dict(Counter(p.channel or "?" for p in picks)),
             "keys": [p.key for p in picks][:MAX_KEYS]}
            for (_, entry_id), picks in pairs.items()]
    rows.sort(key=lambda r: -r["count"])
    return {"proposals": rows[:limit], "total": len(rows), "events_available": available}
