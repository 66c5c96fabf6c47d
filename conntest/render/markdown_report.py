"""The report as Markdown, for a helpdesk ticket: verdict, findings with remedies, steps.

Pure: a :class:`~conntest.model.Report` in, text out.  The report is already
redacted by the engine; front ends may pass it through their redactor again.
``context`` adds lines to the header (``Lab scenario``, ``Generated``) without
this module knowing where they come from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from conntest.model import Finding, ProfileResult, Report, Severity, Status, Step
from conntest.render.headline import headline

_MARK = {Status.PASS: "ok", Status.FAIL: "**FAIL**", Status.SKIP: "skip"}


def _cell(text: str) -> str:
    """Text safe inside a table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _inline(text: str) -> str:
    """Server text shown verbatim as inline code (backticks made harmless)."""
    return "`" + text.replace("`", "'") + "`" if text else ""


def _step_detail(step: Step) -> str:
    if step.failure is not None:
        return step.failure.message
    if step.status is Status.SKIP:
        return str(step.data.get("reason", ""))
    if step.name == "resolve" and step.data.get("addresses"):
        return f"{step.data.get('host', '')} → {', '.join(map(str, step.data['addresses']))}"
    if step.tls is not None and step.tls.version:
        return f"{step.tls.version} {step.tls.cipher or ''}".strip()
    if step.reply is not None:
        return str(step.reply)
    return ""


def render_finding_markdown(finding: Finding, primary: bool = False) -> list[str]:
    marker = "Most likely cause: " if primary else ""
    lines = [
        f"### {marker}{finding.title}",
        "",
        f"*{finding.severity.label}* · code `{finding.code}`"
        + (f" · {finding.protocol.upper()}" if finding.protocol else ""),
        "",
        finding.detail,
        "",
    ]
    if finding.remedy:
        lines += [f"**What to do:** {finding.remedy}", ""]
    if finding.admin_action:
        lines += [f"**Administrator:** {finding.admin_action}", ""]
    if finding.evidence:
        lines += [f"**Evidence:** {_inline(finding.evidence)}", ""]
    return lines


def render_profile_markdown(result: ProfileResult, name: str, transcript: bool = True) -> list[str]:
    lines = [f"## {name}: {result.severity.verdict.upper()}", ""]
    shown_primary = False
    for finding in result.findings:
        primary = not shown_primary and finding.severity >= Severity.WARNING
        shown_primary = shown_primary or primary
        lines += render_finding_markdown(finding, primary)
    lines += [
        "### Steps",
        "",
        "| Protocol | Step | Result | Time | Detail |",
        "|---|---|---|---:|---|",
    ]
    for step in result.steps:
        timing = f"{step.elapsed_ms:.0f} ms" if step.status is not Status.SKIP else ""
        lines.append(
            f"| {step.protocol} | {step.name} | {_MARK[step.status]} | {timing} "
            f"| {_cell(_step_detail(step))} |"
        )
    lines.append("")
    if transcript:
        body = [
            f"[{step.protocol} {step.name}] {line}"
            for step in result.steps
            for line in step.transcript
        ]
        if body:
            lines += [
                "<details><summary>Transcript (credentials redacted)</summary>",
                "",
                "```text",
                *(line.replace("```", "'''") for line in body),
                "```",
                "",
                "</details>",
                "",
            ]
    return lines


def render_markdown(
    report: Report,
    names: Mapping[str, str] | None = None,
    context: Sequence[tuple[str, str]] = (),
    transcript: bool = True,
) -> str:
    """The whole report; ``names`` maps profile ids to what people call the clients."""
    names = names or {}
    verdict = report.severity.verdict
    lines = [
        f"# conntest: {headline(report)}",
        "",
        f"- **Mailbox:** {report.user}",
        "- **Clients:** " + ", ".join(names.get(p.profile, p.profile) for p in report.profiles),
        f"- **Verdict:** {verdict}",
        f"- **Duration:** {report.elapsed_ms / 1000:.1f} s",
    ]
    lines += [f"- **{key}:** {value}" for key, value in context]
    lines += ["", "The password is never included: conntest records only its shape.", ""]
    for result in report.profiles:
        lines += render_profile_markdown(
            result, names.get(result.profile, result.profile), transcript
        )
    return "\n".join(lines).rstrip() + "\n"
