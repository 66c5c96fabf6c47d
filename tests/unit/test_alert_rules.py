"""The alert rules in monitoring/ and contrib/ fire at the scrape interval the docs recommend.

Checked with Debian's promtool (package ``prometheus``, installed by
``.ci/run``): in CI, ``CONNTEST_REQUIRE_PROMTOOL=1`` makes a missing promtool
a failure instead of a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "monitoring" / "conntest-alerts.yml"
RULE_TESTS = REPO / "monitoring" / "conntest-alerts.test.yml"
DOC = REPO / "docs" / "monitoring.md"
CONTRIB = REPO / "contrib" / "prometheus"
DECEMBER = CONTRIB / "basic-auth-december-2026.rules.yml"
DECEMBER_TESTS = CONTRIB / "basic-auth-december-2026.test.yml"

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("CONNTEST_REQUIRE_PROMTOOL"),
    reason="promtool is not installed (apt-get install prometheus)",
)


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None, "CONNTEST_REQUIRE_PROMTOOL is set but promtool is missing"
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@needs_promtool
def test_rules_are_valid_and_fire_at_the_recommended_interval() -> None:
    checked = promtool("check", "rules", RULES.name, cwd=RULES.parent)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", RULE_TESTS.name, cwd=RULES.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr


@needs_promtool
def test_a_bare_comparison_never_fires_between_slow_scrapes(tmp_path: Path) -> None:
    """Why the rules read ``last_over_time``: with 10-minute scrapes, ``conntest_up == 0``
    is absent after each 5-minute lookback, and its ``for: 20m`` never completes."""
    bare = RULES.read_text(encoding="utf-8").replace(
        "last_over_time(conntest_up[15m]) == 0", "conntest_up == 0"
    )
    assert bare != RULES.read_text(encoding="utf-8")
    (tmp_path / RULES.name).write_text(bare, encoding="utf-8")
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    tested = promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert tested.returncode != 0
    assert "MailClientCannotConnect" in tested.stdout + tested.stderr


def test_the_docs_show_these_rules_and_this_interval() -> None:
    doc = DOC.read_text(encoding="utf-8")
    rules = RULES.read_text(encoding="utf-8")
    body = rules[rules.index("groups:") :]
    assert body in doc, "docs/monitoring.md must show monitoring/conntest-alerts.yml as it is"
    intervals = set(re.findall(r"scrape_interval: (\w+)", doc))
    tested = re.findall(r"^  - interval: (\w+)", RULE_TESTS.read_text(encoding="utf-8"), re.M)
    assert intervals and set(tested) == intervals, (intervals, tested)


@needs_promtool
def test_the_december_2026_rule_is_valid_and_fires_between_slow_scrapes() -> None:
    checked = promtool("check", "rules", DECEMBER.name, cwd=CONTRIB)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "3 rules found" in checked.stdout
    tested = promtool("test", "rules", DECEMBER_TESTS.name, cwd=CONTRIB)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "evaluation_interval: 1m" in DECEMBER_TESTS.read_text(encoding="utf-8")


@needs_promtool
def test_the_december_2026_rule_with_bare_selectors_never_fires(tmp_path: Path) -> None:
    """The same rule without ``last_over_time``: its ``for: 30m`` never completes at 10 m."""
    rules = DECEMBER.read_text(encoding="utf-8")
    bare = re.sub(r"last_over_time\((conntest_[a-z_]+(?:\{[^}]*\})?)\[15m\]\)", r"\1", rules)
    assert "last_over_time" not in bare.split("groups:", 1)[1]
    (tmp_path / DECEMBER.name).write_text(bare, encoding="utf-8")
    shutil.copy(DECEMBER_TESTS, tmp_path / DECEMBER_TESTS.name)
    tested = promtool("test", "rules", DECEMBER_TESTS.name, cwd=tmp_path)
    assert tested.returncode != 0
    assert "ConntestSmtpBasicAuthInUse" in tested.stdout + tested.stderr


def test_the_december_2026_rule_reads_metrics_conntest_exports() -> None:
    """A renamed metric would leave the rule silently matching nothing."""
    from prometheus_client.parser import text_string_to_metric_families

    from conntest.model import Severity
    from conntest.render.prometheus import render_prometheus
    from conntest.results import BatchResult
    from tests.unit.test_prometheus import account

    batch = BatchResult([account("a@contoso.com", ("thunderbird",), "ok", Severity.OK)], 0, 1)
    exported = {f.name for f in text_string_to_metric_families(render_prometheus(batch))}
    read = set(re.findall(r"\b(conntest_[a-z_]+)", DECEMBER.read_text(encoding="utf-8")))
    assert read == {
        "conntest_basic_auth_in_use",
        "conntest_basic_auth_default_off_timestamp_seconds",
    }
    assert read <= exported, read - exported


def test_the_docs_show_the_december_2026_rule_as_shipped() -> None:
    doc = DOC.read_text(encoding="utf-8")
    section = doc.split("## Finding what breaks at the end of December 2026", 1)[1]
    quoted = [
        line.strip()
        for line in DECEMBER.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(("- record:", "- alert:", "expr:", "for:", "severity:"))
        or ("last_over_time" in line and not line.lstrip().startswith("#"))
    ]
    assert quoted
    for line in quoted:
        assert line in section, line
