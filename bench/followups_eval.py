"""Second messages, end to end: what customers get when they go on after an FAQ answer.

A customer asks, the bot answers, and the customer sends a second message: often a
follow-up that only makes sense after the first ("còn hàng điện tử thì sao", "cần giấy
tờ gì", "what about accessories?"), sometimes a new question of its own. Each row of
bench/data/followups/<set>.csv is one such conversation, sent over REST to the real stack
serving that set's corpus (bot/e2e.py's CorpusStack), the first message and then the
second in the same conversation; the second reply is scored as bot/e2e.py scores a reply.

Rows (bench/data/followups/README.md): `kind` follow_up (needs the first message),
unanswerable (a follow-up no entry answers: any answer is wrong) or switch (a complete
question on another topic); `variant` as in the e2e sets. Sets: sample and ewallet are
tune sets, clinic and university are report sets (never tuned on).

  PYTHONPATH=. .venv/bin/python bench/followups_eval.py --label L [--sets sample,ewallet]
  PYTHONPATH=. .venv/bin/python bench/followups_eval.py --table-only --labels A,B

Results are kept per label in bench/results/followups_<label>_<set>.json; the table shows
the labels asked for (or all found) side by side and is written to bench/followups_eval.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
RESULTS = BENCH / "results"
DATA = BENCH / "data" / "followups"
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bot.e2e import CorpusStack, classify, send  # noqa: E402
from e2e_eval import SETS  # noqa: E402

ROLE = {"sample": "tune", "ewallet": "tune", "clinic": "report", "university": "report"}
KINDS = ("follow_up", "unanswerable", "switch")
# What the labels of the committed table were run on.
LABELS = {"before": "main at 073482d: every message searched alone",
          "followup": "a follow-up read with the question just answered (bot/kb/follow_up.py)",
          "stop30": "also English answered by the full decision model, and abbreviations read as the FAQ uses them"}


def read_rows(name: str) -> list:
    with open(DATA / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run_set(name: str) -> dict:
    corpus, _ = SETS[name]
    rows = read_rows(name)
    started = time.perf_counter()
    out = []
    with CorpusStack(str(corpus) if corpus else None) as running:
        url, entries, run = running.stack.rasa_url, running.entries, uuid.uuid4().hex[:8]
        for i, row in enumerate(rows):
            sender = f"followup-{run}-{i}"
            first = classify(send(url, sender, row["first"]), entries, row["first_id"])
            replies = send(url, sender, row["follow_up"])
            second = classify(replies, entries, row["expected_id"])
            out.append({**row, "first_outcome": first["outcome"], **second,
                        "reply": " | ".join(m.get("text") or "" for m in replies)})
    return {"seconds": round(time.perf_counter() - started, 1), "rows": out}


def shares(rows: list) -> dict:
    n = len(rows)
    count = lambda outcome: sum(r["outcome"] == outcome for r in rows) / n if n else 0.0  # noqa: E731
    return {"n": n, "right": count("answered_right"), "wrong": count("answered_wrong"),
            "suggested_right": count("suggested_right"),
            "not_helped": count("suggested_other") + count("not_answered")}


def table(labels: list) -> str:
    head = ["set", "role", "kind", "n"] + [f"{lab}: {c}" for lab in labels
                                           for c in ("right", "wrong", "suggested right", "neither")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in SETS:
        found = {lab: json.loads((RESULTS / f"followups_{lab}_{name}.json").read_text(encoding="utf-8"))
                 for lab in labels if (RESULTS / f"followups_{lab}_{name}.json").exists()}
        if not found:
            continue
        for kind in KINDS + ("all",):
            cells, n = [], 0
            for lab in labels:
                rows = [r for r in found.get(lab, {}).get("rows", []) if kind in ("all", r["kind"])]
                s = shares(rows)
                n = n or s["n"]
                cells += [f"{s['right']:.3f}", f"{s['wrong']:.3f}", f"{s['suggested_right']:.3f}",
                          f"{s['not_helped']:.3f}"] if rows else ["–"] * 4
            lines.append(f"| {name} | {ROLE[name]} | {'**all**' if kind == 'all' else kind} | {n} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", default="now")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--labels", help="labels to show side by side (default: all found)")
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.table_only:
        RESULTS.mkdir(exist_ok=True)
        for name in args.sets.split(","):
            result = run_set(name)
            (RESULTS / f"followups_{args.label}_{name}.json").write_text(
                json.dumps(result, ensure_ascii=False), encoding="utf-8")
            print(f"{name}: {len(result['rows'])} conversations in {result['seconds']} s", flush=True)
    labels = args.labels.split(",") if args.labels else sorted(
        {p.name.split("_")[1] for p in RESULTS.glob("followups_*_*.json")})
    text = table(labels)
    (BENCH / "followups_eval.md").write_text(
        "# Second messages: follow-ups after an FAQ answer\n\n"
        "Produced by `bench/followups_eval.py` (see its docstring): each row is a conversation of "
        "two messages sent to the real stack serving the set's corpus; shares are of the second "
        "replies. right: the expected entry's answer; wrong: another entry's answer (for "
        "`unanswerable` rows, any answer); suggested right: buttons that include the expected "
        "entry; neither: other buttons, \"not understood\", \"I don't know\" or a handoff.\n\n"
        + text + "\n\n" + "".join(f"- {lab}: {LABELS[lab]}\n" for lab in labels if lab in LABELS),
        encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
