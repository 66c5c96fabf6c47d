# One command checks everything: lint, format, types, import contracts, tests.
PY ?= .venv/bin/python

.PHONY: check lint test docs man

check: lint test

lint:
	$(PY) -m ruff check conntest tests benchmarks
	$(PY) -m ruff format --check conntest tests benchmarks
	$(PY) -m mypy
	.venv/bin/lint-imports

# One worker per core, each test module on one worker (its module-scoped labs,
# builds and servers start once, its tests keep their order); -n 0 for one process.
XDIST ?= -n auto --dist loadscope

test:
	$(PY) -m pytest -q $(XDIST)

docs:
	$(PY) -m conntest.diagnosis.docs > docs/diagnoses.md
	$(PY) -m conntest.migration_docs > docs/migration.md

# The manual page, from the full parser (argparse-manpage, a dev dependency).
man:
	$(PY) -m tests.packaging.man_page docs/conntest.1
