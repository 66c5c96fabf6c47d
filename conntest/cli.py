"""The command line: ``check``, ``serve``, ``lab``, ``profiles``, ``schema``, ``explain``, ``tui``.

The CLI owns exit codes and streams: stdout is the report, stderr gets one
plain line per error.  Exit codes follow the Monitoring Plugins guidelines:
0 ok, 1 warning, 2 critical, 3 unknown (bad input or an internal error).

The headless commands never import Textual: the TUI is imported only inside
the ``tui``/``demo`` branches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO, TypeVar

from conntest.batch.options import (
    add_check_arguments,
    add_retirement_arguments,
    add_serve_arguments,
    advice_date,
    wants_batch_path,
)
from conntest.errors import ConntestError, UsageError
from conntest.inputs.values import (
    InvalidValue,
    option_value,
    parse_address,
    parse_ca_file,
    parse_host_port,
    parse_nameserver,
    parse_network,
    parse_pin,
    parse_seconds,
    parse_timeout,
)
from conntest.oauth.command import add_check_oauth_arguments, add_oauth_command

if TYPE_CHECKING:
    from conntest.model import Report
    from conntest.profile import Profile

# Building the parser imports only the standard library and batch.options:
# `--help` must start in a small multiple of `python -c pass` (issue 12;
# tests/unit/test_import_hygiene.py). asyncio, ipaddress, getpass and the
# profile model are imported where they are used.
TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")
"""As :data:`conntest.profile.TLS_VERSIONS` (a test keeps the two equal)."""

# The engine, probes and their libraries (imapclient, aiosmtplib, dnspython,
# cryptography) are imported inside the commands that use them, so that
# `--help`, `profiles` and `explain` start fast.

EXIT_UNKNOWN = 3
T = TypeVar("T")


def _arg(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=`` from a validator of :mod:`conntest.inputs.values`.

    argparse prefixes the message with the option (``argument --imap:
    expected HOST:PORT, found '[]:993'``), so the line names what to fix.
    """

    def convert(text: str) -> T:
        try:
            return parse(text)
        except InvalidValue as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__.removeprefix("parse_")  # argparse names it in errors
    return convert


def _latency(text: str) -> float:
    return parse_seconds(text, 0, 10_000)


def _version_line() -> str:
    from conntest import __version__

    return f"conntest {__version__}"


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors go through the one funnel of :func:`main` (exit 3)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="conntest",
        description="Test whether a legacy mail client can reach Microsoft 365, and why not.",
    )
    parser.add_argument("--version", "-V", action="version", version=_version_line())
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = sub.add_parser("check", help="run a check headless and print a report")
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
        type=Path,
        metavar="PATH",
        help="load an extra profile file (overrides a profile of the same id)",
    )
    source = check.add_mutually_exclusive_group()
    source.add_argument("--password-env", metavar="VAR", help="read the password from $VAR")
    source.add_argument(
        "--password-file",
        type=Path,
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
        "--imap", type=_arg(parse_host_port), metavar="HOST:PORT", help="IMAP server override"
    )
    check.add_argument(
        "--smtp", type=_arg(parse_host_port), metavar="HOST:PORT", help="SMTP server override"
    )
    check.add_argument(
        "--resolve",
        type=_arg(parse_pin),
        action="append",
        default=[],
        metavar="HOST:ADDRESS",
        help="connect to ADDRESS for HOST, still verifying HOST's certificate",
    )
    check.add_argument(
        "--nameserver",
        type=_arg(parse_nameserver),
        metavar="ADDRESS[:PORT]",
        help="ask this DNS server instead of the system's",
    )
    check.add_argument(
        "--ca-file",
        type=_arg(parse_ca_file),
        metavar="PEM",
        help="trust these CA certificates instead of the system's",
    )
    check.add_argument(
        "--expected-network",
        type=_arg(parse_network),
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
        type=_arg(parse_timeout),
        default=60.0,
        metavar="SECONDS",
        help="deadline of the whole run (default 60)",
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "jsonl", "nagios", "prometheus", "junit"),
        default="text",
    )
    check.add_argument(
        "--verbose", "-v", action="store_true", help="text format: include the redacted transcript"
    )

    add_check_arguments(check)
    add_check_oauth_arguments(check)
    add_oauth_command(sub)
    add_retirement_arguments(check)

    serve = sub.add_parser(
        "serve", help="run a Prometheus exporter: GET /probe?account=…&profile=… checks one account"
    )
    add_serve_arguments(serve)
    add_retirement_arguments(serve)

    lab = sub.add_parser("lab", help="run the Microsoft 365 lab until interrupted")
    lab.add_argument("--scenario", default="ok", help="scenario of accounts not in --accounts")
    lab.add_argument(
        "--accounts",
        type=Path,
        metavar="YAML",
        help="accounts and their scenarios: {accounts: [{address, scenario}]}",
    )
    lab.add_argument(
        "--state-file", type=Path, metavar="JSON", help="write ports, CA file and accounts here"
    )
    lab.add_argument(
        "--latency-ms",
        type=_arg(_latency),
        default=0.0,
        help="delay every server write by this much (0-10000)",
    )
    lab.add_argument("--list-scenarios", action="store_true", help="list the scenarios and exit")

    profiles = sub.add_parser("profiles", help="list or validate client profiles")
    psub = profiles.add_subparsers(dest="profiles_command", required=True, parser_class=_Parser)
    plist = psub.add_parser("list", help="show the loaded profiles and where they come from")
    plist.add_argument("--profile-file", action="append", default=[], type=Path, metavar="PATH")
    pshow = psub.add_parser(
        "show", help="print a profile's file as loaded (copy a builtin one to edit it)"
    )
    pshow.add_argument("id", metavar="ID")
    pshow.add_argument(
        "--builtin", action="store_true", help="the shipped file, even if one of yours overrides it"
    )
    pshow.add_argument("--profile-file", action="append", default=[], type=Path, metavar="PATH")
    ppath = psub.add_parser("path", help="print the folders profiles are loaded from")
    ppath.add_argument("--user", action="store_true", help="only the folder for your own profiles")
    pval = psub.add_parser("validate", help="report every problem in profile files")
    pval.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files to validate (default: every profile conntest would load)",
    )

    schema = sub.add_parser(
        "schema", help="print the JSON Schema of a file conntest reads (for editors)"
    )
    schema.add_argument(
        "kind",
        choices=("profile", "batch", "serve", "lab-accounts", "config"),
        help="profile, batch (check --batch), serve (serve --config), lab-accounts or "
        "config (config.yaml, the settings file)",
    )

    explain = sub.add_parser("explain", help="explain an error text a mail client showed")
    explain.add_argument("text", help="the error text, or - to read standard input")
    explain.add_argument("--profile", metavar="ID", help="word the remedy for this client")
    explain.add_argument("--format", choices=("text", "json"), default="text")

    for name, text in (
        ("tui", "open the troubleshooting screen"),
        ("demo", "open the troubleshooting screen against the built-in lab"),
    ):
        tui = sub.add_parser(name, help=text)
        tui.add_argument("--user")
        tui.add_argument("--profile", action="append", default=[], metavar="ID")
    return parser


async def _check(
    args: argparse.Namespace, user: str, password: str | None, profiles: list[Profile]
) -> Report:
    import asyncio
    import concurrent.futures

    from conntest.embedded_lab import lab_fields
    from conntest.engine import CheckRequest, run_check
    from conntest.inputs.selection import protocols_of
    from conntest.probes.dns_probe import ResolverConfig

    loop = asyncio.get_running_loop()
    # IMAP runs in worker threads; the default pool (cpu+4) would queue probes.
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=32))
    async with lab_fields(args) as from_lab:
        fields: dict[str, object] = {
            "imap_server": args.imap,
            "smtp_server": args.smtp,
            "resolver": ResolverConfig(nameserver=args.nameserver, pinned=tuple(args.resolve)),
            "ca_file": args.ca_file,
            "tls_max": args.tls_max,
            "expected_networks": tuple(args.expected_network),
        }
        fields.update(from_lab)
        lab_authority = getattr(args, "lab_authority", None)
        if getattr(args, "oauth", False):  # first: config.yaml's authority counts below too
            fields.update(_oauth_fields(args, fields, lab_authority))
        fields["account_authority"] = _account_authority(args, lab_authority)
        request = CheckRequest(
            user=user,
            password=password,
            profiles=profiles,
            timeout=args.timeout,
            try_stripped=args.try_stripped,
            protocols=protocols_of(getattr(args, "protocol", None)),
            today=advice_date(args),
            retirement_window=args.retirement_window,
            **fields,  # type: ignore[arg-type]
        )
        return await run_check(request)


def _account_authority(args: argparse.Namespace, lab_authority: object) -> str | None:
    """Where to classify the account (``account-kind``), or ``None`` to skip it.

    Skipped when the check is pointed at other servers (``--imap``, ``--smtp``,
    ``--resolve``) without ``--nameserver`` and without pinning the identity
    host: then the Microsoft sign-in service is not what is being tested.
    """
    from conntest.oauth.command import authority_and_tenant

    if isinstance(lab_authority, str):
        return lab_authority
    authority, _tenant = authority_and_tenant(args, None)
    host = authority.split("://", 1)[1].split(":")[0].split("/")[0].lower()
    pinned = any(name.lower() == host for name, _address in args.resolve)
    if args.nameserver is None and (args.imap or args.smtp or args.resolve) and not pinned:
        return None
    return authority


def _oauth_fields(
    args: argparse.Namespace, fields: dict[str, object], lab_authority: object
) -> dict[str, object]:
    """``oauth`` and ``login_command`` for the request (``--oauth``); MSAL is not imported here."""
    import tempfile

    from conntest.oauth.command import build_plan

    ca_file = fields.get("ca_file")
    cache_file = None
    if lab_authority is not None:  # the lab's tokens never go into the real token cache
        cache_file = Path(tempfile.mkdtemp(prefix="conntest-lab-oauth-")) / "cache.json"
    plan, command = build_plan(
        args,
        ca_file=ca_file if isinstance(ca_file, Path) else None,
        cache_file=cache_file,
        lab_authority=str(lab_authority) if lab_authority is not None else None,
    )
    return {"oauth": plan, "login_command": command}


def cmd_check(
    args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: TextIO | None
) -> int:
    import asyncio

    from conntest.inputs.passwords import password_from_args
    from conntest.inputs.selection import select_profiles
    from conntest.interrupts import quiet_when_cancelled
    from conntest.redact import Redactor
    from conntest.render.json_report import render_json
    from conntest.render.redacted_output import redact_output
    from conntest.render.text_report import render_text

    if wants_batch_path(args):
        from conntest.batch.command import check_batch

        return check_batch(args, stdout, stderr, stdin)
    if not args.user:
        raise UsageError("--user is required (or --batch FILE)")
    user = option_value("--user", parse_address, args.user)
    profiles = select_profiles(args.profile_file, args.profile, stderr)
    password = None if getattr(args, "oauth", False) else password_from_args(args, stdin)
    redact = Redactor.for_credentials(user, password)
    try:
        report = asyncio.run(quiet_when_cancelled(_check(args, user, password, profiles)))
    except ConntestError:
        raise
    except Exception as exc:  # a bug: say so in one line, never with a secret in it
        print(redact(f"conntest: internal error: {exc.__class__.__name__}: {exc}"), file=stderr)
        return EXIT_UNKNOWN
    report = redact.value(report)  # before a renderer wraps or escapes a secret out of sight
    text = (
        render_json(report) + "\n" if args.format == "json" else render_text(report, args.verbose)
    )
    stdout.write(redact_output(args.format, text, redact))
    return report.severity.exit_code


def cmd_lab(args: argparse.Namespace, stdout: TextIO) -> int:
    from conntest.lab import SCENARIOS, run_lab

    if args.list_scenarios:
        for name, scenario in SCENARIOS.items():
            summary = getattr(scenario, "summary", "") or getattr(scenario, "description", "")
            stdout.write(f"{name:<28} {summary}\n")
        return 0
    if args.scenario not in SCENARIOS:
        raise UsageError(f"unknown lab scenario {args.scenario!r}; known: {', '.join(SCENARIOS)}")
    try:
        return run_lab(args.accounts, args.scenario, args.state_file, args.latency_ms)
    except ConntestError:
        raise  # FileProblems: one line per problem, through main's funnel
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_profiles(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from conntest.profiles import load_profiles, validate

    if args.profiles_command in ("show", "path"):
        from conntest.profile_files import profile_paths, profile_text

        if args.profiles_command == "path":
            stdout.write(profile_paths(user_only=args.user))
            return 0
        stdout.write(profile_text(load_profiles(args.profile_file), args.id, args.builtin))
        return 0
    if args.profiles_command == "list":
        loaded = load_profiles(args.profile_file)
        rows = [
            (e.profile.id, e.profile.name, e.source_label)
            for e in (loaded.entry(i) for i in loaded.ids())
        ]
        width = max((len(r[0]) for r in rows), default=2)
        name_width = max((len(r[1]) for r in rows), default=4)
        stdout.write(f"{'ID':<{width}}  {'NAME':<{name_width}}  SOURCE\n")
        for pid, name, source in rows:
            stdout.write(f"{pid:<{width}}  {name:<{name_width}}  {source}\n")
        for problem in loaded.problems:
            print(f"conntest: profile problem: {problem}", file=stderr)
        return EXIT_UNKNOWN if loaded.problems else 0
    problems = validate(args.paths) if args.paths else list(load_profiles().problems)
    for problem in problems:
        stdout.write(f"{problem}\n")
    if not problems:
        stdout.write("no problems found\n")
    return EXIT_UNKNOWN if problems else 0


def cmd_explain(args: argparse.Namespace, stdout: TextIO, stdin: TextIO | None) -> int:
    from conntest.diagnosis import explain
    from conntest.render.text_report import render_finding

    if args.text == "-" and stdin is None:
        raise UsageError("explain -: expected the text on standard input, found it closed")
    text = stdin.read(64 * 1024) if args.text == "-" and stdin is not None else args.text
    profile = None
    if args.profile:
        from conntest.profiles import load_profiles

        profile = load_profiles().get(args.profile)
    finding = explain(text, profile)
    if args.format == "json":
        import json

        doc = {k: getattr(finding, k) for k in ("code", "title", "detail", "remedy", "evidence")}
        doc["severity"] = finding.severity.label
        doc["admin_action"] = finding.admin_action
        stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        stdout.write("\n".join(render_finding(finding, primary=True)) + "\n")
    return finding.severity.exit_code


def cmd_tui(args: argparse.Namespace) -> int:
    advice_date(args)  # a malformed $CONNTEST_TODAY is bad input: say so before the screen
    try:
        from conntest.tui.app import run_tui
    except ImportError:
        raise UsageError("the TUI is not part of this build yet; use 'conntest check'") from None
    result: int = run_tui(args)
    return result


def _failure(exc: ConntestError, fmt: str | None, stdout: TextIO, stderr: TextIO) -> int:
    """The one funnel of bad input: one line per problem on stderr, exit 3, nothing sent.

    Under ``--format nagios`` the status line on stdout says UNKNOWN too.
    """
    problems = [str(p) for p in exc.problems]
    for line in problems or [str(exc)]:
        print(f"conntest: {line}", file=stderr)
    if fmt == "nagios":
        from conntest.render.nagios import render_unknown

        summary = str(exc)
        if problems:
            plural = "s" if len(problems) != 1 else ""
            summary = f"{len(problems)} problem{plural} in the input; nothing was checked"
        stdout.write(render_unknown(summary, problems))
        stdout.flush()
    return EXIT_UNKNOWN


def _format_of(argv: Sequence[str]) -> str | None:
    """``--format``'s value, read from the raw arguments (for errors argparse itself raises)."""
    for index, arg in enumerate(argv):
        if arg == "--format" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--format="):
            return arg.partition("=")[2]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    stdout, stderr, stdin = sys.stdout, sys.stderr, sys.stdin
    parser = build_parser()
    try:
        args = parser.parse_args(raw)
    except ConntestError as exc:
        return _failure(exc, _format_of(raw), stdout, stderr)
    from conntest.interrupts import break_as_interrupt

    break_as_interrupt()  # Windows: Ctrl-Break ends a run as cleanly as Ctrl-C
    try:
        return _dispatch(parser, args, stdout, stderr, stdin)
    except ConntestError as exc:
        return _failure(exc, getattr(args, "format", None), stdout, stderr)
    except KeyboardInterrupt:
        print("conntest: interrupted", file=stderr)
        if getattr(args, "format", None) == "nagios":
            from conntest.render.nagios import render_unknown

            stdout.write(render_unknown("interrupted before the check finished"))
            stdout.flush()
        return EXIT_UNKNOWN


def _dispatch(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    stdout: TextIO,
    stderr: TextIO,
    stdin: TextIO | None,
) -> int:
    if args.command == "check":
        return cmd_check(args, stdout, stderr, stdin)
    if args.command == "serve":
        from conntest.serve import cmd_serve

        return cmd_serve(args, stdout, stderr)
    if args.command == "lab":
        return cmd_lab(args, stdout)
    if args.command == "oauth":
        from conntest.oauth.command import cmd_oauth

        return cmd_oauth(args, stdout, stderr)
    if args.command == "profiles":
        return cmd_profiles(args, stdout, stderr)
    if args.command == "explain":
        return cmd_explain(args, stdout, stdin)
    if args.command == "schema":
        from conntest.json_schemas import render_schema

        stdout.write(render_schema(args.kind))
        return 0
    if args.command in (None, "tui", "demo"):
        if not (stdin is not None and stdin.isatty() and stdout.isatty()):
            # No terminal to draw on (cron, a pipe, CI): say how to use it.
            parser.print_usage(stderr)
            print(
                "conntest: the screen needs a terminal; use 'conntest check' "
                "(see 'conntest --help')",
                file=stderr,
            )
            return EXIT_UNKNOWN
        if args.command is None:
            args = parser.parse_args(["tui"])
        args.demo = args.command == "demo"
        return cmd_tui(args)
    parser.print_help(stderr)
    return EXIT_UNKNOWN


if __name__ == "__main__":
    sys.exit(main())
