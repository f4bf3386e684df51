"""Rasa's own checks: the training data validates and the test stories pass."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_DIR

RASA = str(Path(sys.executable).parent / "rasa")


def run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([RASA, *args], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=timeout)


def test_training_data_validates():
    result = run("data", "validate", "--fail-on-warnings", "--domain", "domain.yml",
                 "--data", "data", "--config", "config.yml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_rasa_test_stories_pass(model, tmp_path):
    result = run("test", "core", "--model", str(model), "--stories", "tests/test_stories.yml",
                 "--out", str(tmp_path), "--fail-on-prediction-errors")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
