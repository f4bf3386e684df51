"""English questions: what answering them with the full decision model as well gives.

The decision model has two parts (bot/kb/calibration.py): `full`, on the fused ranking's
signals, decides Vietnamese messages; `dense`, on the dense ranking's margin alone, English
ones. With `english_full` an English message is also answered when `full`, on its fused
ranking (the dense part with English BM25 where entries have English, the gloss's BM25 where
the corpus has none), reaches the cut a Vietnamese message is answered at. This counts, per
set, over its English messages, with and without that rule: questions answered with their
entry, answered with another, the same questions answered when their entry is left out of
the FAQ (an in-domain question the FAQ does not cover: any answer is wrong), and out-of-scope
English messages answered (the set's own and OFF_TOPIC's). The sample is measured as shipped
(English phrasings and answers) on both halves and stripped to a plain FAQ on its tune half,
as in bench/english_agree.py. The rule has no parameter; it was kept for the tune sets'
rows (the sample's tune half, the e-wallet); clinic, university and the sample's held-out
half are reported.

  .venv/bin/python bench/english_full.py    # prints one table, writes bench/english_full.md
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from bot.kb.corpus import load_corpus  # noqa: E402
from bot.kb.search import KnowledgeBase  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from e2e_eval import ROLE, SETS  # noqa: E402
from english_agree import counts, english_messages, plain_entries  # noqa: E402

RULES = (("dense model", False), ("dense or full model", True))


def runs():
    """(set, part, entries, sample half) of every row group."""
    shipped = load_corpus(BENCH.parent / "knowledge_base")
    yield "sample", "tune half", shipped, "tune"
    yield "sample", "held-out half", shipped, "held-out"
    yield "sample", "tune half, plain", plain_entries("sample"), "tune"
    for name in SETS:
        if name != "sample":
            yield name, ROLE[name], plain_entries(name), "tune"


def main() -> int:
    started = time.perf_counter()
    lines = ["| set | part | English questions | English answered by | answered right | answered wrong | "
             "answered with their entry left out | out-of-scope English answered |",
             "|---|---|---|---|---|---|---|---|"]
    for name, part, entries, half in runs():
        kb = KnowledgeBase.from_entries(entries)
        asked, off = english_messages(name, half)
        for label, rule in RULES:
            k = kb.with_params(kb.params)
            k.decision_model = replace(kb.decision_model, english_full=rule)
            bold = "**" if rule else ""
            lines.append(f"| {name} | {part} | {len(asked)} | {bold}{label}{bold} | {counts(k, asked, off)} |")
        print(lines[-2], lines[-1], sep="\n", flush=True)
    text = "\n".join(lines)
    (BENCH / "english_full.md").write_text(
        "# English questions: answered by the full decision model as well\n\n"
        f"Produced by `bench/english_full.py` (embedder {load_settings()['embedder']}, shipped settings; "
        f"{time.perf_counter() - started:.0f} s); see its docstring. Bold: shipped "
        "(calibration.DecisionModel.english_full).\n\n" + text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
