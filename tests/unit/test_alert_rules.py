"""The alert rule for the December 2026 change, checked by Prometheus's own ``promtool``.

``contrib/prometheus/basic-auth-december-2026.rules.yml`` counts the accounts whose
last check signed in to SMTP with a password and alerts per account from 60 days
before Microsoft's default flip; its test file feeds promtool the series conntest
exports.  Skipped only when promtool is missing and ``CONNTEST_REQUIRE_PROMTOOL``
is not set (CI sets it: Debian's ``prometheus`` package provides promtool).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "contrib" / "prometheus"
RULE_FILE = RULES / "basic-auth-december-2026.rules.yml"
TEST_FILE = RULES / "basic-auth-december-2026.test.yml"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CONNTEST_REQUIRE_PROMTOOL"):
            pytest.fail("CONNTEST_REQUIRE_PROMTOOL is set but promtool is not installed")
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    return found


def test_rule_file_is_valid() -> None:
    done = subprocess.run(
        [promtool(), "check", "rules", str(RULE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_rule_unit_tests_pass() -> None:
    done = subprocess.run(
        [promtool(), "test", "rules", TEST_FILE.name],
        cwd=RULES,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_rule_uses_the_metric_names_conntest_exports() -> None:
    """A renamed metric would leave the rule silently matching nothing."""
    from prometheus_client.parser import text_string_to_metric_families

    from conntest.model import Severity
    from conntest.render.prometheus import render_prometheus
    from conntest.results import BatchResult
    from tests.unit.test_prometheus import account

    batch = BatchResult([account("a@contoso.com", ("thunderbird",), "ok", Severity.OK)], 0, 1)
    exported = {f.name for f in text_string_to_metric_families(render_prometheus(batch))}
    text = RULE_FILE.read_text(encoding="utf-8")
    for name in (
        "conntest_basic_auth_in_use",
        "conntest_basic_auth_default_off_timestamp_seconds",
    ):
        assert name in text
        assert name in exported


def test_monitoring_guide_shows_the_rule_as_shipped() -> None:
    """docs/monitoring.md quotes the rule; the quoted lines must be the file's."""
    doc = (RULES.parents[1] / "docs" / "monitoring.md").read_text(encoding="utf-8")
    section = doc.split("## Finding what breaks at the end of December 2026", 1)[1]
    quoted = [
        line.strip()
        for line in RULE_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(("- record:", "- alert:", "expr:", "for:", "severity:"))
    ]
    assert quoted
    for line in quoted:
        assert line in section, line
