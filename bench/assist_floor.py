"""Which FAQ entries agent assist shows (bot/console/assist.py): the rule it ships against
plainer ones, on the sample FAQ's dev queries (bench/data/kb_dev_queries.csv).

For each rule: the share of answerable Vietnamese and English messages for which the right
entry is among those shown (at most 3), and the share of out-of-scope messages for which
anything is shown (junk for the agent). The index is built with the shipped settings
(hotro.yml, the calibrated decision fitted on the corpus). Prints one markdown table and
writes bench/assist_floor.md.

  .venv/bin/python bench/assist_floor.py
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))

from bot.console.assist import SHOWN, suggest  # noqa: E402
from bot.kb.corpus import load_corpus  # noqa: E402
from bot.kb.evaluate import read_queries_csv  # noqa: E402
from bot.kb.search import KnowledgeBase  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.text import prepare  # noqa: E402


def group_of(query) -> str:
    if not query.expected_id:
        return "out of scope"
    return "en" if (prepare(query.text).language or "vi") == "en" else "vi"


def main() -> int:
    started = time.perf_counter()
    settings = json.loads(json.dumps(load_settings()))
    kb = KnowledgeBase.from_entries(load_corpus(PROJECT / "knowledge_base"), settings=settings)
    floor = kb.decision_model.suggest_floor
    queries = read_queries_csv(BENCH / "data" / "kb_dev_queries.csv")
    fixed = kb.params.suggest_threshold

    def above(query: str, cut: float):
        return [h.entry_id for h in kb.search(query, k=SHOWN) if h.score >= cut]

    rules = {
        "shipped: the bot's decision is not \"don't know\", and its suggestion floor "
        f"(vi {floor:.2f}, en none)":
            lambda q: [s["entry_id"] for s in suggest(kb, q, "vi")["suggestions"]],
        f"calibrated suggestion floor alone ({floor:.2f})": lambda q: above(q, floor),
        f"fixed kb.suggest_threshold ({fixed:.2f})": lambda q: above(q, fixed),
        "fixed 0.45": lambda q: above(q, 0.45),
        "no floor (the top 3, always)": lambda q: above(q, 0.0),
    }
    groups = {"vi": [], "en": [], "out of scope": []}
    for q in queries:
        groups[group_of(q)].append(q)
    n = {group: len(items) for group, items in groups.items()}
    lines = [f"| rule | vi: right entry shown (n={n['vi']}) | en: right entry shown (n={n['en']}) "
             f"| out of scope: anything shown (n={n['out of scope']}) |", "|---|---|---|---|"]
    for name, shown_for in rules.items():
        cells = []
        for group, items in groups.items():
            shown = [shown_for(q.text) for q in items]
            if group == "out of scope":
                count = sum(1 for s in shown if s)
            else:
                count = sum(1 for q, s in zip(items, shown) if q.expected_id in s)
            cells.append(f"{count / len(items):.1%} ({count})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    load = os.getloadavg()[0]
    (BENCH / "assist_floor.md").write_text(
        "# Agent assist: which FAQ entries the agent is shown\n\n"
        "Produced by `bench/assist_floor.py`: the sample FAQ (knowledge_base/, embedder "
        f"`{kb.embedder.spec}`, shipped settings), its dev queries "
        "(bench/data/kb_dev_queries.csv), at most 3 entries shown. \"Right entry shown\": the "
        "expected entry is among them; \"anything shown\": the agent would read suggestions "
        "for a message the FAQ does not answer.\n\n" + table + "\n\n"
        f"_Run time {time.perf_counter() - started:.0f}s; load average at the end {load:.1f}._\n",
        encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
