"""The parser built for one command line reads exactly like the parser with every subcommand.

:func:`conntest.cli_parser.parser_for` builds only the subcommands a command
line names (issue 12: cold start).  What a person sees must not depend on
that: every ``--help``, every usage error and every parsed value is compared
with :func:`conntest.cli_parser.build_parser` building all of them, at two
terminal widths.  Through :func:`conntest.cli.main`, a usage error is still
one line on stderr and exit 3.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest

from conntest.cli import main
from conntest.cli_parser import COMMANDS, _columns, build_parser, parser_for
from conntest.errors import UsageError

NESTED = {
    "profiles": ("list", "show", "path", "validate"),
    "oauth": ("login", "status", "logout"),
}

HELPS = [
    ["--help"],
    ["-h"],
    ["-h", "check"],
    ["--help", "explain", "x"],
    *([name, "--help"] for name in COMMANDS),
    *([name, sub, "--help"] for name, subs in NESTED.items() for sub in subs),
]

BAD = [
    ["bogus"],
    ["bogus", "check"],
    ["--bogus", "check"],
    ["check", "--bogus"],
    ["check", "tui"],
    ["check", "--imap", "[]:993"],
    ["check", "--tls-max", "9"],
    ["check", "--timeout", "x"],
    ["check", "--user", "a@contoso.com", "--password-env", "X", "--password-file", "y"],
    ["check", "--today", "2026-13-01"],
    ["check", "--concurrency", "0"],
    ["lab", "--latency-ms", "-1"],
    ["profiles"],
    ["profiles", "bogus"],
    ["profiles", "show"],
    ["oauth"],
    ["oauth", "login", "--client-id", "bad"],
    ["oauth", "login", "--user", "a@contoso.com", "--ca-file", "missing-ca.pem"],
    ["oauth", "login", "--nameserver", "not an address"],
    ["schema"],
    ["schema", "nope"],
    ["explain"],
    ["explain", "--format", "xml", "x"],
    ["serve", "--listen", "bad"],
    ["tui", "--bogus"],
    ["--", "check"],
]

GOOD = [
    [],
    ["tui"],
    ["demo", "--user", "a@contoso.com"],
    ["check", "--user", "a@contoso.com", "-w", "5", "-c", "10:", "-t", "7"],
    ["check", "--user", "check", "--profile-file", "p.yaml", "--resolve", "h.test:127.0.0.1"],
    ["check", "--batch", "accounts.yaml", "--format", "nagios", "--today", "2026-12-01"],
    ["explain", "--profile", "outlook-2016", "lab"],
    ["lab", "--latency-ms", "25", "--state-file", "s.json"],
    ["profiles", "validate", "a.yaml", "b.yaml"],
    ["oauth", "login", "--user", "a@contoso.com", "--resolve", "login.example.test:127.0.0.1"],
    ["schema", "config"],
    ["serve", "--config", "serve.yaml"],
]


def _help(parser_argv: list[str], argv: list[str], full: bool) -> str:
    parser = build_parser() if full else parser_for(parser_argv)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        parser.parse_args(argv)
    assert exited.value.code == 0
    return out.getvalue()


@pytest.mark.parametrize("columns", ["80", "137"])
@pytest.mark.parametrize("argv", HELPS, ids=" ".join)
def test_every_help_reads_as_with_every_subcommand_built(
    argv: list[str], columns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    text = _help(argv, argv, full=False)
    assert text == _help(argv, argv, full=True)
    assert text.startswith("usage: conntest")


def test_the_top_level_help_lists_every_subcommand_with_its_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per subcommand
    text = _help(["--help"], ["--help"], full=False)
    for name, line in COMMANDS.items():
        assert f"    {name:<20}{line}\n" in text, name


@pytest.mark.parametrize("argv", BAD, ids=" ".join)
def test_every_usage_error_reads_as_with_every_subcommand_built(argv: list[str]) -> None:
    with pytest.raises(UsageError) as lazy:
        parser_for(argv).parse_args(argv)
    with pytest.raises(UsageError) as full:
        build_parser().parse_args(argv)
    assert str(lazy.value) == str(full.value)


@pytest.mark.parametrize("argv", BAD, ids=" ".join)
def test_a_usage_error_is_one_line_and_exit_3(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("conntest: ")
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", GOOD, ids=" ".join)
def test_values_parse_as_with_every_subcommand_built(argv: list[str]) -> None:
    assert parser_for(argv).parse_args(argv) == build_parser().parse_args(argv)


def test_path_options_are_paths() -> None:
    args = parser_for(["check"]).parse_args(["check", "--profile-file", "p.yaml"])
    assert args.profile_file == [Path("p.yaml")]


@pytest.mark.parametrize("columns", [None, "", "0", "-3", "wide", "50", "211"])
def test_the_width_is_the_one_argparse_would_ask_shutil_for(
    columns: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _columns() == shutil.get_terminal_size().columns


@pytest.mark.parametrize("width", [1, 10, 24, 57])
def test_help_texts_wrap_on_words_within_the_width(width: int) -> None:
    from conntest.cli_parser import _wrap

    text = "read the password from the first line of --password-file or\tstandard  input"
    lines = _wrap(text, width)
    assert " ".join(lines).split() == text.split()  # nothing lost, no word cut
    assert all(len(line) <= width or " " not in line for line in lines)
    assert all(line == line.strip() for line in lines)
    assert _wrap("", width) == [] and _wrap("   ", width) == []
