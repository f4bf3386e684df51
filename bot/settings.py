"""Loads hotro.yml (or the file HOTRO_CONFIG names) into plain dicts, once per process."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent


def project_path(relative: str | os.PathLike) -> Path:
    """Paths in settings are relative to the project directory unless absolute."""
    path = Path(relative)
    return path if path.is_absolute() else PROJECT_DIR / path


@lru_cache(maxsize=None)
def load_settings(path: str | None = None) -> Dict[str, Any]:
    path = path or os.environ.get("HOTRO_CONFIG") or str(PROJECT_DIR / "hotro.yml")
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}
