"""NLU pipelines compared on public intent data and on hotro's own Vietnamese data.

Runs `hotro eval nlu` for every (data set, pipeline) pair not yet in bench/results/,
then prints one markdown table (also written to bench/nlu_eval.md).

  .venv/bin/python bench/nlu_eval.py [--only DATASET] [--configs a,b]

Data sets: clinc150 (train -> val, out-of-scope label `oos`), banking77 (a stratified
80/20 split of its train.csv, seed 0), hotro-vi (data/nlu.yml -> tests/data/nlu_heldout.csv,
`out_of_scope` counted as the out-of-scope label) and phoatis (Vietnamese ATIS from VinAI's
JointIDSF repository, syllable level, train -> dev; a multi-intent label such as
"airfare#flight" is one label; its test split is never read). PhoATIS is read from a git
checkout of JointIDSF: $JOINTIDSF_DIR, or a clone under bench/results/data/JointIDSF.

A (data set, pipeline) pair with no JSON in bench/results/ but a row in bench/nlu_eval.md
keeps that row (DIET on CLINC150 takes 12-28 minutes); delete the row to measure it again.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
SHARED_EVAL = PROJECT.parent / "shared" / "eval"
RESULTS = BENCH / "results"
WORK = RESULTS / "data"
CONFIGS = ["sparse_diet", "embed_diet", "embed_logreg", "embed_calibrated"]
JOINTIDSF_URL = "https://github.com/VinAIResearch/JointIDSF"


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


def phoatis() -> tuple[Path, Path]:
    """PhoATIS train and dev splits as CSV, converted once from a JointIDSF checkout."""
    paths = WORK / "phoatis_train.csv", WORK / "phoatis_dev.csv"
    if all(p.exists() for p in paths):
        return paths
    repo = Path(os.environ.get("JOINTIDSF_DIR") or WORK / "JointIDSF")
    if not repo.exists():
        subprocess.run(["git", "clone", "--depth", "1", JOINTIDSF_URL, str(repo)], check=True)
    show = lambda path: subprocess.run(  # noqa: E731
        ["git", "-C", str(repo), "show", f"HEAD:PhoATIS/syllable-level/{path}"],
        stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()
    for split, out in zip(["train", "dev"], paths):  # never the test split
        texts, labels = show(f"{split}/seq.in"), show(f"{split}/label")
        if len(texts) != len(labels):
            raise ValueError(f"PhoATIS {split}: {len(texts)} texts, {len(labels)} labels")
        write_csv([(t.strip(), l.strip()) for t, l in zip(texts, labels)], out)
    return paths


def datasets():
    WORK.mkdir(parents=True, exist_ok=True)
    clinc = SHARED_EVAL / "clinc150"
    yield "hotro-vi", *hotro_vi(), "out_of_scope"
    yield "clinc150", clinc / "train.csv", clinc / "val.csv", "oos"
    yield "banking77", *banking77_split(), None
    yield "phoatis", *phoatis(), None


def previous_rows() -> tuple[dict, list[str]]:
    """Rows of the table already in bench/nlu_eval.md by (data set, pipeline); its notes."""
    rows, notes = {}, []
    path = BENCH / "nlu_eval.md"
    for line in (path.read_text(encoding="utf-8").splitlines() if path.exists() else []):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 8 and cells[0] not in ("data set", "---"):
            rows[cells[0], cells[1]] = line
        elif not line.startswith("|"):
            notes.append(line)
    return rows, notes


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
    previous, notes = previous_rows()
    for name, train, test, oos in datasets():
        if args.only and name != args.only:
            continue
        wanted = args.configs.split(",")
        for config in CONFIGS + [c for c in wanted if c not in CONFIGS]:
            measured = (RESULTS / f"nlu_{name}_{config}.json").exists()
            if not measured and (name, config) in previous:
                lines.append(previous[name, config])  # measured before; kept as it is
                continue
            if not measured and config not in wanted:
                continue
            r = run(name, train, test, oos, config)
            lines.append(f"| {name} | {config} | {fmt(r, 'accuracy')} | {fmt(r, 'macro_f1')} | "
                         f"{fmt(r, 'in_scope_accuracy')} | {fmt(r, 'oos_recall')} | "
                         f"{fmt(r, 'oos_precision')} | {r['train_seconds']:.0f} |")
    table = "\n".join(lines)
    print(table)
    if not args.only:
        text = table + "\n" + "\n".join(notes).rstrip() + "\n"
        (BENCH / "nlu_eval.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
