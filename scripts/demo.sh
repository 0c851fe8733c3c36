#!/usr/bin/env bash
# The main job on the embedded default, on Mandarin calls: build the demo's dialogues of the
# project's Mandarin corpus (a TTS environment of its own is created the first time), write
# their manifest, then `qa demo --manifest` (ingest encrypted, analyse, flag, sample, serve).
# Arguments go to `qa demo` (e.g. --no-serve, --json).
set -euo pipefail
cd "$(dirname "$0")/.."
home=${QA_HOME:-var}
ids=$(.venv/bin/python scripts/zh_corpus/demo_manifest.py --ids)
# shellcheck disable=SC2086  # the ids are words
./scripts/zh_corpus/build.sh --only $ids
.venv/bin/python scripts/zh_corpus/demo_manifest.py "$home/demo/zh_manifest.csv"
exec .venv/bin/qa demo --manifest "$home/demo/zh_manifest.csv" "$@"
