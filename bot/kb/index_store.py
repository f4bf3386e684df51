"""The versioned on-disk store of the FAQ index in `index_dir`: build, load, replace atomically.

Layout of `index_dir` (a reader never sees half an index):
    manifest.json        written last, atomically (temp file + rename); names the data dir
    v-<time>-<hash>/     immutable: vectors.npy, faiss.index, entries.json, and the lexical
                         side (lexical.json: BM25 token lists; restorer.json: diacritic model)
                         so that loading does no text processing
A build writes a new data directory under a temporary name, renames it into place, then
replaces manifest.json. The previous data directory is kept (a process may still be
reading it); older ones are removed. Builds are serialised with a lock file.

A rebuild reuses the vectors of entries whose embedded text did not change, so editing one
entry embeds one entry. What is embedded, and the in-memory index, are in bot/kb/index.py.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from bot.embedders import DEFAULT_EMBEDDER, Embedder, load_embedder
from bot.kb.calibration import DECISION_VERSION
from bot.kb.corpus import Entry, load_corpus
from bot.kb.index import (DEFAULT_EXACT_INDEX_MAX, KIND_NAMES, RESTORER_ANSWERS, TEXT_VERSION, IndexData,
                          IndexParams, calibrate, embed_units, entry_units, index_type, make_faiss_index,
                          tune_faiss_index)
from bot.kb.lexical import LEXICAL_VERSION, DiacriticRestorer, entry_lexical, restorer_texts

log = logging.getLogger(__name__)

INDEX_FORMAT = 1
MANIFEST = "manifest.json"
KEEP_VERSIONS = 2


class KBIndexError(Exception):
    """Base class of index problems."""


class IndexMissingError(KBIndexError):
    pass


class IndexMismatchError(KBIndexError):
    """The index was built with another embedder, another text version or for another corpus."""


class IndexCorruptError(KBIndexError):
    pass


def embed_hash(entry: Entry, params: IndexParams = IndexParams()) -> str:
    """Equal for two builds exactly when the entry's vectors can be reused."""
    payload = [TEXT_VERSION, params.phrasing_side, entry_units(entry, params)]
    return _sha(json.dumps(payload, ensure_ascii=False))


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
    tune_faiss_index(faiss_index)
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
                decision: Optional[Callable[[IndexData], Dict[str, Any]]] = None,
                entries: Optional[Sequence[Entry]] = None) -> BuildReport:
    """Build (or incrementally rebuild) the index of the corpus in `corpus_dir`, or of
    `entries` when given (the published version of the FAQ store, bot/kb/store.py; then
    `corpus_dir` is only a label recorded in the manifest, e.g. "store v12").

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

            embedder_spec = load_settings().get("embedder", DEFAULT_EMBEDDER)
        if exact_index_max is None:
            exact_index_max = int(kb.get("exact_index_max", DEFAULT_EXACT_INDEX_MAX))
        if params is None:
            params = IndexParams.from_settings(kb)
    if entries is None:
        entries = load_corpus(corpus_dir)  # raises CorpusError: the old index stays
    else:
        entries = list(entries)
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
