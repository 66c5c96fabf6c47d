"""A YAML syntax error is one readable line: no "found found", and the way out where it is known.

PyYAML's own complaints mostly start with "found" ("found character '@'
that cannot start any token"); conntest's problem line already says
"expected valid YAML, found …", which made "found found character".  Each
file is given to the installed program the ways a user gives it (a batch,
``profiles validate``, ``serve --config``): one line on stderr (stdout for
``validate``, which reports), with the file and the line number, exit 3.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CASES = {
    "tab": (
        "accounts:\n\t- address: a@contoso.com\n",
        "a tab where YAML expects a value or an indent (YAML indents with spaces only) (line 2)",
    ),
    "at": (
        "accounts:\n  - address: @contoso.com\n",
        "'@' at the start of a value (YAML reserves it: put the value in quotes) (line 2)",
    ),
    "escape": (
        'accounts:\n  - address: "a\\q@contoso.com"\n',
        "unknown escape character 'q' (line 2)",
    ),
    "duplicate anchor": (
        "a: &x 1\nb: &x 2\n",
        "duplicate anchor 'x' (line 2)",  # the second one
    ),
}


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conntest", *argv],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("how", ["check --batch", "profiles validate", "serve --config"])
def test_a_yaml_syntax_error_reads_as_one_line(tmp_path: Path, case: str, how: str) -> None:
    text, found = CASES[case]
    path = tmp_path / "file.yaml"
    path.write_text(text)
    done = run([*how.split(), str(path)])
    assert done.returncode == 3, (done.stdout, done.stderr)
    report = done.stdout if how == "profiles validate" else done.stderr
    lines = report.strip().splitlines()
    assert len(lines) == 1, lines
    assert "found found" not in lines[0]
    assert "Traceback" not in done.stderr
    assert lines[0].endswith(f"{path}: expected valid YAML, found {found}"), lines[0]
