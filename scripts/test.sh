#!/usr/bin/env bash
# The test command: the whole suite on PostgreSQL, then everything but the slow model and
# worker-process tests again on SQLite (the embedded default).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYANNOTE_METRICS_ENABLED=0 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

if [ "${1:-}" = fast ]; then
  shift
  # No database server and no speech engines needed: unit and web tests on SQLite, without
  # the slow, browser and worker-extra tests (`make test` runs all of them).
  QA_TEST_DATABASE=sqlite exec .venv/bin/pytest -q -m "not slow and not e2e and not worker" \
    tests/unit tests/web "$@"
fi

pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 || {
  echo "test: PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 2; }
redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || {
  echo "test: Redis is not answering on 127.0.0.1:6379" >&2; exit 2; }

rabbitmqctl -q status >/dev/null 2>&1 || {
  echo "test: RabbitMQ is not running (rabbitmqctl status); the broker tests need it" >&2; exit 2; }

echo "== PostgreSQL: full suite =="
QA_TEST_DATABASE=postgres .venv/bin/pytest "$@"
echo "== SQLite: all but slow =="
QA_TEST_DATABASE=sqlite .venv/bin/pytest -m "not slow" "$@"
