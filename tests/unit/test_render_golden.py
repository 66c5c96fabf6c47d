"""Golden files for the headless reports: what a person or a script reads, byte for byte.

A change to the text or JSON layout shows up here as a diff to review.  To
accept a deliberate change: ``CONNTEST_UPDATE_GOLDEN=1 pytest tests/unit/test_render_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conntest.model import Report
from conntest.render.json_report import render_json
from conntest.render.text_report import render_text
from tests.tui.fixtures import all_clients_report, single_client_report

GOLDEN = Path(__file__).parent / "golden"
REPORTS = {"single-client": single_client_report, "all-clients": all_clients_report}


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CONNTEST_UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with CONNTEST_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(REPORTS))
def test_text_report(name: str) -> None:
    report: Report = REPORTS[name]()
    check_golden(f"{name}.txt", render_text(report))
    check_golden(f"{name}.verbose.txt", render_text(report, verbose=True))


@pytest.mark.parametrize("name", list(REPORTS))
def test_json_report(name: str) -> None:
    report: Report = REPORTS[name]()
    text = render_json(report)
    check_golden(f"{name}.json", text + "\n")
    doc = json.loads(text)
    assert doc["schema"] == 1
    assert set(doc) >= {"schema", "verdict", "elapsed_ms", "profiles"}
    for profile in doc["profiles"]:
        assert set(profile) >= {"profile", "verdict", "findings", "steps"}
        for finding in profile["findings"]:
            assert set(finding) >= {"code", "severity", "title", "detail", "remedy", "evidence"}
        for step in profile["steps"]:
            assert set(step) >= {
                "protocol",
                "name",
                "status",
                "start_ms",
                "elapsed_ms",
                "reply",
                "transcript",
            }


def test_text_report_leads_with_verdict_then_primary_remedy() -> None:
    text = render_text(single_client_report())
    first, *rest = text.splitlines()
    assert first.split(":")[0] in {"OK", "WARNING", "CRITICAL", "UNKNOWN"}
    body = "\n".join(rest)
    assert body.index("»") < body.index("What to do:") < body.index("Steps:")


@pytest.mark.parametrize("name", list(REPORTS))
def test_the_headline_names_the_cause_of_the_verdict(name: str) -> None:
    """The first finding of the worst profile, in the text and Markdown reports alike."""
    from conntest.render.markdown_report import render_markdown

    report: Report = REPORTS[name]()
    worst = max(report.profiles, key=lambda p: p.severity)
    cause = worst.findings[0]
    assert cause.severity == report.severity and cause.code != "ok"
    lead = f"{report.severity.verdict.upper()}: {cause.title} ({cause.code}"
    assert render_text(report).startswith(lead)
    assert render_markdown(report).startswith(f"# conntest: {lead})\n")
    for text in (render_text(report), render_markdown(report)):
        assert "cannot connect" not in text.splitlines()[0]
