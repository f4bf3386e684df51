"""Grouping messages by meaning: average-linkage agglomerative clustering on the cosine of
the bot's own embeddings centred on the FAQ, cut where the average similarity between two
groups falls below a threshold.

embedding  the message embedded as the FAQ search embeds it (abbreviations expanded,
           accents put back when typed without, the query prefix).
centred    the mean of the FAQ's questions and phrasings (embedded the same way) taken
           away, normalised again. e5-small's cosines sit in a narrow band (0.8-0.95) where
           paraphrases and other topics overlap: what every message about this business
           shares is taken out, what tells them apart is left. The centre is the FAQ's, not
           the messages': it does not move with the page's selection (the mean of two
           messages would set them opposite), and a message is compared with the ignored
           ones on the same scale as with the others.
lexical    (off: LEXICAL_WEIGHT 0) tf-idf cosine of the messages' fold terms (the
           diacritic-free, abbreviation-expanded syllables the search's BM25 reads), idf
           counted over the messages compared; mixed in with that weight, for the bench.

The threshold comes from bench/unanswered_clustering.py (.md): chosen on one business's
customer messages and reported on two others that were never tuned on, with the bot's
default embedder (the fine-tuned e5-small). There the FAQ-centred embedding grouped best on
the two held-out sets (mixed with the lexical cosine: 0.001 better on the tune set, worse on
both others); uncentred, the lexical mix helped on the tune set only; single and complete
linkage did worse. Average linkage keeps a chain of pairwise-similar messages from merging
two topics (single linkage does) without needing every pair to be close (complete linkage
splits paraphrases typed in another style).
"""
from __future__ import annotations

from collections import Counter
from typing import List, Optional, Sequence

import numpy as np

from bot.kb.index import KIND_TEXT
from bot.kb.lexical import fold_terms

# Chosen in bench/unanswered_clustering.md (the best pairwise F1 on the tune set).
DEFAULT_THRESHOLD = 0.35
LEXICAL_WEIGHT = 0.0


def cluster(similarity: np.ndarray, threshold: float = DEFAULT_THRESHOLD,
            method: str = "average") -> List[int]:
    """A group label (0, 1, ...) for each row of the square `similarity` matrix: rows in
    one group have an average similarity of at least `threshold` to each other (`method`:
    scipy's linkage, for the bench's comparison)."""
    n = len(similarity)
    if n == 0:
        return []
    if n == 1:
        return [0]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    distance = np.clip(1.0 - np.asarray(similarity, dtype=np.float64), 0.0, 2.0)
    # the condensed upper triangle (checks=False: the diagonal is never read)
    tree = linkage(squareform(distance, checks=False), method=method)
    labels = fcluster(tree, t=1.0 - threshold, criterion="distance")
    # 0-based, numbered in the order groups first appear
    first: dict = {}
    return [first.setdefault(int(label), len(first)) for label in labels]


def faq_centre(kb) -> Optional[np.ndarray]:
    """The mean vector of the FAQ's questions and phrasings (`kb`: a bot.kb KnowledgeBase;
    None for an empty FAQ)."""
    vectors = np.asarray(kb.data.vectors, dtype=np.float32)
    texts = np.asarray(kb.data.vector_kind) == KIND_TEXT
    return vectors[texts].mean(axis=0) if texts.any() else None


def centred(vectors: np.ndarray, centre: Optional[np.ndarray]) -> np.ndarray:
    """`vectors` less `centre`, L2-normalised again (as they are when `centre` is None)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if centre is None:
        return vectors
    moved = vectors - centre
    return moved / np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)


def similarity(vectors: np.ndarray, texts: Sequence[str],
               other_vectors: Optional[np.ndarray] = None,
               other_texts: Optional[Sequence[str]] = None,
               centre: Optional[np.ndarray] = None,
               lexical_weight: float = LEXICAL_WEIGHT) -> np.ndarray:
    """The similarity of each message (`vectors` from `message_vectors`, `texts`) to each
    other message, or to each of the `other_*` messages: (len(texts), len(other)); both
    sides centred on `centre` (`faq_centre`) when given."""
    if other_vectors is None:
        other_vectors, other_texts = vectors, texts
    dense = centred(vectors, centre) @ centred(other_vectors, centre).T
    if not lexical_weight:
        return dense
    return (1 - lexical_weight) * dense + lexical_weight * _lexical(list(texts), list(other_texts))


def _lexical(texts: List[str], other_texts: List[str]) -> np.ndarray:
    """tf-idf cosine of fold terms; idf over both lists (each text counted once)."""
    from scipy.sparse import csr_matrix

    terms = {t: Counter(fold_terms(t)) for t in dict.fromkeys(texts + other_texts)}
    df = Counter(w for counts in terms.values() for w in counts)
    column = {w: i for i, w in enumerate(df)}
    idf = {w: np.log((1 + len(terms)) / (1 + count)) for w, count in df.items()}

    def matrix(rows: List[str]):
        data, cols, starts = [], [], [0]
        for text in rows:
            counts = terms[text]
            weights = np.array([c * idf[w] for w, c in counts.items()], dtype=np.float32)
            norm = float(np.linalg.norm(weights)) or 1.0
            data.extend(weights / norm)
            cols.extend(column[w] for w in counts)
            starts.append(len(data))
        return csr_matrix((np.asarray(data, dtype=np.float32), cols, starts),
                          shape=(len(rows), max(len(column), 1)))

    return (matrix(texts) @ matrix(other_texts).T).toarray()


def embedded_texts(kb, texts: Sequence[str]) -> List[str]:
    """What the bot's embedder reads for each message, as the FAQ search embeds it (`kb`: a
    bot.kb KnowledgeBase; diacritics put back when typed without)."""
    return [kb.embedding_text(t)[1] for t in texts]


def message_vectors(kb, texts) -> np.ndarray:
    """Each message embedded as the bot's FAQ search embeds it (the embedder's query prefix)."""
    return kb.embedder.embed_queries(embedded_texts(kb, texts))
