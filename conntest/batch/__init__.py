"""Many accounts in one run: the batch file, the runner and its results.

``conntest check --batch`` and ``conntest serve`` are built on this package;
it belongs to the core side of the line (no Textual, no lab).  The pieces:

* :mod:`~conntest.batch.config`: the batch file (entries, password sources,
  every problem reported before anything runs);
* :mod:`~conntest.batch.runner`: bounded concurrency, one result per
  account, per-account deadlines, the lockout rules;
* the results it produces, their measures and thresholds live below the
  renderers, in :mod:`conntest.results`;
* :mod:`~conntest.batch.command`: the CLI front end.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12: cold start)
if TYPE_CHECKING:
    from typing import Any

    from conntest.batch.config import (
        AccountEntry,
        BatchFile,
        BatchFileError,
        EntryDefaults,
        PasswordSource,
        load_batch,
    )
    from conntest.batch.runner import (
        AccountResult,
        BatchResult,
        make_executor,
        run_account,
        run_batch,
    )

# Imported on first use (PEP 562): the CLI's parser imports
# conntest.batch.options, and building a parser must not load the engine.
_HOMES = {
    "AccountEntry": "config",
    "BatchFile": "config",
    "BatchFileError": "config",
    "EntryDefaults": "config",
    "PasswordSource": "config",
    "load_batch": "config",
    "AccountResult": "runner",
    "BatchResult": "runner",
    "make_executor": "runner",
    "run_account": "runner",
    "run_batch": "runner",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"conntest.batch.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'conntest.batch' has no attribute {name!r}")


__all__ = [
    "AccountEntry",
    "AccountResult",
    "BatchFile",
    "BatchFileError",
    "BatchResult",
    "EntryDefaults",
    "PasswordSource",
    "load_batch",
    "make_executor",
    "run_account",
    "run_batch",
]
