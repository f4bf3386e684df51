#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs hotro with its pinned dependencies.
# Idempotent: does nothing when .venv already matches pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=.venv/.hotro-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

find_python310() {
  for cand in python3.10 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 \
              /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      command -v "$cand"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(find_python310) || { echo "hotro needs Python 3.10 (Rasa 3.6 supports 3.8-3.10); none found on PATH or under pyenv" >&2; exit 1; }
  echo "==> creating .venv with $py"
  "$py" -m venv .venv
fi

echo "==> installing hotro and its pinned dependencies (first time: several minutes)"
# One pip command for everything, so the resolver keeps rasa's numpy/setuptools pins.
.venv/bin/python -m pip install --quiet --progress-bar off -e ".[test]"
echo "$want" > "$stamp"
echo "==> .venv ready"
