"""Lexical side of FAQ search: BM25 over Vietnamese text, and diacritic restoration.

Two term forms, both measured in bench/kb_eval.md:
  * fold terms: the diacritic-free shadow of bot.text ("hủy đơn" -> "huy", "don"), split into
    syllables, with English plurals/-ing/-ed stripped (no Vietnamese syllable ends in s, ed
    or ing, so the stripping never touches Vietnamese). Matches customers who type without
    accents, and English words in English phrasings, answers and tags.
  * word terms: Vietnamese words as bot.text.segment segments them ("đơn hàng",
    "chăm sóc"), with diacritics.

BM25 scores are normalised per query to [0, 1]: the score divided by the idf mass of the
query's terms, so 1 means "every term of the question is in this entry" and a term the
corpus never uses (a typo, an out-of-scope word such as "xe máy") counts against every
entry with the highest idf.

`DiacriticRestorer` puts accents back on a Vietnamese message typed without them, using a
syllable bigram model of the corpus's own text ("huy don vua dat" -> "hủy đơn vừa đặt"):
the embedder understands accented Vietnamese far better than the bare form.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np

from bot.text import PreparedText, detect_language, fold, normalize, prepare

_WORD_RE = re.compile(r"\w+")
_SENTENCE_SPLIT_RE = re.compile(r"[.,;:!?()\[\]\"/\n\u2013\u2014]+")


def _stem(word: str) -> str:
    """Strip English -s/-es/-ing/-ed ("orders", "tracking", "cancelled") from ASCII words."""
    if not word.isascii():
        return word
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouy":
                word = word[:-1]  # "cancelled" -> "cancel", "shipping" -> "ship"
            return word
    return word


# Pronouns and vocatives of chat ("ad ơi ... giúp e với"), folded, and English pronouns and
# greetings: they say who is talking, not what about. In a small corpus BM25's idf cannot
# learn that; on the dev set removing them costs nothing (bench/kb_eval.md). Particles
# ("rồi", "vậy", "nhé") stay: removing them measured slightly worse.
STOPWORDS = frozenset("""
    toi minh ban em e anh chi ad admin shop sop oi
    i me my you your we our us please pls plz hi hello hey
""".split())


# English function words, dropped only on the English side (English phrasings and answers
# against an English message): folded Vietnamese has many of them as syllables ("thẻ" is
# "the", "cần" is "can", "in" is "in").
ENGLISH_STOPWORDS = frozenset("""
    a an the is are was were be been being am do does did doing have has had to of in on at
    for with from by about as into it its this that these those there here and or but if so
    can could would will should shall may might must how what which who whom he she they them
    their him her his
""".split())


def fold_terms(text: Union[str, PreparedText], english: bool = False) -> List[str]:
    """Diacritic-free syllables of `text` after normalisation and abbreviation expansion,
    without chat pronouns and vocatives (STOPWORDS); `english` also drops English
    function words."""
    message = text if isinstance(text, PreparedText) else prepare(text)
    stop = STOPWORDS | ENGLISH_STOPWORDS if english else STOPWORDS
    return [_stem(w) for w in _WORD_RE.findall(message.shadow) if w not in stop]


def word_terms(text: Union[str, PreparedText]) -> List[str]:
    """Vietnamese words (segmented, with diacritics, lowercase) of `text`."""
    message = text if isinstance(text, PreparedText) else prepare(text)
    return [w.lower() for w, _, _ in message.words if _WORD_RE.search(w)]


def idf_of(docs: Sequence[Iterable[str]]) -> Tuple[Dict[str, float], float]:
    """BM25's idf of every term of `docs`, and that of a term no document has (as informative
    as a term seen once, BM25.unseen_idf)."""
    df = Counter(term for doc in docs for term in set(doc))
    n = max(len(docs), 1)
    idf = {term: math.log(1 + (n - count + 0.5) / (count + 0.5)) for term, count in df.items()}
    return idf, math.log(1 + (n - 1 + 0.5) / 1.5)


class BM25:
    """Okapi BM25 over a fixed list of documents (one per FAQ entry), scores in [0, 1]."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        self.n_docs = len(docs)
        self.k1, self.b = k1, b
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if len(docs) and lengths.sum() else 1.0
        postings: Dict[str, Tuple[List[int], List[float]]] = {}
        for i, doc in enumerate(docs):
            norm = k1 * (1 - b + b * lengths[i] / avg)
            for term, tf in Counter(doc).items():
                ids, weights = postings.setdefault(term, ([], []))
                ids.append(i)
                weights.append(tf * (k1 + 1) / (tf + norm))
        self.idf, self.unseen_idf = idf_of(docs)  # a term no document has is matched nowhere
        self.postings: Dict[str, Tuple[np.ndarray, np.ndarray]] = {
            term: (np.asarray(ids, dtype=np.int32), np.asarray(weights, dtype=np.float32))
            for term, (ids, weights) in postings.items()}

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """Normalised score of every document for the query (0 when it has no terms)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        mass = 0.0
        for term in query_terms:
            idf = self.idf.get(term)
            if idf is None:
                mass += self.unseen_idf
                continue
            mass += idf
            ids, weights = self.postings[term]
            out[ids] += idf * weights
        if mass <= 0:
            return out
        return np.minimum(out / mass, 1.0)


class DiacriticRestorer:
    """Puts Vietnamese accents back using syllable bigrams counted on the corpus's text."""

    def __init__(self, texts: Iterable[str] = ()):
        self._uni: Counter = Counter()
        self._bi: Counter = Counter()
        candidates: Dict[str, Counter] = defaultdict(Counter)
        for text in texts:
            for sentence in _SENTENCE_SPLIT_RE.split(normalize(text).lower()):
                syllables = ["<s>", *_WORD_RE.findall(sentence), "</s>"]
                if len(syllables) == 2:
                    continue
                self._uni.update(syllables)
                self._bi.update(zip(syllables, syllables[1:]))
                for s in syllables[1:-1]:
                    candidates[fold(s)][s] += 1
        # keep the few most frequent accented forms of each bare syllable
        self._candidates = {k: [s for s, _ in c.most_common(8)] for k, c in candidates.items()}
        self._total = max(sum(self._uni.values()), 1)

    def to_dict(self) -> Dict[str, object]:
        """JSON-able form, stored with the index so loading it costs no text processing."""
        return {"uni": dict(self._uni), "bi": [[a, b, n] for (a, b), n in self._bi.items()],
                "candidates": self._candidates}

    @classmethod
    def from_dict(cls, d: Dict[str, object]) -> "DiacriticRestorer":
        r = cls()
        r._uni = Counter(d["uni"])
        r._bi = Counter({(a, b): n for a, b, n in d["bi"]})
        r._candidates = dict(d["candidates"])
        r._total = max(sum(r._uni.values()), 1)
        return r

    def _logp(self, prev: str, cur: str) -> float:
        uni_prev = self._uni.get(prev, 0)
        p_bigram = self._bi.get((prev, cur), 0) / uni_prev if uni_prev else 0.0
        p_unigram = (self._uni.get(cur, 0) + 0.1) / self._total
        return math.log(0.7 * p_bigram + 0.3 * p_unigram)

    def restore(self, text: str) -> str:
        """Most likely accented form of `text` (lowercase); unknown syllables stay as typed."""
        syllables = _WORD_RE.findall(text.lower())
        if not syllables:
            return text
        # Viterbi over the accented candidates of each syllable
        beams: List[Tuple[str, float, List[str]]] = [("<s>", 0.0, [])]
        for s in syllables:
            options = self._candidates.get(s) or [s]
            new_beams = []
            for option in options:
                best_score, best_path = max(
                    ((score + self._logp(prev, option), path) for prev, score, path in beams),
                    key=lambda x: x[0],
                )
                new_beams.append((option, best_score, best_path + [option]))
            beams = new_beams
        _, _, path = max(beams, key=lambda b: b[1] + self._logp(b[0], "</s>"))
        return " ".join(path)


# Bump when entry_lexical's output changes: cached token lists are re-made. 3: TEXT_VERSION 2;
# 4: "said".
LEXICAL_VERSION = 4


def entry_lexical(entry) -> Dict[str, List[str]]:
    """The BM25 documents of one entry (bot.kb.corpus.Entry).

    "fold": fold terms of its question, phrasings and tags (its answer when it has neither);
    "answer": fold terms of its Vietnamese answer (a customer may use the answer's words:
    "lấy tiền ra ngân hàng" for "rút tiền");
    "en": fold terms, English function words removed, of its English phrasings, English
    answer and tags (empty when the entry has no English);
    "said": the distinct fold terms of what the entry says, its question and answers, not
    how customers ask it (KnowledgeBase.coverage).
    """
    texts = entry.texts() or [entry.answer_vi]
    tags = [t.replace("-", " ").replace("_", " ") for t in entry.tags]
    english = [p for p in entry.phrasings if detect_language(p, default="vi") == "en"]
    if entry.answer_en:
        english.append(entry.answer_en)
    answer = fold_terms(entry.answer_vi or "")
    said = {*fold_terms(entry.question), *answer, *fold_terms(entry.answer_en or "", english=True)}
    return {
        "fold": [w for t in texts + tags for w in fold_terms(t)],
        "answer": answer,
        "en": [w for t in english + tags for w in fold_terms(t, english=True)] if english else [],
        "said": sorted(said),
    }


def restorer_texts(entries: Sequence, max_answers: int) -> List[str]:
    """What the diacritic restorer learns from: every question and phrasing (as prepared
    for search) and the answers of the first `max_answers` entries."""
    texts: List[str] = []
    for e in entries:
        texts.extend(prepare(t).text for t in e.texts())
    texts.extend(e.answer_vi for e in entries[:max_answers])
    return list(dict.fromkeys(texts))
