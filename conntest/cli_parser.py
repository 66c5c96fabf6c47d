"""The command line's parsers: every subcommand's options, built only for the one being run.

:func:`build_parser` lists every subcommand (``--help``, the usage line and
the error for an unknown one read the same whichever are built) and adds the
arguments of those asked for; :func:`conntest.cli.main` asks for the ones
named in the command line.  Building every parser costs more than the rest of
``--help`` together (argparse's translation lookups and terminal size, per
argument; issue 12), and importing this module costs only argparse and small
modules of conntest's own: validators, pathlib and typing are imported when a
value comes.
"""

from __future__ import annotations

import argparse
import os
import sys

from conntest.errors import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence
    from typing import NoReturn

__all__ = ["COMMANDS", "SHELLS", "TLS_VERSIONS", "build_parser", "parser_for"]

TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")
"""As :data:`conntest.profile.TLS_VERSIONS` (a test keeps the two equal)."""

SHELLS = ("bash", "zsh", "fish")
"""The shells ``conntest completion`` writes a script for (:mod:`conntest.completion`)."""


def _latency(text: str) -> float:
    from conntest.inputs.values import InvalidValue, parse_seconds

    try:
        return parse_seconds(text, 0, 10_000, unit="milliseconds")
    except InvalidValue as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _version_line() -> str:
    from conntest import __version__

    return f"conntest {__version__}"


def _columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing shutil (bz2, lzma: ~5 ms)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's own help layout, at the width it would choose (``$COLUMNS``, the terminal)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _columns() - 2 if width is None else width  # as argparse.HelpFormatter does
        super().__init__(prog, indent_increment, max_help_position, width)

    # argparse wraps each help text with textwrap, whose word-splitting expression is
    # most of the cost of printing ``check --help`` (issue 12); words split on white
    # space read the same, and an option name in a help text is never cut at a hyphen.
    def _split_lines(self, text: str, width: int) -> list[str]:
        return _wrap(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line for line in _wrap(text, width - len(indent)))


def _wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap at ``width`` columns; a word longer than a line stands alone."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors go through the one funnel of :func:`main` (exit 3)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        self._width: int | None = None
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every add_argument (to check its metavar);
        # ask the terminal for the width once per parser, not once per option.
        if self.formatter_class is not _Formatter:
            return super()._get_formatter()
        if self._width is None:
            self._width = _columns() - 2
        return _Formatter(prog=self.prog, width=self._width)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


COMMANDS = {
    "check": "run a check headless and print a report",
    "oauth": "sign in with Microsoft for --oauth checks",
    "serve": "run a Prometheus exporter: GET /probe?account=…&profile=… checks one account",
    "lab": "run the Microsoft 365 lab until interrupted",
    "profiles": "list or validate client profiles",
    "schema": "print the JSON Schema of a file conntest reads (for editors)",
    "explain": "explain an error text a mail client showed",
    "tui": "open the troubleshooting screen",
    "demo": "open the troubleshooting screen against the built-in lab",
    "completion": "print the shell completion script (bash, zsh, fish)",
}
"""The subcommands, in the order ``--help`` lists them, with their one-line help."""


def build_parser(
    commands: Collection[str] | None = None, *, list_all: bool = True
) -> argparse.ArgumentParser:
    """The parser of the command line; only ``commands`` get their arguments (``None``: all).

    Every subcommand is listed, so that ``--help``, the usage line and an
    unknown command's error read the same whichever are built (one that is not
    built has no arguments), unless ``list_all`` is false: then only
    ``commands`` are.  Building every subcommand costs more than the rest of
    ``--help`` together (issue 12); :func:`parser_for` builds what a command
    line needs.
    """
    parser = _Parser(
        prog="conntest",
        description="Test whether a legacy mail client can reach Microsoft 365, and why not.",
    )
    parser.add_argument("--version", "-V", action="version", version=_version_line())
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name, text in COMMANDS.items():
        if commands is not None and name not in commands:
            if list_all:
                sub.add_parser(name, help=text, add_help=False)  # listed; never parses
        elif name == "oauth":
            from conntest.oauth.command import add_oauth_command

            add_oauth_command(sub)
        else:
            _ARGUMENTS[name](sub.add_parser(name, help=text))
    return parser


def parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser of ``argv``, with the arguments of the subcommands it can run and no others.

    argparse hands the rest of the line to a subcommand whose name is a word
    of it, so only those are built (a value such as ``--user check`` builds one
    more).  A line that starts with the subcommand never makes the top-level
    parser print its list of subcommands (no help, usage or unknown-command
    error of its own), so the others are not even listed; except ``tui`` and
    ``demo``, which print the top-level usage when there is no terminal.
    """
    if argv and argv[0] in COMMANDS and argv[0] not in ("tui", "demo"):
        return build_parser({argv[0]}, list_all=False)
    return build_parser({word for word in argv if word in COMMANDS})


def _check_arguments(check: argparse.ArgumentParser) -> None:
    from conntest.batch.options import add_check_arguments, add_retirement_arguments
    from conntest.inputs.argtypes import add_lookup_arguments, path, validated
    from conntest.oauth.command import add_check_oauth_arguments

    check.add_argument("--user", help="the mailbox address (UPN); required unless --batch")
    check.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="ID",
        help="client profile to test (repeatable; default: every profile)",
    )
    check.add_argument(
        "--profile-file",
        action="append",
        default=[],
        type=path,
        metavar="PATH",
        help="load an extra profile file (overrides a profile of the same id)",
    )
    source = check.add_mutually_exclusive_group()
    source.add_argument("--password-env", metavar="VAR", help="read the password from $VAR")
    source.add_argument(
        "--password-file",
        type=path,
        metavar="PATH",
        help="read the password from the first line of a file",
    )
    source.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    source.add_argument(
        "--no-password", action="store_true", help="connectivity only: stop before authentication"
    )
    check.add_argument(
        "--lab",
        metavar="SCENARIO",
        help="start the built-in Microsoft 365 lab and check against it",
    )
    check.add_argument(
        "--imap", type=validated("host_port"), metavar="HOST:PORT", help="IMAP server override"
    )
    check.add_argument(
        "--smtp", type=validated("host_port"), metavar="HOST:PORT", help="SMTP server override"
    )
    add_lookup_arguments(check)
    check.add_argument(
        "--ca-file",
        type=validated("ca_file"),
        metavar="PEM",
        help="trust these CA certificates instead of the system's",
    )
    check.add_argument(
        "--expected-network",
        type=validated("network"),
        action="append",
        default=[],
        metavar="CIDR",
        help="where the server names should resolve (repeatable)",
    )
    check.add_argument(
        "--tls-max",
        choices=TLS_VERSIONS,
        help="cap the profiles' TLS version (e.g. 1.0: Windows 7 without updates)",
    )
    check.add_argument(
        "--protocol",
        choices=("imap", "smtp", "both"),
        default="both",
        help="check only IMAP or only SMTP (a device that only sends; monitoring one path); "
        "default both",
    )
    check.add_argument(
        "--try-stripped",
        action="store_true",
        help="if the password has whitespace and is refused, try once more without "
        "it (one more failed attempt toward lockout)",
    )
    check.add_argument(
        "--timeout",
        "-t",
        type=validated("timeout"),
        default=60.0,
        metavar="SECONDS",
        help="deadline of the whole run (default 60)",
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "jsonl", "nagios", "prometheus", "junit"),
        default="text",
        help="how to print the report (default text; docs/cli.md, docs/monitoring.md)",
    )
    check.add_argument(
        "--verbose", "-v", action="store_true", help="text format: include the redacted transcript"
    )

    add_check_arguments(check)
    add_check_oauth_arguments(check)
    add_retirement_arguments(check)


def _serve_arguments(serve: argparse.ArgumentParser) -> None:
    from conntest.batch.options import add_retirement_arguments, add_serve_arguments

    add_serve_arguments(serve)
    add_retirement_arguments(serve)


def _lab_arguments(lab: argparse.ArgumentParser) -> None:
    from conntest.inputs.argtypes import path

    lab.add_argument("--scenario", default="ok", help="scenario of accounts not in --accounts")
    lab.add_argument(
        "--accounts",
        type=path,
        metavar="YAML",
        help="accounts and their scenarios: {accounts: [{address, scenario}]}",
    )
    lab.add_argument(
        "--state-file", type=path, metavar="JSON", help="write ports, CA file and accounts here"
    )
    lab.add_argument(
        "--latency-ms",
        type=_latency,
        default=0.0,
        help="delay every server write by this much (0-10000)",
    )
    lab.add_argument("--list-scenarios", action="store_true", help="list the scenarios and exit")


def _profiles_arguments(profiles: argparse.ArgumentParser) -> None:
    from conntest.inputs.argtypes import path

    psub = profiles.add_subparsers(dest="profiles_command", required=True, parser_class=_Parser)
    plist = psub.add_parser("list", help="show the loaded profiles and where they come from")
    plist.add_argument("--profile-file", action="append", default=[], type=path, metavar="PATH")
    pshow = psub.add_parser(
        "show", help="print a profile's file as loaded (copy a builtin one to edit it)"
    )
    pshow.add_argument("id", metavar="ID")
    pshow.add_argument(
        "--builtin", action="store_true", help="the shipped file, even if one of yours overrides it"
    )
    pshow.add_argument("--profile-file", action="append", default=[], type=path, metavar="PATH")
    ppath = psub.add_parser("path", help="print the folders profiles are loaded from")
    ppath.add_argument("--user", action="store_true", help="only the folder for your own profiles")
    pval = psub.add_parser("validate", help="report every problem in profile files")
    pval.add_argument(
        "paths",
        nargs="*",
        type=path,
        metavar="PATH",
        help="files to validate (default: every profile conntest would load)",
    )


def _schema_arguments(schema: argparse.ArgumentParser) -> None:
    schema.add_argument(
        "kind",
        choices=("profile", "batch", "serve", "lab-accounts", "config"),
        help="profile, batch (check --batch), serve (serve --config), lab-accounts or "
        "config (config.yaml, the settings file)",
    )


def _explain_arguments(explain: argparse.ArgumentParser) -> None:
    explain.add_argument("text", help="the error text, or - to read standard input")
    explain.add_argument("--profile", metavar="ID", help="word the remedy for this client")
    explain.add_argument("--format", choices=("text", "json"), default="text")


def _completion_arguments(completion: argparse.ArgumentParser) -> None:
    completion.add_argument(
        "shell", choices=SHELLS, help="the shell to complete for (docs/cli.md: installing it)"
    )


def _tui_arguments(tui: argparse.ArgumentParser) -> None:
    tui.add_argument("--user")
    tui.add_argument("--profile", action="append", default=[], metavar="ID")


_ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "check": _check_arguments,
    "serve": _serve_arguments,
    "lab": _lab_arguments,
    "profiles": _profiles_arguments,
    "schema": _schema_arguments,
    "explain": _explain_arguments,
    "tui": _tui_arguments,
    "demo": _tui_arguments,
    "completion": _completion_arguments,
}
