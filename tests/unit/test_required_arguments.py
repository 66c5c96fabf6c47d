"""A command given without its subcommand or value says what it expected, in the user's words.

argparse's own line, ``the following arguments are required:
profiles_command``, names the attribute the code reads.  Every command of
the full parser that needs a subcommand or a value is found by walking the
parser (so a group added later is covered too) and run bare through
:func:`conntest.cli.main`: one line, exit 3, the command named, what it
expected, and no variable name.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from conntest.cli import main
from conntest.cli_parser import build_parser


def _bare_commands() -> list[tuple[list[str], list[str]]]:
    """Each command line that lacks a required positional, and the names argparse gives it."""
    found: list[tuple[list[str], list[str]]] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        required = [
            a
            for a in parser._actions
            if not a.option_strings and a.required and a.nargs not in ("*", "?")
        ]
        if path and required:
            found.append((path, [a.dest for a in required]))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, [*path, name])

    walk(build_parser(), [])
    return found


BARE = _bare_commands()


def test_the_walk_finds_the_groups_the_field_tester_hit() -> None:
    paths = {" ".join(path) for path, _ in BARE}
    assert {"profiles", "oauth", "schema", "completion", "explain", "profiles show"} <= paths


@pytest.mark.parametrize(("argv", "dests"), BARE, ids=[" ".join(p) for p, _ in BARE])
def test_a_bare_command_says_what_it_expected(
    argv: list[str], dests: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"conntest: {' '.join(argv)}: expected "), lines[0]
    for dest in dests:
        if "_" in dest:  # a name only the code uses (profiles_command)
            assert dest not in lines[0], lines[0]
    assert "required" not in lines[0], lines[0]


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["profiles"], "conntest: profiles: expected a subcommand (list, show, path, validate)"),
        (["oauth"], "conntest: oauth: expected a subcommand (login, status, logout)"),
        (["completion"], "conntest: completion: expected a shell (one of bash, zsh, fish)"),
        (
            ["schema"],
            "conntest: schema: expected a kind (one of profile, batch, serve, lab-accounts, "
            "config)",
        ),
    ],
)
def test_the_installed_command_prints_the_line(argv: list[str], line: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conntest", *argv],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (3, "", line + "\n")
