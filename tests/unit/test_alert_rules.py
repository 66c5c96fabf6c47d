"""The alert rules in monitoring/ fire at the scrape interval docs/monitoring.md recommends.

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
