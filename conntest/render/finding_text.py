"""One finding as the text report prints it: marker, title, detail, remedy, evidence.

Apart from :mod:`.text_report` because ``conntest explain`` prints one finding
and needs neither the run's model nor the report around it (issue 12: cold start).
"""

from __future__ import annotations

import textwrap

TYPE_CHECKING = False
if TYPE_CHECKING:
    from conntest.finding import Finding

__all__ = ["WIDTH", "render_finding"]

WIDTH = 78


def _wrap(text: str, indent: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(
            paragraph, WIDTH, initial_indent=indent, subsequent_indent=indent
        ) or [indent]
    return lines


def render_finding(finding: Finding, primary: bool = False) -> list[str]:
    head = f"[{finding.severity.label.upper()}] {finding.title} ({finding.code})"
    lines = [("» " if primary else "  ") + head]
    lines += _wrap(finding.detail, "    ")
    if finding.remedy:
        lines.append("    What to do:")
        lines += _wrap(finding.remedy, "      ")
    if finding.admin_action:
        lines.append("    Administrator:")
        lines += _wrap(finding.admin_action, "      ")
    for i, evidence in enumerate(finding.evidence.splitlines()):
        lines += _wrap(f"{'Evidence: ' if i == 0 else '          '}{evidence}", "    ")
    return lines
