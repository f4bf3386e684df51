"""`hotro eval e2e`: what customers get from the running bot, message in, reply out.

Each query is sent as the first message of a new conversation over the REST channel, and
what came back is scored against the FAQ corpus:

  answered right   a reply's text is the expected entry's answer (Vietnamese or English)
  answered wrong   a reply's text is another entry's answer (or any answer, out of scope)
  suggested        no answer, but FAQ buttons; "suggested right" when the expected entry
                   is among them
  not answered     anything else: "I don't know", "not understood", a handoff, chit-chat

With `--corpus C.csv` (a plain question,answer sheet or an export) the stack is started on
that corpus, imported like `hotro kb import` into a temporary folder, with the project's
trained model: no retraining, as for a shop on its first day. Without it the stack serves
the configured corpus. With `--url` a running stack is used (it must serve the corpus).
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
import time
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

import yaml

from bot.kb.corpus import Entry, load_corpus
from bot.kb.corpus_writer import import_sheet
from bot.kb.evaluate import Query, read_queries_csv
from bot.settings import PROJECT_DIR, load_settings, project_path
from bot.text import normalize

OUTCOMES = ("answered_right", "answered_wrong", "suggested_right", "suggested_other", "not_answered")
_FAQ_ID = re.compile(r'"faq_id"\s*:\s*"([^"]+)"')


def _key(text: str) -> str:
    return " ".join(normalize(text or "").split())


def classify(messages: Sequence[Dict[str, Any]], entries: Sequence[Entry], expected: str) -> Dict[str, Any]:
    """The outcome of one reply (the REST channel's list of bot messages)."""
    by_answer = {}
    for e in entries:
        by_answer[_key(e.answer_vi)] = e.id
        if e.answer_en:
            by_answer[_key(e.answer_en)] = e.id
    answered = next((by_answer[_key(m.get("text"))] for m in messages
                     if _key(m.get("text")) in by_answer), None)
    suggested = [m_id for m in messages for b in m.get("buttons") or []
                 for m_id in _FAQ_ID.findall(b.get("payload") or "")]
    if answered is not None:
        outcome = "answered_right" if expected and answered == expected else "answered_wrong"
    elif suggested:
        outcome = "suggested_right" if expected and expected in suggested else "suggested_other"
    else:
        outcome = "not_answered"
    return {"outcome": outcome, "answered": answered, "suggested": suggested}


def send(url: str, sender: str, text: str, timeout: float = 60) -> List[Dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": text}).encode("utf-8")
    request = urllib.request.Request(f"{url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8"))


def summarize(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Per variant and overall: each outcome's share, and the three goals of issue 9."""
    groups: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["variant"] or "all"].append(r)
    out: Dict[str, Any] = {"variants": {}}
    for name, items in sorted(groups.items()):
        out["variants"][name] = _shares(items)
    answerable = [r for r in rows if r["expected_id"]]
    oos = [r for r in rows if not r["expected_id"]]
    out["all"] = _shares(rows)
    out["answerable_answered_right"] = _share(answerable, "answered_right")
    out["all_answered_wrong"] = _share(rows, "answered_wrong")
    out["oos_not_answered"] = 1 - _share(oos, "answered_wrong") if oos else None
    out["n"], out["n_answerable"], out["n_oos"] = len(rows), len(answerable), len(oos)
    return out


def _share(rows: Sequence[Dict[str, Any]], outcome: str) -> float:
    return sum(r["outcome"] == outcome for r in rows) / len(rows) if rows else 0.0


def _shares(rows: Sequence[Dict[str, Any]]) -> Dict[str, float]:
    return {"n": len(rows), **{o: round(_share(rows, o), 4) for o in OUTCOMES}}


def table(summary: Dict[str, Any], title: str = "") -> str:
    """One markdown table: a row per variant, then all."""
    head = ("| variant | n | answered right | answered wrong | suggested (right among) | "
            "suggested (other) | not answered |\n|---|---|---|---|---|---|---|")
    lines = [title, "", head] if title else [head]
    for name, s in list(summary["variants"].items()) + [("**all**", summary["all"])]:
        lines.append(f"| {name} | {s['n']} | {s['answered_right']:.3f} | {s['answered_wrong']:.3f} | "
                     f"{s['suggested_right']:.3f} | {s['suggested_other']:.3f} | {s['not_answered']:.3f} |")
    oos = summary["oos_not_answered"]
    lines.append("")
    lines.append(f"Answerable answered right: **{summary['answerable_answered_right']:.3f}** (goal ≥ 0.80); "
                 f"all answered wrong: **{summary['all_answered_wrong']:.3f}** (goal ≤ 0.03); "
                 f"out of scope not answered: **{oos:.3f}** (goal ≥ 0.90)." if oos is not None else "")
    return "\n".join(lines)


class CorpusStack:
    """A stack on free ports serving `corpus_csv` (or the configured corpus)."""

    def __init__(self, corpus_csv: Optional[str]):
        self.corpus_csv = corpus_csv
        self.dir = Path(tempfile.mkdtemp(prefix="hotro-e2e-"))
        self.stack = None

    def __enter__(self):
        from bot.stack import Stack, free_port, latest_model

        settings = json.loads(json.dumps(load_settings()))
        kb = settings.setdefault("kb", {})
        corpus_dir = project_path(kb.get("corpus_dir", "knowledge_base"))
        if self.corpus_csv:
            corpus_dir = self.dir / "knowledge_base"
            import_sheet(self.corpus_csv, corpus_dir)
        kb["corpus_dir"], kb["index_dir"] = str(corpus_dir), str(self.dir / "kb_index")
        settings.setdefault("handoff", {})["database_url"] = f"sqlite:///{self.dir / 'hotro.db'}"
        config = self.dir / "hotro.yml"
        config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        self.entries = load_corpus(corpus_dir)
        model = latest_model(PROJECT_DIR / "models")
        if model is None:
            raise RuntimeError("no trained model in models/: run `hotro train`")
        self.stack = Stack(model=model, var_dir=self.dir, rasa_port=free_port(), action_port=free_port(),
                           console_port=free_port(), extra_env={"HOTRO_CONFIG": str(config)})
        self.stack.start(timeout=900)
        return self

    def __exit__(self, *exc):
        if self.stack is not None:
            self.stack.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def evaluate_e2e(queries_csv: str, corpus_csv: Optional[str] = None, url: Optional[str] = None,
                 queries: Optional[Iterable[Query]] = None) -> Dict[str, Any]:
    """Send every query to the bot (started here unless `url`) and score the replies."""
    queries = list(queries) if queries is not None else read_queries_csv(queries_csv)
    if url:
        from bot.kb.evaluate import read_corpus_csv

        entries = read_corpus_csv(corpus_csv) if corpus_csv else load_corpus(
            project_path(load_settings().get("kb", {}).get("corpus_dir", "knowledge_base")))
        return _run(url, queries, entries)
    with CorpusStack(corpus_csv) as running:
        return _run(running.stack.rasa_url, queries, running.entries)


def _run(url: str, queries: Sequence[Query], entries: Sequence[Entry]) -> Dict[str, Any]:
    rows = []
    started = time.perf_counter()
    run = uuid.uuid4().hex[:8]
    for i, q in enumerate(queries):
        messages = send(url, f"e2e-{run}-{i}", q.text)
        rows.append({"query": q.text, "expected_id": q.expected_id, "variant": q.variant,
                     **classify(messages, entries, q.expected_id),
                     "reply": " | ".join(m.get("text") or "" for m in messages)})
    summary = summarize(rows)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["rows"] = rows
    return summary


def cmd_eval_e2e(args) -> int:
    result = evaluate_e2e(args.queries, corpus_csv=args.corpus, url=args.url)
    if args.rows:
        with open(args.rows, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["query", "expected_id", "variant", "outcome",
                                                        "answered", "suggested", "reply"])
            writer.writeheader()
            for r in result["rows"]:
                writer.writerow({**r, "suggested": " ".join(r["suggested"])})
    rows = result.pop("rows")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(table(result))
        print(f"\n{len(rows)} messages in {result['seconds']} s")
    return 0


def add_eval_e2e(eval_subparsers) -> None:
    p = eval_subparsers.add_parser(
        "e2e", help="send labelled messages to the running bot and score what comes back",
        description="Start the real stack (or use --url), send each query as the first message of "
                    "a new conversation, and score the replies: answered right or wrong, "
                    "suggested, not answered; per variant.")
    p.add_argument("--queries", required=True, metavar="CSV", help="query,expected_id[,variant]")
    p.add_argument("--corpus", metavar="CSV", help="serve this FAQ sheet (question,answer...) "
                                                   "instead of the configured corpus")
    p.add_argument("--url", help="a running Rasa server to use, e.g. http://127.0.0.1:5005")
    p.add_argument("--rows", metavar="CSV", help="write every message's outcome and reply here")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=cmd_eval_e2e)
