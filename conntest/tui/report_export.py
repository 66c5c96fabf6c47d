"""Saving a result for a ticket: ``conntest-report-<timestamp>.md`` and ``.json``.

Both files and the clipboard text pass through the run's redactor once more
(the engine already redacted every step), so the password cannot leave in
them even if a renderer quoted something it should not have.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from conntest.model import Report
from conntest.redact import Redactor
from conntest.render.json_report import render_json
from conntest.render.markdown_report import render_markdown
from conntest.render.redacted_output import redact_output


@dataclass(frozen=True)
class SavedReport:
    """Where a report went and what was put on the clipboard."""

    markdown_path: Path
    json_path: Path
    clipboard_text: str
    """The Markdown, without the transcript (tickets and chats cut long pastes)."""


def report_stem(now: datetime.datetime) -> str:
    """``conntest-report-20261122-143005``: sortable, no characters a shell dislikes."""
    return f"conntest-report-{now:%Y%m%d-%H%M%S}"


def save_report(
    report: Report,
    *,
    redact: Redactor,
    names: Mapping[str, str],
    directory: Path,
    scenario: str | None = None,
    now: datetime.datetime | None = None,
) -> SavedReport:
    """Write the Markdown and JSON files into ``directory``; never overwrites one."""
    now = now or datetime.datetime.now().astimezone()
    context = [("Generated", now.isoformat(timespec="seconds"))]
    if scenario is not None:
        context.append(("Lab scenario", f"{scenario} (conntest demo, not the real service)"))
    report = redact.value(report)  # before Markdown escapes or collapses a secret out of sight
    markdown = redact.output(render_markdown(report, names, context))
    clipboard = redact.output(render_markdown(report, names, context, transcript=False))
    document = redact_output("json", render_json(report) + "\n", redact)
    directory.mkdir(parents=True, exist_ok=True)
    stem = report_stem(now)
    suffix = 1
    while (directory / f"{stem}.md").exists() or (directory / f"{stem}.json").exists():
        suffix += 1
        stem = f"{report_stem(now)}-{suffix}"
    markdown_path = directory / f"{stem}.md"
    json_path = directory / f"{stem}.json"
    markdown_path.write_text(markdown, encoding="utf-8")
    json_path.write_text(document, encoding="utf-8")
    return SavedReport(markdown_path, json_path, clipboard)
