"""Chooses the NLU fallback threshold from the predictions `bench/nlu_eval.py` saved.

For each threshold t, a message whose best intent has confidence < t falls back (the bot
says it did not understand), which counts as out-of-scope. Prints one markdown table:
in-scope accuracy and out-of-scope recall per data set at each t, and their mean.

  .venv/bin/python bench/nlu_threshold.py embed_diet [0.1,0.2,0.3]
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
OOS = {"hotro-vi": "out_of_scope", "clinc150": "oos"}
THRESHOLDS = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def rates(rows, oos: str, t: float) -> tuple[float, float]:
    in_scope = [r for r in rows if r["label"] != oos]
    out = [r for r in rows if r["label"] == oos]
    falls = lambda r: float(r["confidence"]) < t  # noqa: E731
    acc = sum(r["best_intent"] == r["label"] and not falls(r) for r in in_scope) / len(in_scope)
    rec = sum(r["best_intent"] == oos or falls(r) for r in out) / len(out) if out else 0.0
    return acc, rec


def main(config: str, thresholds: list[float] = THRESHOLDS) -> None:
    sets = {}
    for name, oos in OOS.items():
        path = RESULTS / f"predictions_{name}_{config}.csv"
        if path.exists():
            with open(path, newline="", encoding="utf-8") as handle:
                sets[name] = (list(csv.DictReader(handle)), oos)
    head = "| threshold | " + " | ".join(f"{n} in-scope acc. | {n} OOS recall | {n} mean"
                                         for n in sets) + " |"
    lines = [head, "|" + "---|" * (1 + 3 * len(sets))]
    for t in thresholds:
        cells = []
        for rows, oos in sets.values():
            acc, rec = rates(rows, oos, t)
            cells += [f"{acc:.3f}", f"{rec:.3f}", f"{(acc + rec) / 2:.3f}"]
        lines.append(f"| {t:g} | " + " | ".join(cells) + " |")
    print(f"Pipeline: {config}\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "embed_diet",
         [float(t) for t in sys.argv[2].split(",")] if len(sys.argv) > 2 else THRESHOLDS)
