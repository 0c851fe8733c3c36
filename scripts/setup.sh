#!/usr/bin/env bash
# Idempotent set-up of a fresh machine: system packages, virtual environment, the project.
#   scripts/setup.sh        the project with its worker and dev extras (torch: large, slow)
#   scripts/setup.sh lite   the project with its dev extra only (lint, fast tests): no torch
# Re-running is quick: it skips what is already there; a full install also satisfies lite.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-full}

PY=${PYTHON:-python3}
APT_PACKAGES="ffmpeg chromium fonts-noto-cjk poppler-utils"

[ "$MODE" = lite ] && APT_PACKAGES="ffmpeg"

need_apt=()
for pkg in $APT_PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing system packages: ${need_apt[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install system packages: ${need_apt[*]} (sudo apt-get install ...)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip wheel
fi

hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
full=.venv/.qa-installed lite=.venv/.qa-installed-lite
if [ "$MODE" = lite ]; then
  if [ "$(cat "$full" 2>/dev/null)" != "$hash" ] && [ "$(cat "$lite" 2>/dev/null)" != "$hash" ]; then
    echo "setup: installing the project without the worker extra (no torch)"
    .venv/bin/pip install -q -e '.[dev]'
    echo "$hash" > "$lite"
  fi
elif [ "$(cat "$full" 2>/dev/null)" != "$hash" ]; then
  # torch and torchaudio must be the same release for pyannote.audio 4 (pinned in pyproject).
  echo "setup: installing the project (first time: several minutes, torch is large)"
  .venv/bin/pip install -q -e '.[worker,dev]'
  echo "$hash" > "$full"
fi
echo "setup: ready (.venv)"
