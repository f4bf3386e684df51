"""NLU pipelines compared on public intent data and on hotro's own Vietnamese data.

Runs `hotro eval nlu` for every (data set, pipeline) pair not yet in bench/results/,
then prints one markdown table (also written to bench/nlu_eval.md).

  .venv/bin/python bench/nlu_eval.py [--only DATASET] [--configs a,b]

Data sets: clinc150 (train -> val, out-of-scope label `oos`), banking77 (a stratified
80/20 split of its train.csv, seed 0) and hotro-vi (data/nlu.yml -> tests/data/nlu_heldout.csv,
`out_of_scope` counted as the out-of-scope label).
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
SHARED_EVAL = PROJECT.parent / "shared" / "eval"
RESULTS = BENCH / "results"
WORK = RESULTS / "data"
CONFIGS = ["sparse_diet", "embed_diet", "embed_logreg"]


def write_csv(rows, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def banking77_split() -> tuple[Path, Path]:
    with open(SHARED_EVAL / "banking77" / "train.csv", newline="", encoding="utf-8") as handle:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(handle)]
    by_label = defaultdict(list)
    for row in rows:
        by_label[row[1]].append(row)
    rng = random.Random(0)
    train, test = [], []
    for label in sorted(by_label):
        items = by_label[label]
        rng.shuffle(items)
        cut = int(len(items) * 0.8)
        train += items[:cut]
        test += items[cut:]
    paths = WORK / "banking77_train.csv", WORK / "banking77_test.csv"
    write_csv(train, paths[0])
    write_csv(test, paths[1])
    return paths


def hotro_vi() -> tuple[Path, Path]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(PROJECT / "data" / "nlu.yml"))
    path = WORK / "hotro_vi_train.csv"
    write_csv([(m.get("text"), m.get("intent")) for m in data.intent_examples], path)
    return path, PROJECT / "tests" / "data" / "nlu_heldout.csv"


def datasets():
    WORK.mkdir(parents=True, exist_ok=True)
    clinc = SHARED_EVAL / "clinc150"
    yield "hotro-vi", *hotro_vi(), "out_of_scope"
    yield "clinc150", clinc / "train.csv", clinc / "val.csv", "oos"
    yield "banking77", *banking77_split(), None


def run(name: str, train: Path, test: Path, oos: str | None, config: str) -> dict:
    out = RESULTS / f"nlu_{name}_{config}.json"
    if out.exists():
        return json.loads(out.read_text())
    command = [str(PROJECT / ".venv" / "bin" / "hotro"), "eval", "nlu", "--train", str(train),
               "--test", str(test), "--config", str(BENCH / "configs" / f"{config}.yml"),
               "--predictions", str(RESULTS / f"predictions_{name}_{config}.csv"), "--json"]
    if oos:
        command += ["--oos-label", oos]
    print(f"running {name} / {config} ...", file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=PROJECT, stdout=subprocess.PIPE, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    out.write_text(json.dumps(result, indent=1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    args = parser.parse_args()
    lines = ["| data set | pipeline | accuracy | macro-F1 | in-scope acc. | OOS recall | "
             "OOS precision | train s |", "|---|---|---|---|---|---|---|---|"]
    fmt = lambda r, k: f"{r[k]:.3f}" if k in r else "–"  # noqa: E731
    for name, train, test, oos in datasets():
        if args.only and name != args.only:
            continue
        for config in args.configs.split(","):
            r = run(name, train, test, oos, config)
            lines.append(f"| {name} | {config} | {fmt(r, 'accuracy')} | {fmt(r, 'macro_f1')} | "
                         f"{fmt(r, 'in_scope_accuracy')} | {fmt(r, 'oos_recall')} | "
                         f"{fmt(r, 'oos_precision')} | {r['train_seconds']:.0f} |")
    table = "\n".join(lines)
    print(table)
    if not args.only:
        (BENCH / "nlu_eval.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
