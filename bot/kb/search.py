"""Hybrid FAQ search and the answer / suggest / abstain decision.

For a customer's message each entry gets one score in [0, 1]:

    score = (1 - w_lex) * dense + w_lex * lexical

dense    weighted mix of three cosine similarities, each mapped to [0, 1] against the
         embedder's "unrelated texts" level (index.calibrate):
           question  the best of the entry's question and phrasings (query-to-query),
           answer    the question + Vietnamese answer passage,
           english   the English phrasings + English answer passage.
         A message typed without accents is first given its accents back
         (lexical.DiacriticRestorer): e5 reads "hủy đơn vừa đặt" far better than "huy don vua dat".
lexical  BM25 (lexical.BM25) on the diacritic-free, abbreviation-expanded syllables of the
         entry's question, phrasings and tags; in a corpus whose entries have no phrasings
         (a plain FAQ), mixed with BM25 on the answers (KnowledgeBase.answer_share);
         optionally mixed with BM25 on segmented Vietnamese words; for an English message,
         mixed with BM25 on the entry's English text (English phrasings, English answer, tags).

A message is prepared once (bot.text.prepare, or by the NLU tokenizer) and searched as a
`SearchQuery`: its language, the text the embedder reads, its fold terms.

The weights, `answer_threshold`, `suggest_threshold` and `answer_margin` live in the `kb:`
section of hotro.yml and were chosen on the development query set (bench/kb_eval.md).
"""
from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from bot.kb.calibration import (DECISION_VERSION, FEATURES, DecisionModel, decision_features, decision_policy,
                                fit_decision)
from bot.kb.corpus import Entry
from bot.embedders import DEFAULT_EMBEDDER, Embedder, load_embedder
from bot.kb.index import (DEFAULT_EXACT_INDEX_MAX, KIND_PASSAGE_EN, KIND_PASSAGE_VI, KIND_TEXT, RESTORER_ANSWERS,
                          IndexData, IndexParams, build_in_memory)
from bot.kb.index_store import IndexMismatchError, load_index
from bot.kb.lexical import (BM25, DiacriticRestorer, entry_lexical, fold_terms, idf_of, restorer_texts,
                            word_terms)
from bot.text import PreparedText, corpus_readings, prepare, vietnamese_gloss

log = logging.getLogger(__name__)
_TOKEN_RE = re.compile(r"\w+")

@dataclass(frozen=True)
class SearchParams:
    """Fusion weights and decision thresholds (hotro.yml `kb:`; defaults = the shipped values)."""

    w_question: float = 0.5
    w_answer: float = 0.5
    w_english: float = 0.25
    lexical: float = 0.3  # share of the lexical score in the fused score
    lexical_english: float = 0.3  # English message: share of BM25 on the entries' English text
    # English message, corpus without English: share of BM25 on the Vietnamese of its words
    # (bot/text/english_gloss)
    lexical_gloss: float = 0.3
    lexical_words: float = 0.0  # share of BM25 on segmented Vietnamese words
    lexical_answer: float = 0.0  # share of BM25 on the entries' Vietnamese answers
    # ...in a corpus of plain FAQs (no phrasings), scaled by its share of entries without
    # phrasings; the larger of the two applies (see KnowledgeBase.answer_share)
    lexical_answer_plain: float = 0.3
    restore_diacritics: bool = True
    answer_threshold: float = 0.58
    suggest_threshold: float = 0.29
    answer_margin: float = 0.0  # the best entry must lead the second by this much to answer
    suggestions: int = 3
    candidates: int = 64  # entries rescored exactly, from FAISS and from BM25 each
    # Decide with the index's own calibrated model (calibration.py) when it has one; the
    # fixed thresholds above are the fallback for an index built without it.
    calibrated: bool = True

    @classmethod
    def from_settings(cls, kb: Optional[Dict[str, Any]]) -> "SearchParams":
        kb = kb or {}
        fusion = kb.get("fusion") or {}
        dense = fusion.get("dense") or {}
        d = cls()
        return cls(
            w_question=float(dense.get("question", d.w_question)),
            w_answer=float(dense.get("answer", d.w_answer)),
            w_english=float(dense.get("english", d.w_english)),
            lexical=float(fusion.get("lexical", d.lexical)),
            lexical_english=float(fusion.get("lexical_english", d.lexical_english)),
            lexical_gloss=float(fusion.get("lexical_gloss", d.lexical_gloss)),
            lexical_words=float(fusion.get("lexical_words", d.lexical_words)),
            lexical_answer=float(fusion.get("lexical_answer", d.lexical_answer)),
            lexical_answer_plain=float(fusion.get("lexical_answer_plain", d.lexical_answer_plain)),
            restore_diacritics=bool(kb.get("restore_diacritics", d.restore_diacritics)),
            answer_threshold=float(kb.get("answer_threshold", d.answer_threshold)),
            suggest_threshold=float(kb.get("suggest_threshold", d.suggest_threshold)),
            answer_margin=float(kb.get("answer_margin", d.answer_margin)),
            suggestions=int(kb.get("suggestions", d.suggestions)),
            candidates=int(kb.get("candidates", d.candidates)),
            calibrated=bool((kb.get("decision") or {}).get("calibrated", d.calibrated)),
        )


@dataclass
class Hit:
    entry_id: str
    score: float  # fused, in [0, 1]
    dense: float  # dense part, in [0, 1]
    lexical: float  # lexical part, in [0, 1]
    entry: Entry = field(repr=False)


@dataclass
class Decision:
    """kind "answer": hits = [the entry to answer with]; "suggest": the entries to offer
    (at most `suggestions`); "abstain": the best entries considered (for logs and tickets).
    `confidence`: the calibrated probability that the top entry is the right answer (the
    top's fused score when the index has no calibrated model)."""

    kind: str
    hits: List[Hit]
    confidence: float = 0.0
    near_answer: bool = False  # a suggestion with confidence at least halfway to the answer cut

    @property
    def top(self) -> Optional[Hit]:
        return self.hits[0] if self.hits else None


@dataclass(frozen=True)
class SearchQuery:
    """A customer's message as search reads it, made once by KnowledgeBase.query."""

    message: PreparedText
    language: str  # "vi" or "en": the message's own, else the conversation's
    text: str  # what the embedder reads: the prepared text, or `restored`
    restored: Optional[str]  # the prepared text with its accents put back, when typed without
    terms: List[str]  # fold terms, for BM25


@dataclass
class QueryScores:
    """Per-candidate raw scores of one query (all in [0, 1]), before they are fused."""

    candidates: np.ndarray  # entry positions
    question: np.ndarray
    answer: np.ndarray
    english: np.ndarray
    lex_fold: np.ndarray
    lex_words: Optional[np.ndarray]
    # an English message's: BM25 on the entries' English text, or on the Vietnamese of its
    # words (its gloss) when the corpus has no English
    lex_english: Optional[np.ndarray]
    lex_answer: Optional[np.ndarray]
    language: str
    restored: Optional[str] = None


class KnowledgeBase:
    """Search over one immutable index; safe to share between threads."""

    def __init__(self, data: IndexData, embedder: Optional[Embedder] = None,
                 params: Optional[SearchParams] = None):
        self.data = data
        self.entries: List[Entry] = data.entries
        self.embedder = embedder or load_embedder(data.embedder_spec)
        if self.embedder.spec != data.embedder_spec:
            raise ValueError(f"index built with {data.embedder_spec!r}, embedder is {self.embedder.spec!r}")
        self.params = params or SearchParams()
        self._by_id = {e.id: i for i, e in enumerate(self.entries)}
        n = len(self.entries)
        # each entry's vectors are contiguous rows
        starts = np.full(n, -1, dtype=np.int64)
        ends = np.zeros(n, dtype=np.int64)
        ve = np.asarray(data.vector_entry)
        if len(ve):
            first = np.r_[True, ve[1:] != ve[:-1]]
            for row in np.flatnonzero(first):
                starts[ve[row]] = row
            last = np.r_[ve[1:] != ve[:-1], True]
            for row in np.flatnonzero(last):
                ends[ve[row]] = row + 1
        self._starts, self._ends = starts, ends
        self._kinds = np.asarray(data.vector_kind)
        # share of entries with no phrasings: 1.0 for a plain question,answer FAQ
        self.plain_share = float(np.mean([not e.phrasings for e in self.entries])) if n else 0.0
        cal = data.calibration
        self._base_text = cal["qq"] if data.params.phrasing_side == "query" else cal["qp"]
        self._base_passage = cal["qp"]
        self._build_lexical()
        # "đh" is "đại học" to a university's FAQ: ambiguous abbreviations read as this FAQ
        # uses them (bot/text/abbreviations.READINGS)
        self._readings = corpus_readings(t for e in self.entries for t in (*e.texts(), e.answer_vi or ""))
        self._restorer: Optional[DiacriticRestorer] = None
        self._restorer_lock = threading.Lock()
        self.decision_model = DecisionModel.from_dict(data.decision) if self.params.calibrated else None

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def load(cls, index_dir: str | os.PathLike, embedder_spec: Optional[str] = None,
             corpus_dir: Optional[str | os.PathLike] = None,
             settings: Optional[Dict[str, Any]] = None) -> "KnowledgeBase":
        """Load from disk (see index_store.load_index for the refusals: another embedder, another
        corpus, or texts embedded differently from what `settings` asks for)."""
        kb = _kb_section(settings)
        data = load_index(index_dir, embedder_spec=embedder_spec, corpus_dir=corpus_dir,
                          params=IndexParams.from_settings(kb))
        if data.decision and data.decision.get("version") != DECISION_VERSION:
            raise IndexMismatchError(f"the FAQ index in {index_dir} has a decision model of another "
                                     f"version of hotro: rebuild it with `hotro kb build`")
        return cls(data, params=SearchParams.from_settings(kb))

    @classmethod
    def from_entries(cls, entries: Sequence[Entry], embedder_spec: Optional[str] = None,
                     settings: Optional[Dict[str, Any]] = None, embedder: Optional[Embedder] = None,
                     progress: bool = False) -> "KnowledgeBase":
        """An in-memory index of `entries` (nothing written to disk)."""
        kb = _kb_section(settings)
        if embedder is None:
            embedder = load_embedder(embedder_spec or _embedder_spec(settings))
        data = build_in_memory(entries, embedder, IndexParams.from_settings(kb),
                               int(kb.get("exact_index_max", DEFAULT_EXACT_INDEX_MAX)), progress=progress)
        out = cls(data, embedder=embedder, params=SearchParams.from_settings(kb))
        if out.params.calibrated and len(out):
            data.decision = fit_decision(out, **decision_policy(kb)).to_dict()
            out.decision_model = DecisionModel.from_dict(data.decision)
        return out

    def with_params(self, params: SearchParams) -> "KnowledgeBase":
        """The same index with other weights/thresholds (evaluation)."""
        other = object.__new__(KnowledgeBase)
        other.__dict__.update(self.__dict__)
        other.params = params
        if not params.calibrated:
            other.decision_model = None
        return other

    def _build_lexical(self) -> None:
        docs = self.data.lexical
        if docs is None or len(docs) != len(self.entries):
            docs = [entry_lexical(e) for e in self.entries]
        self._bm25_fold = BM25([d["fold"] for d in docs])
        self._bm25_answer = BM25([d.get("answer") or [] for d in docs])
        english_entries = sum(1 for d in docs if d["en"])
        self._bm25_english = BM25([d["en"] for d in docs]) if english_entries else None
        # An English message is read through its Vietnamese gloss unless every entry has
        # English of its own: with English on some entries only, BM25 on it alone pulled
        # English messages to those entries (bench/english_agree.md, the partly English rows).
        self._gloss_applies = english_entries < len(docs)
        # what each entry says, for `coverage` (not its phrasings, which hold how customers
        # ask: "… thì sao", "… được không"), and its words' idf
        self._entry_words = [set(d["said"]) for d in docs]
        self._said_idf, self._unseen_idf = idf_of(self._entry_words)
        self._bm25_words: Optional[BM25] = None
        self._words_lock = threading.Lock()

    def _words_index(self) -> BM25:
        with self._words_lock:
            if self._bm25_words is None:
                self._bm25_words = BM25([[w for t in (e.texts() or [e.answer_vi]) for w in word_terms(t)]
                                         for e in self.entries])
            return self._bm25_words

    def restorer(self) -> DiacriticRestorer:
        with self._restorer_lock:
            if self._restorer is None:
                if self.data.restorer is not None:
                    self._restorer = DiacriticRestorer.from_dict(self.data.restorer)
                else:
                    self._restorer = DiacriticRestorer(restorer_texts(self.entries, RESTORER_ANSWERS))
            return self._restorer

    def warm_up(self) -> None:
        """Do the one-time work now rather than in the first customer's request."""
        if self.params.restore_diacritics:
            self.restorer()
        if self.params.lexical_words > 0:
            self._words_index()
        self.embedder.embed_queries(["xin chào"])

    # --- queries --------------------------------------------------------------------------

    def text_rows(self, position: int) -> List[int]:
        """Index rows of the question and phrasings of the entry at `position`, in order."""
        start, end = int(self._starts[position]), int(self._ends[position])
        return [r for r in range(start, end) if self._kinds[r] == KIND_TEXT] if start >= 0 else []

    def get(self, entry_id: str) -> Optional[Entry]:
        i = self._by_id.get(entry_id)
        return None if i is None else self.entries[i]

    def __len__(self) -> int:
        return len(self.entries)

    def coverage(self, entry_id: str, text: Union[str, PreparedText],
                 ignore: frozenset = frozenset()) -> float:
        """The share of `text`'s words, each weighed by its rarity in the FAQ (idf), that the
        entry's question or answers contain: whether the entry speaks of what `text` asks
        (a follow-up question, bot/kb/follow_up.py). `ignore`: fold terms that do not count."""
        message = self._prepared(text)
        words = set(fold_terms(message, english=message.language == "en")) - ignore
        if not words or entry_id not in self._by_id:
            return 0.0
        own = self._entry_words[self._by_id[entry_id]]
        weight = {w: self._said_idf.get(w, self._unseen_idf) for w in words}
        return sum(weight[w] for w in words if w in own) / sum(weight.values())

    def query(self, message: Union[str, PreparedText, SearchQuery],
              language: Optional[str] = None) -> SearchQuery:
        """`message` prepared for search: `language` (the conversation's) counts when the
        message does not say which it is in; diacritics are put back when typed without."""
        if isinstance(message, SearchQuery):
            return message
        message = self._prepared(message)
        lang = message.language or language or "vi"
        text, restored = message.text, None
        if self.params.restore_diacritics and lang == "vi" and message.typed_without_diacritics:
            restored = self.restorer().restore(text)
            text = restored
        return SearchQuery(message, lang, text, restored, fold_terms(message))

    def _prepared(self, message: Union[str, PreparedText]) -> PreparedText:
        """`message` prepared with this FAQ's readings of ambiguous abbreviations (prepared
        again when it holds one that the shared preparation read otherwise)."""
        if not isinstance(message, PreparedText):
            return prepare(message, self._readings)
        if self._readings and not self._readings.keys().isdisjoint(_TOKEN_RE.findall(message.normalized.lower())):
            return prepare(message.original, self._readings)
        return message

    def embedding_text(self, query: Union[str, PreparedText],
                       language: Optional[str] = None) -> Tuple[str, str, Optional[str]]:
        """(language, the text the embedder reads, the restored text or None) for `query`."""
        q = self.query(query, language)
        return q.language, q.text, q.restored

    def scores(self, query: Union[str, PreparedText, SearchQuery], language: Optional[str] = None,
               all_entries: bool = False, embedded: Optional[Tuple[str, np.ndarray]] = None,
               drop_rows: Optional[np.ndarray] = None) -> QueryScores:
        """Raw per-entry scores of `query` for the candidates (or every entry).

        `embedded`: (text, its vector) when the caller already embedded a text (the NLU
        featurizer); reused when it is the text this search embeds. `drop_rows`: index rows
        to ignore (calibration leaves texts out).
        """
        p = self.params
        query = self.query(query, language)
        lang, text = query.language, query.text
        if embedded is not None and embedded[0] == text:
            q = np.asarray(embedded[1], dtype=np.float32)
        else:
            q = self.embedder.embed_queries([text])[0]
        terms = query.terms
        lex_fold_all = self._bm25_fold.scores(terms)
        answer_share = self.answer_share(p) if lang == "vi" else 0.0
        lex_answer_all = self._bm25_answer.scores(terms) if answer_share > 0 else None
        n = len(self.entries)
        if all_entries or n <= p.candidates:
            cand = np.arange(n)
        else:  # the lexical candidates as fuse() will read them
            cand = self._candidates(q, lex_fold_all if lex_answer_all is None
                                    else (1 - answer_share) * lex_fold_all + answer_share * lex_answer_all)
        question, answer, english = self._dense(q, cand, drop_rows)
        lex_words = None
        if p.lexical_words > 0 and lang == "vi":
            lex_words = self._words_index().scores(word_terms(query.message))[cand]
        lex_english = None
        if lang == "en" and self._bm25_english is not None and p.lexical_english > 0:
            lex_english = self._bm25_english.scores(fold_terms(query.message, english=True))[cand]
        if lang == "en" and self._gloss_applies and p.lexical_gloss > 0:
            gloss = self._gloss_scores(query.message.text, cand)
            lex_english = gloss if lex_english is None else np.maximum(lex_english, gloss)
        lex_answer = None if lex_answer_all is None else lex_answer_all[cand]
        return QueryScores(cand, question, answer, english, lex_fold_all[cand], lex_words, lex_english,
                           lex_answer, lang, query.restored)

    def _gloss_scores(self, text: str, cand: np.ndarray) -> np.ndarray:
        """BM25 of the Vietnamese gloss of an English message on the questions and answers,
        mixed as for a Vietnamese message, and weighed by the share of the message the gloss
        covers: "what student clubs are there" glossed as "sinh viên" alone must not outrank
        the embedding."""
        gloss = vietnamese_gloss(text)
        terms = fold_terms(gloss.text)
        lexical = self._bm25_fold.scores(terms)[cand]
        share = self.answer_share()
        if share > 0:
            lexical = (1 - share) * lexical + share * self._bm25_answer.scores(terms)[cand]
        return gloss.known * lexical

    def _candidates(self, q: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        k = self.params.candidates
        index = self.data.faiss_index
        n_vec = min(index.ntotal, k * 6)
        _, rows = index.search(q[np.newaxis, :].astype(np.float32), n_vec)
        rows = rows[0][rows[0] >= 0]
        dense_entries = np.unique(self.data.vector_entry[rows])
        top_lex = np.argpartition(-lexical, k)[:k] if len(lexical) > k else np.arange(len(lexical))
        return np.union1d(dense_entries, top_lex[lexical[top_lex] > 0]).astype(np.int64)

    def _dense(self, q: np.ndarray, cand: np.ndarray, drop_rows: Optional[np.ndarray] = None):
        starts, ends = self._starts[cand], self._ends[cand]
        lengths = np.where(starts >= 0, ends - starts, 0)
        rows = np.concatenate([np.arange(s, e) for s, e, ln in zip(starts, ends, lengths) if ln]
                              ) if lengths.sum() else np.zeros(0, dtype=np.int64)
        owner = np.repeat(np.arange(len(cand)), lengths)
        sims = np.asarray(self.data.vectors[rows], dtype=np.float32) @ q if len(rows) else np.zeros(0)
        if drop_rows is not None and len(drop_rows):
            sims = np.where(np.isin(rows, drop_rows), -np.inf, sims).astype(np.float32)
        kinds = self._kinds[rows]
        out = {}
        for kind, base in ((KIND_TEXT, self._base_text), (KIND_PASSAGE_VI, self._base_passage),
                           (KIND_PASSAGE_EN, self._base_passage)):
            best = np.full(len(cand), np.nan, dtype=np.float32)
            mask = kinds == kind
            if mask.any():
                vals = np.full(len(cand), -np.inf, dtype=np.float32)
                np.maximum.at(vals, owner[mask], sims[mask])
                best = np.where(np.isfinite(vals), np.clip((vals - base) / (1 - base), 0, 1), np.nan)
            out[kind] = best
        answer = out[KIND_PASSAGE_VI]
        question = np.where(np.isnan(out[KIND_TEXT]), answer, out[KIND_TEXT])
        answer = np.where(np.isnan(answer), question, answer)
        english = np.where(np.isnan(out[KIND_PASSAGE_EN]), answer, out[KIND_PASSAGE_EN])
        return (np.nan_to_num(question), np.nan_to_num(answer), np.nan_to_num(english))

    def answer_share(self, params: Optional[SearchParams] = None) -> float:
        """The share of BM25 on the answers in the lexical score of a Vietnamese message.

        An entry with only its question has a lexical document of a few syllables: a
        customer who words the question with the answer's words ("lấy tiền ra ngân hàng"
        for "rút tiền") matches nothing. Phrasings widen it, and on the sample corpus (every
        entry has four to five) BM25 on the answers costs 1.4 points of recall@1; on plain
        FAQs it gains 1.4 to 3.3 (bench/kb_ranking.md). So its share scales with the share
        of entries without phrasings, one weight for the whole corpus: given to the entries
        without phrasings alone, their answers' words outscored the phrased entries (the
        sample with half its entries' phrasings removed lost 1.7 points; with the one
        corpus-wide weight it kept its recall@1).
        """
        p = params or self.params
        return max(p.lexical_answer, p.lexical_answer_plain * self.plain_share)

    def fuse(self, ch: QueryScores, params: Optional[SearchParams] = None):
        """(score, dense, lexical) arrays over `ch.candidates`."""
        p = params or self.params
        total = (p.w_question + p.w_answer + p.w_english) or 1.0
        dense = (p.w_question * ch.question + p.w_answer * ch.answer + p.w_english * ch.english) / total
        if ch.language == "en" and self._gloss_applies:
            # English words cannot match the entries with no English: the Vietnamese of its
            # words can (bench/kb_ranking.md).
            if ch.lex_english is None:
                return dense, dense, np.zeros_like(dense)
            return (1 - p.lexical_gloss) * dense + p.lexical_gloss * ch.lex_english, dense, ch.lex_english
        lexical = ch.lex_fold
        if ch.lex_words is not None and p.lexical_words > 0:
            lexical = (1 - p.lexical_words) * lexical + p.lexical_words * ch.lex_words
        answer_share = self.answer_share(p)
        if ch.lex_answer is not None and answer_share > 0:
            lexical = (1 - answer_share) * lexical + answer_share * ch.lex_answer
        if ch.lex_english is not None and p.lexical_english > 0:
            lexical = (1 - p.lexical_english) * lexical + p.lexical_english * ch.lex_english
        score = (1 - p.lexical) * dense + p.lexical * lexical
        return score, dense, lexical

    def _scored(self, query: SearchQuery, embedded: Optional[Tuple[str, np.ndarray]]):
        ch = self.scores(query, embedded=embedded)
        return (ch, *self.fuse(ch))

    @staticmethod
    def _hits(ch: QueryScores, entries: List[Entry], score, dense, lexical, k: int) -> List[Hit]:
        order = np.argsort(-score, kind="stable")[:k]
        return [Hit(entries[ch.candidates[i]].id, float(score[i]), float(dense[i]),
                    float(lexical[i]), entries[ch.candidates[i]]) for i in order]

    def search(self, query: Union[str, PreparedText], k: int = 5, language: Optional[str] = None) -> List[Hit]:
        """The `k` best entries for `query`, best first."""
        if _blank(query) or not self.entries:
            return []
        ch, score, dense, lexical = self._scored(self.query(query, language), None)
        return self._hits(ch, self.entries, score, dense, lexical, k)

    def decide(self, query: Union[str, PreparedText], language: Optional[str] = None,
               embedded: Optional[Tuple[str, np.ndarray]] = None) -> Decision:
        """Answer with the best entry, suggest a few, or abstain: with the index's calibrated
        model when it has one (calibration.py), else with the fixed thresholds. `embedded`:
        as in `scores`."""
        if _blank(query) or not self.entries:
            return Decision("abstain", [])
        return self.decide_scored(*self._scored(self.query(query, language), embedded))

    def decide_scored(self, ch: QueryScores, score: np.ndarray, dense: np.ndarray,
                      lexical: np.ndarray) -> Decision:
        """`decide` on a query's fused candidate scores (an evaluation may leave some out)."""
        p = self.params
        hits = self._hits(ch, self.entries, score, dense, lexical, max(p.suggestions, 2))
        if self.decision_model is None:
            return decide_from_hits(hits, p)
        model = self.decision_model
        english = ch.language == "en"
        features = decision_features(score, dense, lexical)
        confidence = model.probability(features, english)
        if english and model.english_full:
            full = model.probability(features)
            if full >= model.full.answer_p and hits:
                return Decision("answer", hits[:1], full)
        gloss = english and self._gloss_applies
        # the lower cut on agreement was measured on corpora with no English at all
        agrees = gloss and self._bm25_english is None and bool(features[FEATURES.index("agree")])
        cuts = model.cuts(english, agrees)
        english_near = bool(len(dense)) and float(dense.max()) >= model.english_floor
        return decide_calibrated(hits, confidence, cuts, 0.0 if english else model.suggest_floor, p,
                                 english_near if english else None,
                                 # the dense model's confidence is in the dense ranking's top entry
                                 may_answer=not gloss or int(np.argmax(score)) == int(np.argmax(dense)))


def _blank(query: Union[str, PreparedText]) -> bool:
    text = query.original if isinstance(query, PreparedText) else query
    return not text or not text.strip()


def decide_from_hits(hits: List[Hit], p: SearchParams) -> Decision:
    if not hits:
        return Decision("abstain", [])
    top = hits[0]
    margin = top.score - hits[1].score if len(hits) > 1 else top.score
    if top.score >= p.answer_threshold and margin >= p.answer_margin:
        return Decision("answer", [top], top.score)
    if top.score >= p.suggest_threshold:
        return Decision("suggest", [h for h in hits[: p.suggestions] if h.score >= p.suggest_threshold],
                        top.score)
    return Decision("abstain", hits[: p.suggestions], top.score)


def decide_calibrated(hits: List[Hit], confidence: float, cuts: Tuple[float, float],
                      floor: float, p: SearchParams, english_near: Optional[bool] = None,
                      may_answer: bool = True) -> Decision:
    """`cuts`: the answer and suggest levels of `confidence`; `floor`: the fused score a
    suggestion needs (none for English against the dense model: its scores sit lower);
    `english_near`: for an English message, whether its best dense similarity reaches
    calibration.DecisionModel.english_floor. That, not the suggest level, decides its
    suggestions: English messages under it were offered entries on their dense margin alone,
    and every one of them on the evaluation sets was out of scope (bench/english_floor.md).
    `may_answer` False: suggest at most (the confidence is not about the top entry)."""
    answer_p, suggest_p = cuts
    if not hits:
        return Decision("abstain", [], confidence)
    if confidence >= answer_p and may_answer:
        return Decision("answer", hits[:1], confidence)
    offered = [h for h in hits[: p.suggestions] if h.score >= floor]
    may_suggest = confidence >= suggest_p if english_near is None else english_near
    if may_suggest and offered:
        return Decision("suggest", offered, confidence, confidence >= (suggest_p + answer_p) / 2)
    return Decision("abstain", hits[: p.suggestions], confidence)


def fit_index_decision(data: IndexData, settings: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """build_index's hook: the calibrated decision model of freshly built index data."""
    kb_settings = _kb_section(settings)
    kb = KnowledgeBase(data, params=SearchParams.from_settings(kb_settings))
    log.info("fitting the answer decision to the %d FAQ entries (about 10 s per 100)", len(data.entries))
    return fit_decision(kb, **decision_policy(kb_settings)).to_dict()


def _kb_section(settings: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Accepts the whole settings dict, its `kb:` section, or None (hotro.yml)."""
    if settings is None:
        from bot.settings import load_settings

        settings = load_settings()
    if "kb" in settings and isinstance(settings["kb"], dict):
        return dict(settings["kb"])
    return dict(settings)


def _embedder_spec(settings: Optional[Dict[str, Any]]) -> str:
    if settings is None:
        from bot.settings import load_settings

        settings = load_settings()
    return settings.get("embedder") or DEFAULT_EMBEDDER


__all__ = ["KnowledgeBase", "Hit", "Decision", "SearchParams", "SearchQuery", "QueryScores", "decide_from_hits",
           "decide_calibrated", "fit_index_decision"]
