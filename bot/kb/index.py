"""The in-memory FAQ index: what is embedded for each entry, the vectors, and FAISS.

What is embedded for each entry (its "units"), all measured in bench/kb_eval.md:
  * the question and every phrasing, normalised with abbreviations expanded, embedded on
    the *query* side (e5's "query: " prefix) like the customer's message: FAQ matching is
    query-to-question similarity ("phrasing_side: query" beat "passage" on the dev set);
  * one passage of question + Vietnamese answer ("passage: " side), so a customer who
    describes the situation rather than asking the question still lands on it;
  * one passage of the English phrasings + English answer, when the entry has English.
An entry with no question and no phrasings (e.g. an imported Q&A list) is indexed by its
answer alone.

Exact `IndexFlatIP` up to `exact_index_max` vectors, HNSW above (FAISS's guidance).
`IndexData` is what search reads, built here in memory (`build_in_memory`) or loaded from
the versioned on-disk store (bot/kb/index_store.py).
"""
from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from bot.embedders import Embedder
from bot.kb.corpus import Entry
from bot.text import detect_language, normalize, prepare

log = logging.getLogger(__name__)

# Bump when the text put into the embedder changes: vectors of older builds are then re-made
# (and an index on disk is rebuilt at start-up). 2: prepare() reads more chat forms and
# writes i/y syllables one way ("đăng kí" = "đăng ký").
TEXT_VERSION = 2
DEFAULT_EXACT_INDEX_MAX = 10_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
RESTORER_ANSWERS = 5000  # answers the diacritic restorer learns from (all questions/phrasings are used)
EMBED_BATCH = 64

KIND_TEXT = 0  # question or phrasing
KIND_PASSAGE_VI = 1  # question + Vietnamese answer
KIND_PASSAGE_EN = 2  # English phrasings + English answer
KIND_NAMES = {KIND_TEXT: "text", KIND_PASSAGE_VI: "passage_vi", KIND_PASSAGE_EN: "passage_en"}


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
    """A bar on a terminal; in a server's log (`hotro run` shows it on a first start), a
    line every tenth of the way."""
    if not sys.stderr.isatty():
        return _LoggedProgress(total, desc)
    try:
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="text", file=sys.stderr)
    except ImportError:  # pragma: no cover
        return None


class _LoggedProgress:
    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.done, self.next_tenth = total, desc, 0, 1
        log.info("%s: %d texts", desc, total)

    def update(self, n: int) -> None:
        self.done += n
        if self.done * 10 >= self.next_tenth * self.total:
            self.next_tenth = self.done * 10 // self.total + 1
            log.info("%s: %d%% (%d/%d texts)", self.desc, self.done * 100 // self.total,
                     self.done, self.total)

    def close(self) -> None:
        pass


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
    tune_faiss_index(index)
    return index


def tune_faiss_index(index) -> None:
    import faiss

    hnsw = faiss.downcast_index(index)
    if isinstance(hnsw, faiss.IndexHNSW):
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH


def index_type(index) -> str:
    import faiss

    return "hnsw" if isinstance(faiss.downcast_index(index), faiss.IndexHNSW) else "flat"


# --- the index search reads ----------------------------------------------------------------


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
