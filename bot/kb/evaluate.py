"""Measure FAQ search on a labelled query set: ranking quality and what the bot would do.

    evaluate_kb("corpus.csv", "queries.csv") -> {"recall@1": ..., ...}

CORPUS.csv: columns id, question, answer (question may be empty: the entry is then indexed
by its answer alone); an exported corpus (bot.kb.corpus_writer.export_csv: answer_vi, phrasings,
...) works too. QUERIES.csv: columns query, expected_id (empty = nothing in the corpus
answers it; the bot should not answer). Extra columns are ignored; quoted multi-line cells
are fine. The index is built in memory.

Metrics:
  recall@1, recall@5, mrr@10   over the queries that have an expected_id
  answered_correct             answered with the expected entry
  answered_wrong               answered with another entry, or answered an unanswerable query
  abstained_answerable         did not answer (suggested or abstained) an answerable query
  abstained_correct            did not answer an unanswerable query
The four decision outcomes are fractions of all queries and add up to 1. "suggested"
(the share of queries that got suggestions rather than an answer or an abstention) and
"suggest_hit" (of those answerable queries that got suggestions, the share whose
suggestions included the expected entry) are reported too.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from bot.kb.corpus import Entry
from bot.kb.search import QueryScores, Hit, KnowledgeBase, SearchParams, decide_from_hits

METRIC_KEYS = ["recall@1", "recall@5", "mrr@10", "answered_correct", "answered_wrong",
               "abstained_answerable", "abstained_correct", "n_queries"]


@dataclass
class Query:
    text: str
    expected_id: str  # "" = unanswerable
    variant: str = ""


def read_corpus_csv(path: str | os.PathLike) -> List[Entry]:
    """Entries of an evaluation corpus CSV (id, question, answer; or an exported corpus)."""
    entries = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
        if "id" not in fields or not ({"answer", "answer_vi"} & set(fields) or "question" in fields):
            raise ValueError(f"{path}: expected columns id, question, answer (got {reader.fieldnames})")

        def get(row: Dict[str, str], name: str) -> str:
            return (row.get(fields[name]) or "").strip() if name in fields else ""

        for row in reader:
            entry_id = get(row, "id")
            if not entry_id:
                continue
            phrasings = [p.strip() for p in get(row, "phrasings").splitlines() if p.strip()]
            entries.append(Entry(
                id=entry_id, topic=get(row, "topic") or "eval", question=get(row, "question"),
                phrasings=phrasings, answer_vi=get(row, "answer") or get(row, "answer_vi"),
                answer_en=get(row, "answer_en") or None,
                tags=[t.strip() for t in get(row, "tags").split(",") if t.strip()],
                source=str(path),
            ))
    if not entries:
        raise ValueError(f"{path}: no entries")
    return entries


def read_queries_csv(path: str | os.PathLike) -> List[Query]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
        if "query" not in fields:
            raise ValueError(f"{path}: expected columns query, expected_id (got {reader.fieldnames})")
        out = []
        for row in reader:
            text = (row.get(fields["query"]) or "").strip()
            if not text:
                continue
            out.append(Query(text, (row.get(fields.get("expected_id", ""), "") or "").strip(),
                             (row.get(fields.get("variant", ""), "") or "").strip()))
    return out


def query_scores(kb: KnowledgeBase, queries: Sequence[Query]) -> List[QueryScores]:
    """Per-query raw scores over every entry (the expensive part: one embedding each)."""
    return [kb.scores(q.text, all_entries=True) for q in queries]


def score_queries(kb: KnowledgeBase, queries: Sequence[Query], scores: Sequence[QueryScores],
                  params: Optional[SearchParams] = None, mode: str = "hybrid") -> List[Dict[str, Any]]:
    """Per query: the ranking and the decision under `params`.

    mode "dense" or "lexical" keeps only that part of the score (for comparison tables).
    """
    p = params or kb.params
    out = []
    for q, ch in zip(queries, scores):
        score, dense, lexical = kb.fuse(ch, p)
        if mode == "dense":
            score = dense
        elif mode == "lexical":
            score = lexical
        order = np.argsort(-score, kind="stable")[:10]
        ids = [kb.entries[ch.candidates[i]].id for i in order]
        hits = [Hit(ids[j], float(score[i]), float(dense[i]), float(lexical[i]), kb.entries[ch.candidates[i]])
                for j, i in enumerate(order)]
        decision = decide_from_hits(hits[: max(p.suggestions, 2)], p)
        out.append({"query": q.text, "expected_id": q.expected_id, "variant": q.variant,
                    "ranked": ids, "top_score": hits[0].score if hits else 0.0,
                    "kind": decision.kind, "decided": [h.entry_id for h in decision.hits]})
    return out


def metrics(rows: Sequence[Dict[str, Any]]) -> Dict[str, float]:
    n = len(rows)
    answerable = [r for r in rows if r["expected_id"]]
    r1 = r5 = mrr = 0.0
    for r in answerable:
        ranked = r["ranked"]
        if ranked[:1] == [r["expected_id"]]:
            r1 += 1
        if r["expected_id"] in ranked[:5]:
            r5 += 1
        if r["expected_id"] in ranked[:10]:
            mrr += 1.0 / (ranked.index(r["expected_id"]) + 1)
    counts = {"answered_correct": 0, "answered_wrong": 0, "abstained_answerable": 0,
              "abstained_correct": 0, "suggested": 0}
    suggest_hits = suggest_answerable = 0
    for r in rows:
        if r["kind"] == "suggest":
            counts["suggested"] += 1
            if r["expected_id"]:
                suggest_answerable += 1
                suggest_hits += r["expected_id"] in r["decided"]
        if r["kind"] == "answer":
            ok = bool(r["expected_id"]) and r["decided"][0] == r["expected_id"]
            counts["answered_correct" if ok else "answered_wrong"] += 1
        else:
            counts["abstained_answerable" if r["expected_id"] else "abstained_correct"] += 1
    na = max(len(answerable), 1)
    out = {"recall@1": r1 / na, "recall@5": r5 / na, "mrr@10": mrr / na}
    out.update({k: v / max(n, 1) for k, v in counts.items()})
    out["suggest_hit"] = suggest_hits / suggest_answerable if suggest_answerable else 0.0
    out["n_queries"] = n
    out["n_answerable"] = len(answerable)
    return out


def evaluate_kb(corpus_csv: str | os.PathLike, queries_csv: str | os.PathLike,
                embedder_spec: Optional[str] = None, settings: Optional[Dict[str, Any]] = None
                ) -> Dict[str, float]:
    """Build an in-memory index of `corpus_csv` and score `queries_csv` against it."""
    entries = read_corpus_csv(corpus_csv)
    queries = read_queries_csv(queries_csv)
    known = {e.id for e in entries}
    kb = KnowledgeBase.from_entries(entries, embedder_spec=embedder_spec, settings=settings)
    rows = score_queries(kb, queries, query_scores(kb, queries))
    result = metrics(rows)
    result["unknown_expected_ids"] = sum(1 for q in queries if q.expected_id and q.expected_id not in known)
    result["embedder"] = kb.embedder.spec
    return result
