.PHONY: setup setup-lite demo test test-fast lint bench zh-corpus

setup:
	./scripts/setup.sh

# Lint and the fast tests need no torch: the project with its dev extra only.
setup-lite:
	./scripts/setup.sh lite

# The main job on the embedded default (SQLite, ./var, eager Celery, bundled model), on
# Mandarin calls built from the project's corpus (`qa demo` alone uses the English sample).
demo: setup
	./scripts/demo.sh

test: setup
	./scripts/test.sh

# Unit and web tests on SQLite without the speech engines (seconds to minutes, no torch).
test-fast: setup-lite
	./scripts/test.sh fast

lint: setup-lite
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports
	.venv/bin/mypy

bench: setup
	.venv/bin/python benchmarks/crypto.py
	.venv/bin/python benchmarks/ingest.py

# The Mandarin test corpus (synthesised speech, cached outside the repository; own TTS venv).
zh-corpus:
	./scripts/zh_corpus/build.sh
