"""JSON for batches: one document (``--format json``) or JSON Lines (``--format jsonl``).

Each account is the same object in both (schema 1; additions allowed,
removals and renames not)::

    {"schema": 1, "account": "alice@contoso.com", "verdict": "critical", "exit_code": 2,
     "code": "basic-auth-disabled", "title": "…", "profiles": ["thunderbird"],
     "elapsed_ms": 1234.5, "authentication": "sent|skipped|none",
     "skip_reason": null, "error": null, "report": {…the check's JSON report…} | null}

JSON Lines writes one such line per account as each finishes (completion
order), so a consumer can act before the batch ends; the document keeps the
batch file's order and adds the totals.
"""

from __future__ import annotations

import json
from typing import Any

from conntest.render.json_report import SCHEMA, report_dict
from conntest.results import AccountResult, BatchResult

__all__ = ["account_dict", "batch_dict", "render_batch_json", "render_jsonl_line"]


def account_dict(result: AccountResult) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "account": result.address,
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "code": result.code,
        "title": result.title,
        "profiles": list(result.entry.profile_ids),
        "elapsed_ms": result.elapsed_ms,
        "authentication": result.authentication,
        "skip_reason": result.skip_reason,
        "error": result.error,
        "report": report_dict(result.report) if result.report is not None else None,
    }


def batch_dict(batch: BatchResult) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "kind": "batch",
        "verdict": batch.state.verdict,
        "exit_code": batch.exit_code,
        "started": batch.started,
        "elapsed_ms": batch.elapsed_ms,
        "counts": batch.counts(),
        "warnings": batch.warnings,
        "accounts": [account_dict(r) for r in batch.results],
    }


def render_batch_json(batch: BatchResult) -> str:
    return json.dumps(batch_dict(batch), indent=2, default=str)


def render_jsonl_line(result: AccountResult) -> str:
    """One account as one line (no line break at the end)."""
    return json.dumps(account_dict(result), separators=(",", ":"), default=str)
