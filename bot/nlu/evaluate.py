"""`hotro eval nlu`: trains the project's NLU pipeline on a text,label CSV and scores it.

The pipeline is config.yml's (or another config given with --config), trained on a
temporary copy, so the numbers describe exactly what the bot runs.
"""
from __future__ import annotations

import asyncio
import csv
import json
import logging
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bot.settings import PROJECT_DIR

FALLBACK_INTENT = "nlu_fallback"


def read_labelled_csv(path: str | os.PathLike) -> List[Tuple[str, str]]:
    """(text, label) rows of a CSV with `text` and `label` columns; blank rows skipped."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        rows = []
        for row in reader:
            text = " ".join((row["text"] or "").split())
            label = (row["label"] or "").strip()
            if text and label:
                rows.append((text, label))
    return rows


def write_rasa_json(rows: List[Tuple[str, str]], path: Path) -> None:
    # Rasa's JSON format: texts are data, never parsed for [entity](markup) like YAML.
    examples = [{"text": text, "intent": label, "entities": []} for text, label in rows]
    path.write_text(json.dumps({"rasa_nlu_data": {"common_examples": examples}},
                               ensure_ascii=False), encoding="utf-8")


def nlu_only_config(config_path: Path, out: Path) -> None:
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config.pop("policies", None)
    # The FAQ router would answer the evaluation set's messages from hotro's own FAQ:
    # `eval nlu` measures the intent classifier alone.
    config["pipeline"] = [c for c in config.get("pipeline", [])
                          if not str(c.get("name", "")).endswith("FaqRouter")]
    out.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def macro_f1(truth: List[str], predicted: List[str]) -> float:
    scores = []
    for label in sorted(set(truth)):
        tp = sum(1 for t, p in zip(truth, predicted) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted) if t == label and p != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def score(truth: List[str], predicted: List[str], oos_label: Optional[str]) -> Dict[str, float]:
    """Metrics on final predictions (nlu_fallback already mapped to oos_label if given)."""
    n = len(truth)
    result: Dict[str, float] = {
        "accuracy": sum(t == p for t, p in zip(truth, predicted)) / n if n else 0.0,
        "macro_f1": macro_f1(truth, predicted),
        "n_test": n,
    }
    if oos_label is not None:
        in_scope = [(t, p) for t, p in zip(truth, predicted) if t != oos_label]
        oos_true = sum(1 for t in truth if t == oos_label)
        oos_pred = sum(1 for p in predicted if p == oos_label)
        oos_hit = sum(1 for t, p in zip(truth, predicted) if t == p == oos_label)
        result["in_scope_accuracy"] = (
            sum(t == p for t, p in in_scope) / len(in_scope) if in_scope else 0.0)
        result["oos_recall"] = oos_hit / oos_true if oos_true else 0.0
        result["oos_precision"] = oos_hit / oos_pred if oos_pred else 0.0
    return result


async def _parse_all(model_path: str, texts: List[str]) -> List[Tuple[str, str, float]]:
    """(final intent, best real intent, its confidence) for every text."""
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        final = parsed["intent"]["name"]
        ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK_INTENT]
        best = ranking[0] if ranking else {"name": final, "confidence": 0.0}
        out.append((final, best["name"], float(best["confidence"] or 0.0)))
    return out


def evaluate_nlu(train_csv: str, test_csv: str, oos_label: Optional[str] = None,
                 config_path: Optional[str] = None,
                 predictions_csv: Optional[str] = None) -> Dict[str, float]:
    from rasa.model_training import train_nlu
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # Progress bars and INFO lines while training; not a debug line per parsed message.
    configure_logging_and_warnings(logging.INFO)
    configure_structlog(logging.INFO)
    train_rows = read_labelled_csv(train_csv)
    test_rows = read_labelled_csv(test_csv)
    labels = Counter(label for _, label in train_rows)
    logging.getLogger(__name__).info(
        "training on %d examples, %d labels; testing on %d", len(train_rows), len(labels),
        len(test_rows))
    with tempfile.TemporaryDirectory(prefix="hotro-eval-nlu-") as tmp:
        work = Path(tmp)
        write_rasa_json(train_rows, work / "nlu.json")
        nlu_only_config(Path(config_path) if config_path else PROJECT_DIR / "config.yml",
                        work / "config.yml")
        started = time.monotonic()
        model = train_nlu(str(work / "config.yml"), str(work / "nlu.json"),
                          str(work / "models"), fixed_model_name="eval")
        train_seconds = time.monotonic() - started
        if not model:
            raise RuntimeError("NLU training failed")
        predictions = asyncio.run(_parse_all(model, [text for text, _ in test_rows]))

    truth = [label for _, label in test_rows]
    final = [(oos_label if p == FALLBACK_INTENT and oos_label else p) for p, _, _ in predictions]
    result = score(truth, final, oos_label)
    result["train_seconds"] = round(train_seconds, 1)
    if predictions_csv:
        with open(predictions_csv, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label", "predicted", "best_intent", "confidence"])
            for (text, label), (pred, best, conf) in zip(test_rows, predictions):
                writer.writerow([text, label, pred, best, f"{conf:.4f}"])
    return result
