"""English messages the calibrated FAQ decision is unsure of: what a suggestion floor gives them.

Against a Vietnamese-only FAQ an English message's dense margin is small even when the right
entry comes first, so the dense model (bot/kb/calibration.py) leaves many below its suggest
level and the customer hears "no reliable answer". `english_floor` offers them the
suggestions anyway when their best dense similarity reaches the (1 - share) quantile of
OFF_TOPIC's English messages. For each share this counts, over the English messages of each
evaluation set of bench/e2e_eval.py that are under the suggest level, how many would now be
offered suggestions: with their entry among them, without it, or out of scope. The floor also
takes suggestions away: an English message over the suggest level but not answered is offered
entries only when it reaches the floor, so the last three columns count the messages the
dense margin alone would offer entries and the floor turns away. The share is chosen on the
tune set (ewallet); the other sets are reported.

  .venv/bin/python bench/english_floor.py     # prints one table, writes bench/english_floor.md
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bot.kb.calibration import fit_simulation, simulate  # noqa: E402
from bot.kb.corpus import load_corpus  # noqa: E402
from bot.kb.evaluate import read_corpus_csv, read_queries_csv  # noqa: E402
from bot.kb.search import KnowledgeBase  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from e2e_eval import ROLE, SETS  # noqa: E402

SHARES = (0.3, 0.2, 0.1, 0.05)


def english_rows(kb: KnowledgeBase, queries):
    """(best dense similarity, expected id or "", the top 3 ids, over the suggest level) of
    the English messages the dense model does not answer."""
    suggest_p = kb.decision_model.cuts(english=True)[1]
    rows, english = [], 0
    for q in queries:
        ch = kb.scores(q.text, all_entries=True)
        if ch.language != "en":
            continue
        english += 1
        decision = kb.decide(q.text)
        if decision.kind == "answer":
            continue
        score, dense, _ = kb.fuse(ch)
        top3 = [kb.entries[int(ch.candidates[i])].id for i in np.argsort(-score, kind="stable")[:3]]
        rows.append((float(dense.max()), q.expected_id or "", top3, decision.confidence >= suggest_p))
    return english, rows


def outcomes(rows):
    """(with their entry among the top 3, without it, out of scope) counts of `rows`."""
    right = sum(1 for _, expected, top3, _ in rows if expected and expected in top3)
    oos = sum(1 for _, expected, _, _ in rows if not expected)
    return right, len(rows) - right - oos, oos


def main() -> int:
    started = time.perf_counter()
    lines = ["| set | role | English messages | under the suggest level | share of English off-topic "
             "over the floor | floor | offered, with their entry | offered, without it | "
             "out of scope, offered | turned away, with their "
             "entry | turned away, without it | out of scope, turned away |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, (corpus, queries) in SETS.items():
        entries = read_corpus_csv(corpus) if corpus else load_corpus(PROJECT / "knowledge_base")
        kb = KnowledgeBase.from_entries(entries)
        sim = simulate(kb)  # the index's own simulation; each share's floor as calibration fits it
        english, rows = english_rows(kb, read_queries_csv(queries))
        under = [r for r in rows if not r[3]]
        for share in SHARES:
            floor = fit_simulation(sim, english_offtopic_suggested=share).english_floor
            lifted = outcomes([r for r in under if r[0] >= floor])
            dropped = [r for r in rows if r[3] and r[0] < floor]  # the margin alone would offer
            lines.append(f"| {name} | {ROLE[name]} | {english} | {len(under)} | {share} | {floor:.3f} | "
                         + " | ".join(map(str, lifted + outcomes(dropped))) + " |")
    text = "\n".join(lines)
    (BENCH / "english_floor.md").write_text(
        "# English messages the FAQ does not answer: what a suggestion floor offers them, and takes away\n\n"
        f"Produced by `bench/english_floor.py` (embedder {load_settings()['embedder']}, shipped settings; {time.perf_counter() - started:.0f} s). "
        "Floor: the quantile of OFF_TOPIC's English messages' best dense similarity that lets "
        "the given share of them through. Chosen on ewallet (tune): 0.1 "
        "(hotro.yml kb.decision.english_offtopic_suggested). Offered: messages under the "
        "suggest level that reach the floor. Turned away: messages over the suggest level, not "
        "answered, under the floor; their dense margin alone would offer them entries, the floor "
        "does not (bot/kb/search.py decide_calibrated).\n\n" + text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
