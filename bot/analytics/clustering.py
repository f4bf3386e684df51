"""Grouping messages by meaning: average-linkage agglomerative clustering on the cosine
similarity of their embeddings (the bot's own embedder's, L2-normalised vectors), cut
where the average similarity between two groups falls below a threshold.

The default threshold comes from bench/unanswered_clustering.py (.md): chosen on one
business's customer messages and reported on two others that were never tuned on.
Average linkage keeps a chain of pairwise-similar messages from merging two topics
(single linkage does) without needing every pair to be close (complete linkage splits
paraphrases typed in another style).
"""
from __future__ import annotations

from typing import List

import numpy as np

# Chosen in bench/unanswered_clustering.md (the best pairwise F1 on the tune set).
DEFAULT_THRESHOLD = 0.90


def cluster(vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> List[int]:
    """A group label (0, 1, ...) for each row of `vectors`: rows in one group have an
    average cosine similarity of at least `threshold` to each other."""
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [0]
    from scipy.cluster.hierarchy import fcluster, linkage

    v = np.asarray(vectors, dtype=np.float64)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    similarity = v @ v.T
    distance = np.clip(1.0 - similarity[np.triu_indices(n, k=1)], 0.0, 2.0)
    tree = linkage(distance, method="average")
    labels = fcluster(tree, t=1.0 - threshold, criterion="distance")
    # 0-based, numbered in the order groups first appear
    first: dict = {}
    return [first.setdefault(int(label), len(first)) for label in labels]


def message_vectors(kb, texts) -> np.ndarray:
    """Each message embedded as the bot's FAQ search embeds it (`kb`: a bot.kb KnowledgeBase;
    diacritics put back when typed without, the embedder's query prefix)."""
    return kb.embedder.embed_queries([kb.embedding_text(t)[1] for t in texts])
