"""The JSON document of ``conntest check --format json`` (schema 1).

Stable keys for scripts: ``schema``, ``verdict``, ``elapsed_ms``, ``profiles``
with ``findings`` (most likely cause first), ``steps`` and ``basic_auth_in_use``
(per protocol whose password step ran: did the password sign-in succeed), and
``matrix`` (one row per profile: ``receive``, ``send``, ``modern_auth`` with
``status``, ``route`` and ``note``; ``null`` when the way is unknown).  Additions
are allowed within a schema version; removals and renames are not.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from conntest.migration import basic_auth_in_use
from conntest.model import Finding, ProfileResult, Report, Severity, Step, TLSInfo
from conntest.render.matrix import matrix_dict
from conntest.results.thresholds import Crossed

SCHEMA = 1


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "severity": finding.severity.label,
        "title": finding.title,
        "detail": finding.detail,
        "remedy": finding.remedy,
        "evidence": finding.evidence,
        "admin_action": finding.admin_action,
        "protocol": finding.protocol,
    }


def step_dict(step: Step) -> dict[str, Any]:
    return {
        "protocol": step.protocol,
        "name": step.name,
        "status": step.status.value,
        "start_ms": step.start_ms,
        "elapsed_ms": step.elapsed_ms,
        "reply": {"code": step.reply.code, "text": step.reply.text} if step.reply else None,
        "failure": (
            {
                "kind": step.failure.kind.value,
                "message": step.failure.message,
                "errno": step.failure.errno,
            }
            if step.failure
            else None
        ),
        "tls": _tls_dict(step.tls) if step.tls else None,
        "data": step.data,
        "transcript": step.transcript,
    }


_TLS_FIELDS = tuple(f.name for f in dataclasses.fields(TLSInfo))


def _tls_dict(tls: TLSInfo) -> dict[str, Any]:
    """``dataclasses.asdict(tls)`` without its deep copy: every field is a scalar or a
    tuple of strings, which JSON writes as they are."""
    return {name: getattr(tls, name) for name in _TLS_FIELDS}


def profile_dict(result: ProfileResult) -> dict[str, Any]:
    return {
        "profile": result.profile,
        "verdict": result.severity.verdict,
        "findings": [finding_dict(f) for f in result.findings],
        "steps": [step_dict(s) for s in result.steps],
        "basic_auth_in_use": basic_auth_in_use(result.steps),
    }


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "verdict": report.severity.verdict,
        "user": report.user,
        "elapsed_ms": report.elapsed_ms,
        "profiles": [profile_dict(p) for p in report.profiles],
        "matrix": matrix_dict(report),
    }


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2, default=str)


def render_json_judged(report: Report, state: Severity, thresholds: Sequence[Crossed]) -> str:
    """The report of a check judged by thresholds (``-w``/``-c``/``--cert-days``).

    ``verdict`` is the check's state, the one its exit code gives (the report's
    own, or worse when a threshold was crossed), and ``thresholds`` lists each
    threshold crossed with the option that set it, so the JSON says why.
    """
    doc = report_dict(report)
    doc["verdict"] = state.verdict
    doc["exit_code"] = state.exit_code
    doc["thresholds"] = [
        {"code": t.code, "severity": t.severity.label, "title": t.title, "option": t.option}
        for t in thresholds
    ]
    return json.dumps(doc, indent=2, default=str)
