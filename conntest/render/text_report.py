"""The human-readable report: verdict first, then findings with remedies, then steps."""

from __future__ import annotations

from conntest.model import ProfileResult, Report, Severity, Status, Step
from conntest.render.finding_text import WIDTH, render_finding
from conntest.render.headline import headline

__all__ = ["WIDTH", "render_finding", "render_profile", "render_step", "render_text"]

# The migration matrix (conntest.render.matrix, conntest.migration) is imported
# by render_text: `explain` prints one finding and needs neither (issue 12).

_MARK = {Status.PASS: "ok  ", Status.FAIL: "FAIL", Status.SKIP: "skip"}


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
