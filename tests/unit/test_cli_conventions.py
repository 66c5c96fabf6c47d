"""Conventions a monitoring admin or a script expects of a command-line tool."""

from __future__ import annotations

import subprocess
import sys

from conntest import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conntest", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_version_long_and_short() -> None:
    for flag in ("--version", "-V"):
        done = run(flag)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"conntest {__version__}"


def test_bare_conntest_without_a_terminal_prints_usage_and_exits_3() -> None:
    """From cron or a pipe there is no screen to draw: usage, exit 3, at once."""
    for args in ((), ("tui",), ("demo",)):
        done = run(*args)
        assert done.returncode == 3, (args, done.stderr)
        assert done.stderr.startswith("usage: conntest"), done.stderr
        assert "conntest check" in done.stderr
        assert done.stdout == ""
