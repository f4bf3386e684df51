"""English questions to a Vietnamese-only FAQ: what answering on the gloss's agreement gives.

An English message to a corpus with no English is ranked with the BM25 of its Vietnamese gloss
as well (bot/text/english_gloss). When the dense ranking and the gloss's lexical ranking put
the same entry first, the answer cut is `english_agree_p` instead of the dense model's own
(bot/kb/calibration.py). For each value this counts, over each set's English messages:
questions answered with their entry, questions answered with another (ranking misses),
the same questions answered when their entry is left out of the FAQ (an in-domain question
the FAQ does not cover: any answer is wrong), and out-of-scope English messages answered (the
set's own and OFF_TOPIC's). "no gloss" is the search and decision before the gloss. The
sample corpus has English phrasings, where the rule does not apply, so it is measured
stripped to a plain FAQ (its questions and Vietnamese answers), on its tune half. Chosen on
the tune sets; clinic and university are reported. Since stop 30 an English message is also
answered when the full decision model is sure of it (bench/english_full.md), in every row;
0.4 is still where the tune sets gain most before left-out questions get answered.

  .venv/bin/python bench/english_agree.py    # prints one table, writes bench/english_agree.md
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bot.kb.calibration import OFF_TOPIC  # noqa: E402
from bot.kb.corpus import load_corpus  # noqa: E402
from bot.kb.evaluate import read_corpus_csv, read_queries_csv  # noqa: E402
from bot.kb.search import KnowledgeBase  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.text import detect_language  # noqa: E402
from e2e_eval import ROLE, SETS, sample_halves  # noqa: E402

VALUES = ("no gloss", 1.0, 0.6, 0.5, 0.4, 0.3, 0.2)


def plain_entries(name: str):
    corpus, _ = SETS[name]
    if corpus:
        return read_corpus_csv(corpus)
    return [replace(e, phrasings=[], answer_en="") for e in load_corpus(PROJECT / "knowledge_base")]


def english_messages(name: str, half: str = "tune"):
    """(answerable English (text, expected id), out-of-scope English texts) of a set (of the
    sample's `half`)."""
    queries = read_queries_csv(SETS[name][1])
    if name == "sample":
        halves = sample_halves()
        queries = [q for q in queries if halves.get(q.text) == half]
    asked = [(q.text, q.expected_id) for q in queries if q.variant == "english" and q.expected_id]
    off = [q.text for q in queries if not q.expected_id and detect_language(q.text) == "en"]
    return asked, off + [t for t in OFF_TOPIC if detect_language(t) == "en"]


def answered(kb: KnowledgeBase, text: str, leave_out: str = "") -> str:
    """The id the bot answers `text` with ("" for none), with `leave_out` not in the FAQ."""
    ch, score, dense, lexical = kb._scored(kb.query(text), None)
    if leave_out:
        keep = np.array([kb.entries[c].id != leave_out for c in ch.candidates])
        ch = replace(ch, candidates=ch.candidates[keep])
        score, dense, lexical = score[keep], dense[keep], lexical[keep]
    decision = kb.decide_scored(ch, score, dense, lexical)
    return decision.hits[0].entry_id if decision.kind == "answer" else ""


def counts(kb: KnowledgeBase, asked, off) -> str:
    """The table cells: questions answered right, answered wrong, answered with their entry
    left out, and out-of-scope messages answered."""
    got = [answered(kb, text) for text, _ in asked]
    right = sum(1 for g, (_, expected) in zip(got, asked) if g == expected)
    wrong = sum(1 for g in got if g) - right
    left = sum(1 for text, expected in asked if answered(kb, text, expected))
    oos = sum(1 for text in off if answered(kb, text))
    return f"{right} | {wrong} | {left} | {oos} of {len(off)}"


def main() -> int:
    started = time.perf_counter()
    lines = ["| set | part | English questions | english_agree_p | answered right | answered wrong | "
             "answered with their entry left out | out-of-scope English answered |",
             "|---|---|---|---|---|---|---|---|"]
    for name in SETS:
        part = "tune half, plain" if name == "sample" else ROLE[name]
        kb = KnowledgeBase.from_entries(plain_entries(name))
        asked, off = english_messages(name)
        for value in VALUES:
            if value == "no gloss":
                k = kb.with_params(replace(kb.params, lexical_gloss=0.0))
                k.decision_model = replace(kb.decision_model, english_agree_p=1.0)
            else:
                k = kb.with_params(kb.params)
                k.decision_model = replace(kb.decision_model, english_agree_p=value)
            bold = "**" if value == kb.decision_model.english_agree_p else ""
            lines.append(f"| {name} | {part} | {len(asked)} | {bold}{value}{bold} | {counts(k, asked, off)} |")
    text = "\n".join(lines)
    (BENCH / "english_agree.md").write_text(
        "# English questions to a Vietnamese-only FAQ: answering when the gloss agrees\n\n"
        f"Produced by `bench/english_agree.py` (embedder {load_settings()['embedder']}, shipped settings; "
        f"{time.perf_counter() - started:.0f} s); see its docstring. Bold: the shipped value "
        "(hotro.yml kb.decision.english_agree_p), chosen on the tune sets.\n\n" + text + "\n",
        encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
