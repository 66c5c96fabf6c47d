"""JUnit XML (``--format junit``) for CI pipelines that gate on mail connectivity.

One ``<testcase>`` per account and profile (``classname`` the account,
``name`` the profile): a critical result is a ``<failure>`` whose ``type`` is
the finding code, an unknown one an ``<error>``; warnings pass, with the
finding in ``<system-out>`` (CI should not go red on a warning, nor hide it).
An account without a report (deadline, unreadable password) is one
``<error>`` test case named ``check``.  The text carries the finding's title,
detail, remedy and evidence, never a password (the engine has redacted it).
"""

from __future__ import annotations

import socket
import time
import xml.etree.ElementTree as ET  # building only; nothing is parsed

from conntest.model import Finding, ProfileResult, Severity
from conntest.results import AccountResult, BatchResult

__all__ = ["JUnitStream", "render_junit"]


def render_junit(batch: BatchResult) -> str:
    stream = JUnitStream()
    for result in batch.results:
        stream.add(result)
    return stream.finish(batch)


class JUnitStream:
    """The test cases of a batch, built as each account finishes (the report can go after)."""

    def __init__(self) -> None:
        self._cases: list[ET.Element] = []
        self.tests = self.failures = self.errors = 0

    def add(self, result: AccountResult) -> None:
        for case, outcome in _cases(result):
            self._cases.append(case)
            self.tests += 1
            self.failures += outcome == "failure"
            self.errors += outcome == "error"

    def finish(self, batch: BatchResult) -> str:
        """The document, with ``batch``'s start and duration."""
        suite = ET.Element(
            "testsuite",
            name="conntest",
            timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(batch.started)),
            hostname=socket.gethostname(),
            time=_seconds(batch.elapsed_ms),
        )
        suite.extend(self._cases)
        suite.set("tests", str(self.tests))
        suite.set("failures", str(self.failures))
        suite.set("errors", str(self.errors))
        suite.set("skipped", "0")
        root = ET.Element(
            "testsuites",
            name="conntest",
            tests=str(self.tests),
            failures=str(self.failures),
            errors=str(self.errors),
            time=_seconds(batch.elapsed_ms),
        )
        root.append(suite)
        ET.indent(root)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode")
            + "\n"
        )


def _cases(result: AccountResult) -> list[tuple[ET.Element, str]]:
    if result.report is None:
        case = ET.Element(
            "testcase", classname=result.address, name="check", time=_seconds(result.elapsed_ms)
        )
        error = ET.SubElement(case, "error", type=result.code, message=result.title)
        error.text = result.error or result.title
        return [(case, "error")]
    cases = []
    for profile in result.report.profiles:
        case = ET.Element(
            "testcase",
            classname=result.address,
            name=profile.profile,
            time=_seconds(result.elapsed_ms),
        )
        outcome = _outcome(profile, result)
        finding = profile.findings[0] if profile.findings else None
        if outcome in {"failure", "error"}:
            if finding is not None and finding.severity >= Severity.CRITICAL:
                code, title, text = finding.code, finding.title, _finding_text(finding, result)
            else:  # made critical by a threshold on the total time
                code, title, text = result.code, result.title, result.title
            element = ET.SubElement(case, outcome, type=code, message=f"{code}: {title}")
            element.text = text
        elif finding is not None and finding.severity >= Severity.WARNING:
            out = ET.SubElement(case, "system-out")
            out.text = f"warning {finding.code}: {finding.title}\n" + _finding_text(finding, result)
        cases.append((case, outcome))
    return cases


def _outcome(profile: ProfileResult, result: AccountResult) -> str:
    severity = profile.severity
    if result.state >= Severity.CRITICAL and severity < result.state:
        # A threshold on the total time made the account critical.
        severity = result.state
    if severity is Severity.UNKNOWN:
        return "error"
    return "failure" if severity is Severity.CRITICAL else "pass"


def _finding_text(finding: Finding, result: AccountResult) -> str:
    lines = [finding.detail, f"What to do: {finding.remedy}", f"Evidence: {finding.evidence}"]
    if finding.admin_action:
        lines.append(f"Administrator: {finding.admin_action}")
    if result.skip_reason:
        lines.append(f"Authentication skipped: {result.skip_reason}")
    return "\n".join(line for line in lines if line)


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}"
