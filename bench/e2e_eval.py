"""What customers get, end to end, on the sample shop and on plain FAQs of other businesses.

For each evaluation set, `hotro eval e2e` (bot/e2e.py) starts the real stack on that
corpus with the trained model and sends every message as the first message of a new
conversation over REST. Sets:

  sample      the sample shop's corpus (knowledge_base/) and bench/data/kb_dev_queries.csv,
              split into a tune and a held-out half by the same stable hash as kb_eval.py
  ewallet     bench/data/e2e/ewallet: a plain question,answer FAQ; TUNE set
  clinic      bench/data/e2e/clinic: plain FAQ; REPORT only, never tuned on
  university  bench/data/e2e/university: plain FAQ; REPORT only, never tuned on

  .venv/bin/python bench/e2e_eval.py [--sets sample,ewallet] [--label after] [--labels before,after]
                                     [--url URL --label before]

Results are kept per label in bench/results/e2e_<label>_<set>.json; the table shows
every label found ("before": the code before issue 9, run against its own stack with
--url, its 4-phrasing check relaxed so that it accepts a plain FAQ; "after": this code).
It prints one markdown table and writes bench/e2e_eval.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bot.e2e import evaluate_e2e, summarize  # noqa: E402
from bot.kb.evaluate import read_queries_csv  # noqa: E402

SETS = {
    "sample": (None, BENCH / "data" / "kb_dev_queries.csv"),
    "ewallet": (BENCH / "data" / "e2e" / "ewallet" / "corpus.csv", BENCH / "data" / "e2e" / "ewallet" / "queries.csv"),
    "clinic": (BENCH / "data" / "e2e" / "clinic" / "corpus.csv", BENCH / "data" / "e2e" / "clinic" / "queries.csv"),
    "university": (BENCH / "data" / "e2e" / "university" / "corpus.csv",
                   BENCH / "data" / "e2e" / "university" / "queries.csv"),
}
ROLE = {"sample": "tune half / held-out half", "ewallet": "tune", "clinic": "report", "university": "report"}


def sample_halves() -> dict:
    """query text -> "tune" / "held-out", kb_eval.py's split of the sample's dev queries."""
    from kb_eval import split

    queries = read_queries_csv(SETS["sample"][1])
    halves = split(queries)
    return {queries[i].text: part for part in ("tune", "held-out") for i in halves[part]}


def run(label: str, names, url=None) -> None:
    RESULTS.mkdir(exist_ok=True)
    for name in names:
        corpus, queries = SETS[name]
        result = evaluate_e2e(str(queries), corpus_csv=str(corpus) if corpus else None, url=url)
        out = RESULTS / f"e2e_{label}_{name}.json"
        out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        print(f"{label} {name}: answerable right {result['answerable_answered_right']:.3f}, "
              f"wrong {result['all_answered_wrong']:.3f}, oos not answered {result['oos_not_answered']:.3f}",
              file=sys.stderr)


def parts(name: str, rows):
    if name != "sample":
        return [(ROLE[name], rows)]
    halves = sample_halves()
    return [(part, [r for r in rows if halves.get(r["query"]) == part]) for part in ("held-out", "tune")]


def part_summaries(name: str, found: dict) -> list:
    """[(part, {label: summary of the part's rows})] of one set's results per label."""
    any_rows = next(iter(found.values()))["rows"]
    return [(part, {lab: summarize([r for p, rs in parts(name, res["rows"]) if p == part for r in rs])
                    for lab, res in found.items()})
            for part, _ in parts(name, any_rows)]


def variant_lines(name: str, part: str, sums: dict, labels, width: int, cell) -> list:
    """A table line per variant (and **all**) of a set's part: `cell(summary)` per label,
    `width` dashes where a label has no result."""
    lines = []
    for variant in list(next(iter(sums.values()))["variants"]) + ["all"]:
        cells, n = [], 0
        for lab in labels:
            s = sums.get(lab)
            if s is None:
                cells.append(" – |" * width)
                continue
            v = s["all"] if variant == "all" else s["variants"][variant]
            n = v["n"]
            cells.append(cell(v))
        shown = "**all**" if variant == "all" else variant
        lines.append(f"| {name} | {part} | {shown} | {n} |" + "".join(cells))
    return lines


def table(shown=None) -> str:
    """The saved results of the labels `shown`, in that order (default: all, "before" first)."""
    labels = shown or sorted({p.name.split("_")[1] for p in RESULTS.glob("e2e_*_*.json")},
                             key=lambda x: (x != "before", x))
    head = "| set | part | variant | n |" + "".join(
        f" {lab}: right | {lab}: wrong | {lab}: suggested right | {lab}: not answered |" for lab in labels)
    lines = [head, "|" + "---|" * (4 + 4 * len(labels))]
    goals = []
    for name in SETS:
        found = {lab: json.loads((RESULTS / f"e2e_{lab}_{name}.json").read_text(encoding="utf-8"))
                 for lab in labels if (RESULTS / f"e2e_{lab}_{name}.json").exists()}
        if not found:
            continue
        for part, sums in part_summaries(name, found):
            lines += variant_lines(name, part, sums, labels, 4, lambda v: (
                f" {v['answered_right']:.3f} | {v['answered_wrong']:.3f} | "
                f"{v['suggested_right']:.3f} | {v['not_answered']:.3f} |"))
            for lab, s in sums.items():
                goals.append(f"| {name} | {part} | {lab} | {s['answerable_answered_right']:.3f} | "
                             f"{s['all_answered_wrong']:.3f} | {s['oos_not_answered']:.3f} |")
    lines += ["", "Goals (issue 9): answerable messages answered right ≥ 0.80; all messages answered "
              "wrong ≤ 0.03; out-of-scope messages not answered ≥ 0.90.", "",
              "| set | part | code | answerable answered right | all answered wrong | out of scope not answered |",
              "|---|---|---|---|---|---|", *goals]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ",".join(SETS))
    parser.add_argument("--label", default="after")
    parser.add_argument("--url", help="use this running stack (it must serve the set's corpus: one set only)")
    parser.add_argument("--table-only", action="store_true", help="print the table of the saved results")
    parser.add_argument("--labels", help="comma-separated labels the table shows, in order (default: all saved)")
    args = parser.parse_args(argv)
    if not args.table_only:
        run(args.label, [s for s in args.sets.split(",") if s], args.url)
    text = table(args.labels.split(",") if args.labels else None)
    (BENCH / "e2e_eval.md").write_text(
        "# End to end: what customers get\n\nProduced by `bench/e2e_eval.py` (see its docstring): every "
        "message is the first message of a new conversation sent over REST to the real stack "
        "(Rasa server, action server) serving that set's corpus with the project's trained model. "
        "Shares are of the row's messages: answered right (the reply is the expected entry's answer), "
        "answered wrong (another entry's answer; for out-of-scope rows, any answer), suggested right "
        "(FAQ buttons that include the expected entry), not answered (anything else).\n\n" + text + "\n",
        encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
