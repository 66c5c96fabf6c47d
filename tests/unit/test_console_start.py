"""The console entry point catches a Ctrl-C as early as Python lets it (docs/cli.md, Exit codes).

A Ctrl-C is clean from the moment :func:`conntest.console.console` runs; what
comes before it is Python's own start and the import of ``conntest.console``
itself, so that import must be as short as it can be: ``sys`` and nothing
else, not even ``signal`` (whose ``enum`` a plain interpreter has not loaded
yet: about 9 ms here), nor anything of conntest's own.  A fresh interpreter (``-S``, as an installed
wheel starts without the dev venv's editable-install finder) imports it with
``-X importtime`` and lists what that import brought in.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def imported_by(statement: str) -> list[str]:
    """The modules ``statement`` imported into a fresh interpreter, in order."""
    done = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        cwd=CHECKOUT,
        timeout=60,
        check=True,
    )
    baseline = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", "pass"],
        capture_output=True,
        text=True,
        cwd=CHECKOUT,
        timeout=60,
        check=True,
    )

    def names(stderr: str) -> list[str]:
        return [
            line.rpartition("|")[2].strip()
            for line in stderr.splitlines()
            if line.startswith("import time:") and not line.endswith("| imported package")
        ]

    before = set(names(baseline.stderr))
    return [name for name in names(done.stderr) if name not in before]


def test_the_console_module_brings_in_nothing_before_it_catches() -> None:
    brought = imported_by("import conntest.console")
    assert brought[-1] == "conntest.console"
    assert set(brought) <= {"conntest", "conntest.console"}, brought
