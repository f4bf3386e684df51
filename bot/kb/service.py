"""The knowledge base as the action server uses it: one per process, reloaded when rebuilt.

    from bot.kb.service import answer, answer_by_id
    reply = answer("làm sao để hủy đơn", language="vi")
    # {"kind": "answer"|"suggest"|"abstain", "response": None or a domain.yml response,
    #  "text": the answer, "values": {...}, "choices": [{"title", "payload"}],
    #  "entry_id": ..., "score": ..., "language": ..., "suggestions": [...]}

`get_knowledge_base()` loads the index in `kb.index_dir` (building it when it is missing,
was built with another embedder, or is out of date with the corpus).

With `kb.source: store` (hotro.yml) the corpus is the FAQ store's published version
(bot/kb/store.py, in `handoff.database_url`): an empty store is first seeded from
`kb.corpus_dir`, and a background thread asks the database once a second which version
is published. A new one is built incrementally into `index_dir` (only changed entries are
embedded; the answer decision of the previous index is carried over so the new version
serves within seconds, and refitted for the new corpus in the background), then swapped
in as below. Every process on every host does this, so all serve the same version.

With `kb.source: files` (the default when unset) the corpus is the YAML in `corpus_dir`,
and `hotro kb build` writes the index. In both modes the service also looks
at manifest.json's mtime at most once a second; when a new index was written (by
`hotro kb build` or the console's editor) it loads it in a background thread and swaps it
in under a lock. A request holds on to the KnowledgeBase object it started with, so a
swap never disturbs a request in flight, and a new index that fails to load is logged
and ignored (the old one keeps serving).

A reply says which domain.yml response words it (`response`, with its `values` and the
suggested questions as `choices`), or, for a plain answer, the entry's answer (`text`).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from bot.embedders import DEFAULT_EMBEDDER
from bot.kb.calibration import DECISION_VERSION
from bot.kb.corpus import CorpusError, Entry, load_corpus
from bot.kb.index import DEFAULT_EXACT_INDEX_MAX, IndexParams
from bot.kb.index_store import (IndexCorruptError, IndexMismatchError, IndexMissingError, KBIndexError,
                                build_index, manifest_stamp, read_manifest)
from bot.kb.search import KnowledgeBase, fit_index_decision
from bot.text import PreparedText, detect_language, prepare

log = logging.getLogger(__name__)

CHECK_INTERVAL = 1.0  # seconds between looks at manifest.json

# The domain.yml responses that word each FAQ outcome (the answers are the corpus's).
SUGGEST, SUGGEST_WITH_PERSON = "utter_faq_suggest", "utter_faq_suggest_with_person"
ANSWER_WITH_PERSON = "utter_faq_answer_with_person"
DONT_KNOW, GONE = "utter_faq_dont_know", "utter_faq_gone"


class KnowledgeBaseUnavailable(RuntimeError):
    """No usable index and none could be built (e.g. the corpus is invalid and no index exists)."""


class _Service:
    def __init__(self, settings: Dict[str, Any]):
        from bot.settings import project_path

        kb = dict(settings.get("kb") or {})
        self.settings = settings
        self.embedder_spec = settings.get("embedder") or DEFAULT_EMBEDDER
        self.index_dir = project_path(kb.get("index_dir", "var/kb_index"))
        self.corpus_dir = project_path(kb.get("corpus_dir", "knowledge_base"))
        self._lock = threading.Lock()  # guards _kb / _stamp swaps
        self._loading = threading.Lock()  # one (re)load at a time
        self._kb: Optional[KnowledgeBase] = None
        self._stamp = None
        self._bad_stamp = None
        self._checked = 0.0
        self._thread: Optional[threading.Thread] = None
        # store mode: the published store version served, the poller and the refit
        self.from_store = kb.get("source", "files") == "store"
        self._store = None
        self._version: Optional[int] = None
        self._bad_version: Optional[int] = None
        self._building = threading.Lock()  # one index build of this process at a time
        self._stop = threading.Event()
        self._poller: Optional[threading.Thread] = None
        self._refit: Optional[threading.Thread] = None

    # --- loading -------------------------------------------------------------------------

    def _load_initial(self) -> KnowledgeBase:
        if self.from_store:
            return self._load_initial_from_store()
        try:
            kb = KnowledgeBase.load(self.index_dir, self.embedder_spec, corpus_dir=self.corpus_dir,
                                    settings=self.settings)
        except (IndexMissingError, IndexMismatchError, IndexCorruptError) as exc:
            log.info("FAQ index needs building: %s", exc)
            try:
                report = build_index(self.corpus_dir, self.index_dir, self.embedder_spec, progress=True,
                                     decision=lambda data: fit_index_decision(data, self.settings))
                log.info(report.summary())
            except CorpusError as corpus_exc:
                log.error("FAQ corpus is invalid, cannot build the index:\n%s", corpus_exc)
                return self._load_any(corpus_exc)
            kb = KnowledgeBase.load(self.index_dir, self.embedder_spec, settings=self.settings)
        except CorpusError as exc:
            # the index is fine but the corpus on disk is broken: keep serving the index
            log.error("FAQ corpus is invalid; serving the existing index:\n%s", exc)
            kb = self._load_any(exc)
        return kb

    def _load_any(self, cause: Exception) -> KnowledgeBase:
        try:
            return KnowledgeBase.load(self.index_dir, self.embedder_spec, settings=self.settings)
        except KBIndexError as exc:
            raise KnowledgeBaseUnavailable(f"no usable FAQ index: {exc}; corpus: {cause}") from exc

    def get(self) -> KnowledgeBase:
        kb = self._kb
        if kb is None:
            with self._loading:
                if self._kb is None:
                    stamp = manifest_stamp(self.index_dir)
                    kb = self._load_initial()
                    kb.warm_up()
                    with self._lock:
                        # the stamp of what we loaded (a build may have run meanwhile)
                        self._kb, self._stamp = kb, manifest_stamp(self.index_dir) or stamp
                        self._checked = time.monotonic()
                    if self.from_store:
                        self._start_poller()
                return self._kb
        now = time.monotonic()
        if now - self._checked >= CHECK_INTERVAL:
            self._checked = now
            stamp = manifest_stamp(self.index_dir)
            if stamp is not None and stamp != self._stamp and stamp != self._bad_stamp:
                self._start_reload(stamp)
        return kb

    def _start_reload(self, stamp) -> None:
        if not self._loading.acquire(blocking=False):
            return  # a reload is already running
        thread = threading.Thread(target=self._reload, args=(stamp,), name="kb-reload", daemon=True)
        self._thread = thread
        try:
            thread.start()
        except BaseException:
            self._loading.release()
            raise

    def _reload(self, stamp) -> None:
        try:
            new = KnowledgeBase.load(self.index_dir, self.embedder_spec, settings=self.settings)
            if self.from_store and self._kb is not None and _fingerprint(new) != _fingerprint(self._kb):
                # another process built another store version: this one follows the database
                self._stamp = stamp
                return
            new.warm_up()
            with self._lock:
                self._kb, self._stamp = new, stamp
            log.info("FAQ index reloaded: %d entries (%s)", len(new), new.data.manifest.get("built_at"))
        except Exception:  # noqa: BLE001 - keep serving the old index whatever went wrong
            log.exception("new FAQ index in %s could not be loaded; keeping the current one", self.index_dir)
            self._bad_stamp = stamp
        finally:
            self._loading.release()

    def wait_for_reload(self, timeout: float = 30.0) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # --- store mode --------------------------------------------------------------------------

    def store(self):
        if self._store is None:
            from bot.db import database_url
            from bot.kb.store import FaqStore

            self._store = FaqStore(database_url(self.settings))
        return self._store

    def _load_initial_from_store(self) -> KnowledgeBase:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return self._seed_and_build()
        except SQLAlchemyError as exc:
            # the database is down: serve the index on disk; the poller catches up later
            log.error("FAQ store unreadable (%s); serving the index in %s", exc, self.index_dir)
            return self._load_any(exc)

    def _seed_and_build(self) -> KnowledgeBase:
        store = self.store()
        if store.is_empty():
            try:
                entries = load_corpus(self.corpus_dir)
            except CorpusError as exc:
                log.error("FAQ store is empty and %s cannot seed it:\n%s", self.corpus_dir, exc)
                return self._load_any(exc)
            if store.seed(entries, str(self.corpus_dir)):
                log.info("FAQ store seeded from %s (%d entries)", self.corpus_dir, len(entries))
        pub, entries = store.published_entries()
        if pub is None or not entries:
            cause = RuntimeError("nothing is published in the FAQ store")
            log.error("%s; serving the existing index if there is one", cause)
            return self._load_any(cause)
        kb = self._build(entries, pub.version)
        self._version = pub.version
        return kb

    def _index_kwargs(self) -> Dict[str, Any]:
        kb = dict(self.settings.get("kb") or {})
        return {"exact_index_max": int(kb.get("exact_index_max", DEFAULT_EXACT_INDEX_MAX)),
                "params": IndexParams.from_settings(kb)}

    def _build(self, entries: Sequence[Entry], version: int) -> KnowledgeBase:
        """Build the index of store version `version` incrementally and load it. The decision
        of the previous index is carried over when there is one (fitting takes ~10 s per
        100 entries); `_schedule_refit` then fits the new corpus's own in the background."""
        with self._building:
            try:
                previous = (read_manifest(self.index_dir) or {}).get("decision")
            except IndexCorruptError:
                previous = None
            if previous and previous.get("version") == DECISION_VERSION:
                carried = {**previous, "carried_over": True}
                decision = lambda data: carried  # noqa: E731
            else:
                decision = lambda data: fit_index_decision(data, self.settings)  # noqa: E731
            report = build_index(f"store v{version}", self.index_dir, self.embedder_spec, progress=True,
                                 decision=decision, entries=entries, **self._index_kwargs())
            log.info("FAQ store version %d: %s", version, report.summary())
            kb = KnowledgeBase.load(self.index_dir, self.embedder_spec, settings=self.settings)
        if (kb.data.decision or {}).get("carried_over"):
            self._schedule_refit(entries, version)
        return kb

    def _schedule_refit(self, entries: Sequence[Entry], version: int) -> None:
        if self._refit is not None and self._refit.is_alive():
            return  # the running refit checks the version it fits for before writing
        self._refit = threading.Thread(target=self._do_refit, args=(list(entries), version),
                                       name="kb-refit", daemon=True)
        self._refit.start()

    def _do_refit(self, entries: List[Entry], version: int) -> None:
        import fcntl

        # One process per index directory refits (the action server and the Rasa server
        # share one); the others load its result when manifest.json changes (get()).
        lock = open(self.index_dir / ".refit.lock", "a+")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            return
        try:
            kb = KnowledgeBase.load(self.index_dir, self.embedder_spec, settings=self.settings)
            fingerprint = kb.data.manifest.get("corpus_fingerprint")
            fitted = fit_index_decision(kb.data, self.settings)
            def decision(data):
                # called under the index directory's build lock, before anything is written
                if (read_manifest(self.index_dir) or {}).get("corpus_fingerprint") != fingerprint \
                        or self._stop.is_set():
                    raise _Superseded()
                return fitted

            with self._building:
                try:
                    build_index(f"store v{version}", self.index_dir, self.embedder_spec, progress=False,
                                decision=decision, entries=entries, force=True, **self._index_kwargs())
                except _Superseded:
                    return  # a newer version was built meanwhile: it gets its own refit
                new = KnowledgeBase.load(self.index_dir, self.embedder_spec, settings=self.settings)
                new.warm_up()
                with self._lock:
                    if self._version == version:
                        self._kb, self._stamp = new, manifest_stamp(self.index_dir)
            log.info("FAQ store version %d: answer decision refitted for its corpus", version)
        except Exception:  # noqa: BLE001 - the carried-over decision keeps serving
            log.exception("refitting the FAQ decision for store version %d failed", version)
        finally:
            lock.close()

    def _start_poller(self) -> None:
        if self._poller is None:
            self._poller = threading.Thread(target=self._poll, name="kb-store-poll", daemon=True)
            self._poller.start()

    def _poll(self) -> None:
        failing = False
        while not self._stop.wait(CHECK_INTERVAL):
            try:
                pub = self.store().published()
            except Exception as exc:  # noqa: BLE001 - the database may be down a while
                if not failing:
                    log.error("FAQ store unreadable (%s); serving store version %s", exc, self._version)
                failing = True
                continue
            if failing:
                log.info("FAQ store readable again")
                failing = False
            if pub is not None and pub.version not in (self._version, self._bad_version):
                self.serve_version(pub.version)

    def serve_version(self, version: int) -> bool:
        """Build and swap in store version `version` (the poller calls it; tests may too)."""
        try:
            entries = self.store().entries(version)
            new = self._build(entries, version)
            new.warm_up()
            with self._lock:
                self._kb, self._stamp, self._version = new, manifest_stamp(self.index_dir), version
            log.info("FAQ store version %d served: %d entries", version, len(new))
            return True
        except Exception:  # noqa: BLE001 - keep serving the old index whatever went wrong
            log.exception("FAQ store version %d could not be built; keeping version %s", version, self._version)
            self._bad_version = version
            return False

    @property
    def version(self) -> Optional[int]:
        return self._version

    def stop(self) -> None:
        self._stop.set()


class _Superseded(Exception):
    """A refit finished after a newer version was built: it is dropped."""


def _fingerprint(kb: KnowledgeBase) -> Optional[str]:
    return (kb.data.manifest or {}).get("corpus_fingerprint")


_services: Dict[Tuple[str, str, str, str], _Service] = {}
_services_lock = threading.Lock()


def _service(settings: Optional[Dict[str, Any]] = None) -> _Service:
    if settings is None:
        from bot.settings import load_settings

        settings = load_settings()
    probe = _Service(settings)
    key = (str(probe.index_dir), str(probe.corpus_dir), probe.embedder_spec,
           json.dumps(settings.get("kb") or {}, sort_keys=True, default=str))
    with _services_lock:
        if key not in _services:
            _services[key] = probe
        return _services[key]


def get_knowledge_base(settings: Optional[Dict[str, Any]] = None) -> KnowledgeBase:
    """The process's KnowledgeBase for the configured index (hotro.yml, or `settings`)."""
    return _service(settings).get()


def wait_for_reload(settings: Optional[Dict[str, Any]] = None, timeout: float = 30.0) -> None:
    """Block until a background reload that has started is finished (tests, tools)."""
    _service(settings).wait_for_reload(timeout)


def reset() -> None:
    """Forget loaded knowledge bases (tests)."""
    with _services_lock:
        for service in _services.values():
            service.stop()
        _services.clear()


def served_version(settings: Optional[Dict[str, Any]] = None) -> Optional[int]:
    """The FAQ store version this process serves (store mode; None otherwise or not loaded)."""
    return _service(settings).version


# --- replies ---------------------------------------------------------------------------


def ask_payload(entry_id: str) -> str:
    return "/ask_question" + json.dumps({"faq_id": entry_id}, ensure_ascii=False, separators=(",", ":"))


def suggestion_title(entry: Entry, lang: str) -> str:
    """The entry as a button: its question, or for English its English phrasing."""
    if lang == "en":
        for p in entry.phrasings:
            if detect_language(p, default="vi") == "en":
                title = p.strip()
                title = title[0].upper() + title[1:]
                return title if title.endswith("?") else title + "?"
    return entry.question.strip()


def _reply(kind: str, lang: str, response: Optional[str] = None, text: Optional[str] = None,
           choices: Optional[List[Dict[str, str]]] = None, entry_id: Optional[str] = None,
           score: float = 0.0, values: Optional[Dict[str, Any]] = None, **extra: Any) -> Dict[str, Any]:
    out = {"kind": kind, "response": response, "text": text, "values": values or {}, "choices": choices or [],
           "entry_id": entry_id, "score": round(float(score), 4), "language": lang}
    out.update(extra)
    return out


def _answer_reply(entry: Entry, lang: str, score: float, with_person: bool = False, **extra: Any) -> Dict[str, Any]:
    text = entry.answer(lang)
    return _reply("answer", lang, ANSWER_WITH_PERSON if with_person else None, text, None, entry.id, score,
                  {"answer": text} if with_person else None,
                  answer_language="en" if lang == "en" and entry.answer_en else "vi", **extra)


def _abstain(lang: str, score: float = 0.0, response: str = DONT_KNOW, **extra: Any) -> Dict[str, Any]:
    return _reply("abstain", lang, response, score=score, **extra)


def decide(text: Union[str, PreparedText], language: Optional[str] = None,
           cached: Optional[Tuple[str, str, Any]] = None,
           settings: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The FAQ decision for `text` (as received, or as bot.text.prepare made it) as plain
    data (what the NLU router puts in the parse data and `reply_for` turns into words).
    `cached`: (embedder spec, embedded text, vector) of the NLU featurizer, reused when it
    embedded exactly what the search would. Raises when the knowledge base is unavailable."""
    kb = get_knowledge_base(settings)
    embedded = cached[1:] if cached is not None and cached[0] == kb.embedder.spec else None
    decision = kb.decide(text, language=language, embedded=embedded)
    ids = [h.entry_id for h in decision.hits]
    top = decision.top
    return {"kind": decision.kind, "entry_id": ids[0] if decision.kind == "answer" else None,
            "confidence": round(float(decision.confidence), 4), "near_answer": decision.near_answer,
            "score": round(float(top.score), 4) if top else 0.0,
            "suggestions": ids if decision.kind == "suggest" else [],
            "considered": ids if decision.kind == "abstain" else [],
            "index": kb.data.manifest.get("built_at")}


def answer(text: str, language: Optional[str] = None,
           settings: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """What the bot should say to `text`, in `language` ("vi"/"en"; detected when None).

    Never raises: if the knowledge base is unavailable the customer gets the honest
    "I don't know, would you like a person?" reply (with "error" set) and the error is logged.
    """
    message = prepare(text or "")
    lang = language if language in ("vi", "en") else message.language or "vi"
    if not text or not text.strip():
        return _abstain(lang)
    try:
        faq = decide(message, language=lang, settings=settings)
    except Exception as exc:  # noqa: BLE001 - a reply is always given
        log.exception("FAQ search failed for %r", text)
        return _abstain(lang, error=f"{type(exc).__name__}: {exc}")
    return reply_for(faq, lang, settings)


def reply_for(faq: Dict[str, Any], language: Optional[str] = "vi",
              settings: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The reply to a FAQ decision made by `decide` (here or in the Rasa server's router)."""
    lang = language if language in ("vi", "en") else "vi"
    try:
        kb = get_knowledge_base(settings)
    except Exception as exc:  # noqa: BLE001 - a reply is always given
        log.exception("FAQ knowledge base unavailable")
        return _abstain(lang, error=f"{type(exc).__name__}: {exc}")
    score = faq.get("score") or 0.0
    extra = {"confidence": faq.get("confidence")}
    if faq.get("kind") == "answer":
        entry = kb.get(faq.get("entry_id") or "")
        if entry is not None:
            # A complaint the FAQ answers still gets the offer of a person (and, when the
            # classifier is sure of it, an apology first: action_answer_question).
            return _answer_reply(entry, lang, score, with_person=is_complaint(faq), **extra)
    if faq.get("kind") in ("answer", "suggest"):
        entries = [e for e in (kb.get(i) for i in faq.get("suggestions") or [faq.get("entry_id")]) if e]
        if entries:
            choices = [{"title": suggestion_title(e, lang), "payload": ask_payload(e.id)} for e in entries]
            return _reply("suggest", lang, SUGGEST_WITH_PERSON if is_complaint(faq) else SUGGEST, None,
                          choices, None, score, suggestions=[e.id for e in entries], **extra)
    return _abstain(lang, score, considered=list(faq.get("considered") or []), **extra)


def is_complaint(faq: Dict[str, Any]) -> bool:
    """The NLU router took this message from the complaint intent to the FAQ."""
    return ((faq or {}).get("routed_from") or {}).get("intent") == "complain"


def answer_by_id(entry_id: str, language: Optional[str] = "vi",
                 settings: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The answer of one entry (the customer picked a suggestion button), with its question."""
    lang = language if language in ("vi", "en") else "vi"
    try:
        entry = get_knowledge_base(settings).get(entry_id)
    except Exception as exc:  # noqa: BLE001
        log.exception("FAQ lookup of %r failed", entry_id)
        return _abstain(lang, error=f"{type(exc).__name__}: {exc}")
    if entry is None:
        log.warning("FAQ entry %r asked for but not in the index", entry_id)
        return _abstain(lang, response=GONE)
    return _answer_reply(entry, lang, 1.0, question=entry.question)
