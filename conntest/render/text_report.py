"""The human-readable report: verdict first, then findings with remedies, then steps."""

from __future__ import annotations

import textwrap

from conntest.model import Finding, ProfileResult, Report, Severity, Status, Step
from conntest.render.headline import headline

# The migration matrix (conntest.render.matrix, conntest.migration) is imported
# by render_text: `explain` prints one finding and needs neither (issue 12).

_MARK = {Status.PASS: "ok  ", Status.FAIL: "FAIL", Status.SKIP: "skip"}
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


def render_step(step: Step, width: int = 4) -> str:
    """One line of the Steps table; ``width``: the longest protocol name in it."""
    detail = ""
    if step.failure is not None:
        detail = step.failure.message
    elif step.reply is not None:
        detail = str(step.reply)
    elif step.status is Status.SKIP:
        detail = str(step.data.get("reason", ""))
    if step.tls is not None and step.tls.version and step.status is Status.PASS:
        detail = f"{step.tls.version} {step.tls.cipher or ''}".strip()
    if step.name == "resolve" and step.data.get("addresses"):
        detail = f"{step.data['host']} → {', '.join(step.data['addresses'])}"
    if step.data.get("shared_from"):
        detail = f"(as {step.data['shared_from']}) {detail}"
    timing = f"{step.elapsed_ms:7.1f} ms" if step.status is not Status.SKIP else " " * 10
    first = detail.splitlines()[0] if detail else ""
    if len(first) > 44:
        first = first[:43] + "…"
    return f"  {_MARK[step.status]} {step.protocol:<{width}} {step.name:<13} {timing}  {first}"


def render_profile(result: ProfileResult, verbose: bool = False) -> list[str]:
    lines = [f"== {result.profile}: {result.severity.verdict.upper()}"]
    for i, finding in enumerate(result.findings):
        lines += render_finding(finding, primary=(i == 0 and finding.severity >= Severity.WARNING))
    lines.append("  Steps:")
    width = max((len(s.protocol) for s in result.steps), default=4)
    lines += [render_step(s, max(width, 4)) for s in result.steps]
    if verbose:
        lines.append("  Transcript:")
        for step in result.steps:
            for line in step.transcript:
                lines.append(f"    [{step.protocol} {step.name}] {line}")
    return lines


def render_text(report: Report, verbose: bool = False) -> str:
    about = f"{report.user}, {len(report.profiles)} profile(s), {report.elapsed_ms / 1000:.1f} s"
    lines = [headline(report, about)]
    from conntest.render.matrix import matrix_lines

    matrix = matrix_lines(report, WIDTH)
    if matrix:
        lines += ["", *matrix]
    for result in report.profiles:
        lines.append("")
        lines += render_profile(result, verbose)
    return "\n".join(lines) + "\n"
