"""The calibrated FAQ decision offline, on the TUNE sets only (issue 9).

Builds each tune set's index as the bot does (which fits its decision model from simulated
customers, bot/kb/calibration.py) and applies that model to every real message of the set:
the FAQ decision alone, without the stack, so that decision models can be compared in
seconds. The sets: ewallet, and the sample corpus's tune half (bench/e2e_eval.py); the
held-out half and the report sets (clinic, university) are never read here.
bench/e2e_eval.py stays the judge: there the router can still send a message elsewhere.

  PYTHONPATH=$PWD .venv/bin/python bench/decision_tune.py [--sets ewallet,sample] [--save F.pkl]

--save keeps every message's per-candidate scores and features (for studies of other
features and cuts). Prints one markdown table.
"""
from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bot.kb.calibration import decision_features  # noqa: E402
from bot.kb.corpus import load_corpus  # noqa: E402
from bot.kb.evaluate import read_corpus_csv, read_queries_csv  # noqa: E402
from bot.kb.search import KnowledgeBase  # noqa: E402
from bot.settings import load_settings  # noqa: E402

TUNE = ("ewallet", "sample")


def tune_set(name):
    """(entries, queries) of a tune set; for the sample, its tune half only."""
    from e2e_eval import SETS, sample_halves

    if name not in TUNE:
        raise SystemExit(f"{name}: not a tune set ({', '.join(TUNE)})")
    corpus, queries = SETS[name]
    qs = read_queries_csv(queries)
    if name == "sample":
        halves = sample_halves()
        qs = [q for q in qs if halves.get(q.text) == "tune"]
    entries = read_corpus_csv(corpus) if corpus else load_corpus(PROJECT / "knowledge_base")
    return entries, qs


def decide_all(kb: KnowledgeBase, queries):
    """One row per message: what the calibrated model decides, and whether its top is right."""
    model = kb.decision_model
    rows = []
    for q in queries:
        ch = kb.channels(q.text)
        score, dense, lexical = kb.fuse(ch)
        english = ch.language == "en"
        features = decision_features(score, dense, lexical)
        p = model.probability(features, english)
        answer_p, _ = model.cuts(english)
        top = kb.entries[int(ch.candidates[int(np.argmax(score))])].id
        rows.append(dict(text=q.text, expected=q.expected_id, variant=q.variant, english=english,
                         top=top, p=p, answered=p >= answer_p, features=features.tolist(),
                         score=score, dense=dense, lexical=lexical, candidates=np.asarray(ch.candidates)))
    return rows


def summary(rows):
    answerable = [r for r in rows if r["expected"]]
    oos = [r for r in rows if not r["expected"]]
    right = sum(r["answered"] and r["top"] == r["expected"] for r in answerable)
    wrong = sum(r["answered"] and r["top"] != r["expected"] for r in rows)
    return dict(n=len(rows), recall_at_1=sum(r["top"] == r["expected"] for r in answerable) / max(1, len(answerable)),
                right=right / max(1, len(answerable)), wrong=wrong / max(1, len(rows)),
                oos_answered=sum(r["answered"] for r in oos) / max(1, len(oos)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(TUNE))
    parser.add_argument("--save", help="pickle every message's scores and decision here")
    args = parser.parse_args(argv)
    settings = load_settings()
    lines = ["| set | messages | n | top right (recall@1) | answered right (of answerable) | "
             "answered wrong (of all) | out of scope answered | answer cut p | pseudo recall@1 |",
             "|---|---|---|---|---|---|---|---|---|"]
    saved = {}
    for name in [s for s in args.sets.split(",") if s]:
        entries, queries = tune_set(name)
        kb = KnowledgeBase.from_entries(entries, settings=settings)
        rows = decide_all(kb, queries)
        saved[name] = dict(rows=rows, stats=kb.decision_model.stats)
        for part, sel in (("Vietnamese", [r for r in rows if not r["english"]]),
                          ("English", [r for r in rows if r["english"]]), ("**all**", rows)):
            s = summary(sel)
            cut = "–" if part == "**all**" else f"{kb.decision_model.cuts(part == 'English')[0]:.3f}"
            lines.append(f"| {name} | {part} | {s['n']} | {s['recall_at_1']:.3f} | {s['right']:.3f} | "
                         f"{s['wrong']:.3f} | {s['oos_answered']:.3f} | {cut} | "
                         f"{kb.decision_model.stats['pseudo_recall_at_1']:.3f} |")
    if args.save:
        Path(args.save).write_bytes(pickle.dumps(saved))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
