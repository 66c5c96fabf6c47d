# One command checks everything: lint, format, types, import contracts, tests.
PY ?= .venv/bin/python

.PHONY: check lint test docs

check: lint test

lint:
	$(PY) -m ruff check conntest tests benchmarks
	$(PY) -m ruff format --check conntest tests benchmarks
	$(PY) -m mypy
	.venv/bin/lint-imports

test:
	$(PY) -m pytest -q

docs:
	$(PY) -m conntest.diagnosis.docs > docs/diagnoses.md
	$(PY) -m conntest.migration_docs > docs/migration.md
