# One command checks everything: lint, format, types, import contracts, tests.
PY ?= .venv/bin/python

.PHONY: check lint test docs man

check: lint test

lint:
	$(PY) -m ruff check conntest tests benchmarks
	$(PY) -m ruff format --check conntest tests benchmarks
	$(PY) -m mypy
	.venv/bin/lint-imports

# On every core (pytest-xdist; each module on one worker, so its module-scoped labs,
# builds and servers start once and its tests keep their order): about 3.5 min on
# an idle 2-core machine (3 min 28 s to 3 min 36 s), against over 10 min in one process
# (most of the suite waits on sockets and deadlines).  XDIST= runs it in one process.
XDIST ?= -n auto --dist loadscope

test:
	$(PY) -m pytest -q $(XDIST)

docs:
	$(PY) -m conntest.diagnosis.docs > docs/diagnoses.md
	$(PY) -m conntest.migration_docs > docs/migration.md

# The manual page, from the full parser (argparse-manpage, a dev dependency).
man:
	$(PY) -m tests.packaging.man_page docs/conntest.1
