.PHONY: setup demo test lint bench zh-corpus

setup:
	./scripts/setup.sh

# The main job on the embedded default (SQLite, ./var, eager Celery, bundled model).
demo: setup
	.venv/bin/qa demo

test: setup
	./scripts/test.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check qa_platform storage workers scoring web

bench: setup
	.venv/bin/python benchmarks/crypto.py
	.venv/bin/python benchmarks/ingest.py

# The Mandarin test corpus (synthesised speech, cached outside the repository; own TTS venv).
zh-corpus:
	./scripts/zh_corpus/build.sh
