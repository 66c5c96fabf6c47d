"""Why a legacy mail client fails against Microsoft 365, and what its user must do.

:func:`diagnose` (:mod:`.findings`) turns the steps one profile's probes recorded
into findings; :func:`explain` (:mod:`.pasted`) classifies a single pasted error
text.  Both are pure: no I/O, no clock, no network.  The texts live in
:mod:`.catalogue` (data), the decisions in :mod:`.rules` (small functions), the
wording in :mod:`.templates`; server replies are matched by meaning after
:mod:`.normalise` strips what varies.

The names below are loaded on first use (PEP 562): ``conntest explain`` needs
the catalogue and the text matcher, not the rules that read a whole run, and
imports only those (issue 12: cold start; tests/unit/test_imports_per_command.py).

Ordering contract of :func:`diagnose` (the engine, renderers and CLI rely on it;
written out in :mod:`.ranking`):

* never empty;
* the first finding is the cause of the first decisive failure; a finding that
  made no step fail (context) never outranks one that did;
* exactly one ``ok`` finding (severity OK) when no step failed and nothing
  critical was found: after any warnings, before info findings;
* the first finding's severity is the verdict's: no later finding is more severe.

Evidence strings have the form ``"<protocol> <step>: <reply or failure message>"``;
a finding decided by several steps carries one such line per step, joined by
newlines.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing itself stays out of ``conntest explain`` (issue 12)
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:
    from conntest.diagnosis.catalogue import (
        CATALOGUE,
        RETIREMENT_TIMELINE,
        CatalogueEntry,
        TimelineEntry,
    )
    from conntest.diagnosis.findings import DiagnosisContext, diagnose
    from conntest.diagnosis.pasted import explain
    from conntest.diagnosis.templates import client_kind

__all__ = [
    "CATALOGUE",
    "RETIREMENT_TIMELINE",
    "CatalogueEntry",
    "DiagnosisContext",
    "TimelineEntry",
    "client_kind",
    "diagnose",
    "explain",
]

_HOME: dict[str, str] = {
    "CATALOGUE": "catalogue",
    "RETIREMENT_TIMELINE": "catalogue",
    "CatalogueEntry": "catalogue",
    "TimelineEntry": "catalogue",
    "DiagnosisContext": "findings",
    "diagnose": "findings",
    "explain": "pasted",
    "client_kind": "templates",
}
"""The submodule each public name lives in."""


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
