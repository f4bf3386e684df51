#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a browser downloaded by a test tool).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -n "${HOTRO_CHROMIUM:-}" ]; then
  exit 0
fi
echo "==> installing Debian's chromium for the browser tests"
sudo_=""
[ "$(id -u)" -eq 0 ] || sudo_="sudo"
$sudo_ apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq chromium >/dev/null
