"""The all-clients matrix of the headless reports: receive, send, and the way to modern auth.

One row per profile: whether receiving (IMAP) and sending (SMTP) worked, and
the client's way off basic authentication with whether this run verified it
(:func:`conntest.migration.modern_auth_cell`).  The text report prints it as a
table, the JSON report as ``matrix``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any, Literal

from conntest.migration import ModernAuthCell, modern_auth_cell
from conntest.model import ProfileResult, Report, Status

__all__ = ["MatrixRow", "matrix_dict", "matrix_lines", "matrix_rows"]

Works = Literal["works", "fails", "not tested"]

_SIGN_IN = {"imap": "login", "smtp": "auth"}
_AFTER = frozenset({"logout", "quit"})


@dataclass(frozen=True)
class MatrixRow:
    """One client's row."""

    profile: str
    receive: Works
    send: Works
    modern_auth: ModernAuthCell | None


def _works(result: ProfileResult, protocol: str) -> Works:
    steps = [
        s
        for s in result.steps
        if s.protocol == protocol and s.name not in _AFTER and not s.name.endswith("-stripped")
    ]
    if any(s.status is Status.FAIL for s in steps):
        return "fails"
    signed = [s for s in steps if s.name == _SIGN_IN[protocol] and s.status is Status.PASS]
    route = result.modern_auth
    if route is not None and route.kind != "oauth2":
        # conntest's own XOAUTH2 sign-in: this client cannot sign in so, nothing of its own ran.
        signed = [s for s in signed if "XOAUTH2" not in str(s.data.get("mechanism", "")).upper()]
    return "works" if signed else "not tested"


def matrix_rows(report: Report) -> list[MatrixRow]:
    return [
        MatrixRow(r.profile, _works(r, "imap"), _works(r, "smtp"), modern_auth_cell(r))
        for r in report.profiles
    ]


def matrix_dict(report: Report) -> list[dict[str, Any]]:
    """The ``matrix`` key of the JSON report."""
    rows = []
    for row in matrix_rows(report):
        cell = row.modern_auth
        rows.append(
            {
                "profile": row.profile,
                "receive": row.receive,
                "send": row.send,
                "modern_auth": (
                    {"status": cell.status, "route": cell.route, "note": cell.note}
                    if cell is not None
                    else None
                ),
            }
        )
    return rows


def matrix_lines(report: Report, width: int = 78) -> list[str]:
    """The table of the text report; empty when no row knows its way to modern auth."""
    rows = matrix_rows(report)
    if not any(r.modern_auth is not None for r in rows):
        return []
    client = max(len("Client"), *(len(r.profile) for r in rows))
    head = f"  {'Client':<{client}}  Receive     Send        Modern authentication"
    indent = len(head) - len("Modern authentication")
    rest = max(width - indent, 24)
    lines = ["Clients:", head]
    for row in rows:
        text = row.modern_auth.text if row.modern_auth is not None else "(unknown)"
        wrapped = textwrap.wrap(text, rest) or [""]
        lines.append(f"  {row.profile:<{client}}  {row.receive:<10}  {row.send:<10}  {wrapped[0]}")
        lines += [" " * indent + more for more in wrapped[1:]]
    return lines
