"""How well FAQ search ranks, per variant, on the sample corpus and on plain FAQs.

recall@1 and recall@3 of the hybrid ranking (and of its dense and lexical parts alone)
over the answerable messages of each evaluation set of bench/e2e_eval.py, with the
shipped settings (hotro.yml). Plain FAQs have one question and one answer an entry, no
phrasings, no English: the English rows are English messages against a Vietnamese-only
corpus. "no answer BM25" is the hybrid ranking without BM25 on the answers of plain FAQs
(fusion.lexical_answer_plain 0, the ranking before it); "no gloss" is the hybrid ranking
without the Vietnamese gloss of English messages (fusion.lexical_gloss 0; it only applies to
English messages to a corpus where some entries have no English). The "partly English"
rows are the sample's English messages against the sample corpus with the English of all
but some of its entries removed (an editor who has translated a few entries). Prints one
markdown table and writes bench/kb_ranking.md.

  .venv/bin/python bench/kb_ranking.py
"""
from __future__ import annotations

import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bot.kb.corpus import load_corpus  # noqa: E402
from bot.kb.evaluate import read_corpus_csv, read_queries_csv  # noqa: E402
from bot.kb.search import KnowledgeBase  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.text import detect_language  # noqa: E402
from e2e_eval import ROLE, SETS  # noqa: E402


# Shares of the sample's entries that keep their English (phrasings and answer) in the
# "partly English" rows: an editor who has translated some entries only.
PARTLY_ENGLISH = (0.5, 0.2, 0.05)


def partly_english(share: float) -> list:
    """The sample corpus with the English of all but a seeded `share` of its entries removed."""
    entries = load_corpus(PROJECT / "knowledge_base")
    keep = set(random.Random(0).sample(range(len(entries)), max(1, round(share * len(entries)))))
    return [e if i in keep else replace(e, answer_en="", phrasings=[
        p for p in e.phrasings if detect_language(p, default="vi") != "en"]) for i, e in enumerate(entries)]


def rank_set(name: str, entries=None, queries=None):
    corpus, set_queries = SETS[name]
    queries = queries if queries is not None else read_queries_csv(set_queries)
    settings = json.loads(json.dumps(load_settings()))
    settings["kb"]["decision"] = {"calibrated": False}  # ranking only
    if entries is None:
        entries = read_corpus_csv(corpus) if corpus else load_corpus(PROJECT / "knowledge_base")
    kb = KnowledgeBase.from_entries(entries, settings=settings)
    without = replace(kb.params, lexical_answer_plain=0.0)
    no_gloss = replace(kb.params, lexical_gloss=0.0)
    hits = defaultdict(lambda: defaultdict(list))
    for q in queries:
        if not q.expected_id:
            continue
        ch = kb.scores(q.text, all_entries=True)
        score, dense, lexical = kb.fuse(ch)
        before = kb.fuse(ch, without)[0]
        glossless = kb.fuse(ch, no_gloss)[0]
        for mode, values in (("hybrid", score), ("dense", dense), ("lexical", lexical), ("before", before),
                             ("no_gloss", glossless)):
            order = [kb.entries[ch.candidates[i]].id for i in np.argsort(-values, kind="stable")[:3]]
            for variant in (q.variant, "all"):
                hits[variant][mode].append((order[0] == q.expected_id, q.expected_id in order))
    return hits


def table_row(name: str, role: str, variant: str, h) -> str:
    r = {m: (np.mean([a for a, _ in h[m]]), np.mean([b for _, b in h[m]])) for m in h}
    return (f"| {name} | {role} | {variant} | {len(h['hybrid'])} | {r['hybrid'][0]:.3f} | "
            f"{r['hybrid'][1]:.3f} | {r['dense'][0]:.3f} | {r['lexical'][0]:.3f} | "
            f"{r['before'][0]:.3f} | {r['no_gloss'][0]:.3f} |")


def main() -> int:
    started = time.perf_counter()
    lines = ["| set | role | variant | n | hybrid r@1 | hybrid r@3 | dense r@1 | lexical r@1 | no answer BM25: r@1 | no gloss: r@1 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name in SETS:
        hits = rank_set(name)
        for variant in sorted(hits, key=lambda v: (v == "all", v)):
            lines.append(table_row(name, ROLE[name], "**all**" if variant == "all" else variant, hits[variant]))
    english = [q for q in read_queries_csv(SETS["sample"][1]) if q.variant == "english"]
    for share in PARTLY_ENGLISH:
        hits = rank_set("sample", partly_english(share), english)
        lines.append(table_row(f"sample, English on {share:.0%} of entries", ROLE["sample"], "english",
                               hits["english"]))
    text = "\n".join(lines)
    (BENCH / "kb_ranking.md").write_text(
        "# FAQ ranking per variant\n\nProduced by `bench/kb_ranking.py` "
        f"(embedder {load_settings()['embedder']}, shipped fusion "
        f"weights; answerable messages only; run time {time.perf_counter() - started:.0f} s).\n\n"
        + text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
