"""docs/conntest.1 is written by argparse-manpage from the parser and must not go stale."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conntest.cli_parser import COMMANDS
from tests.packaging.man_page import PAGE, REGENERATE, render, without_date


def test_the_manual_page_is_up_to_date() -> None:
    assert PAGE.is_file(), f"{PAGE} is missing; generate it with: {REGENERATE}"
    assert without_date(PAGE.read_text(encoding="utf-8")) == without_date(render()), (
        f"{PAGE.name} is stale; regenerate it with: {REGENERATE}"
    )


def test_the_page_covers_every_subcommand_and_the_exit_status() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert page.startswith('.TH CONNTEST "1" ')
    for name in COMMANDS:
        assert f"\\fBconntest\\fR \\fI\\,{name}\\/\\fR" in page, name
    for option in ("\\-\\-cert\\-days", "\\-\\-deadline", "\\-\\-password\\-stdin", "\\-\\-listen"):
        assert option in page, option
    assert ".SH EXIT STATUS" in page


def test_man_renders_the_page() -> None:
    if shutil.which("man") is None:
        pytest.skip("man is not installed")
    run = subprocess.run(
        ["man", "-l", str(PAGE)],
        capture_output=True,
        text=True,
        env={
            "MANWIDTH": "80",
            "MANPAGER": "cat",
            "LANG": "C.UTF-8",
            "PATH": "/usr/bin:/bin",
        },
        check=True,
    )
    assert "warning" not in run.stderr, run.stderr  # troff knows every character
    text = " ".join(run.stdout.split())  # man justifies lines with extra spaces
    assert "conntest - test whether a legacy mail client can reach Microsoft 365" in text
    assert "--cert-days WARN[,CRIT]" in text
