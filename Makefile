# One command checks everything: lint, format, types, import contracts, tests.
PY ?= .venv/bin/python

.PHONY: check lint test docs man

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

# The manual page, from the full parser (argparse-manpage, a dev dependency).
man:
	$(PY) -m tests.packaging.man_page docs/conntest.1
