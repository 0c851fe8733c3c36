#!/usr/bin/env bash
# Build the Mandarin test corpus: create the TTS environment if needed, then synthesise every
# dialogue of corpus/zh/dialogues that is not already in the cache
# (${QA_ZH_CORPUS_DIR:-~/.cache/qa-platform/zh_corpus}). Arguments go to build.py.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${QA_TTS_VENV:-$ROOT/.venv-tts}"
"$ROOT/scripts/zh_corpus/setup_tts.sh"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
exec "$VENV/bin/python" "$ROOT/scripts/zh_corpus/build.py" "$@"
