"""The command line: ``conntest check``, ``lab``, ``profiles``, ``explain``, ``tui``, ``demo``.

The CLI owns exit codes and streams: stdout is the report, stderr gets one
plain line per error.  Exit codes follow the Monitoring Plugins guidelines:
0 ok, 1 warning, 2 critical, 3 unknown (bad input or an internal error).

The headless commands never import Textual: the TUI is imported only inside
the ``tui``/``demo`` branches.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from conntest.batch.options import add_check_arguments, add_serve_arguments, wants_batch_path
from conntest.errors import ConntestError, ProfileError, UsageError
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


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, found {value!r}")
    return host.strip("[]"), int(port)


def _resolve_pin(value: str) -> tuple[str, str]:
    import ipaddress

    host, sep, address = value.partition(":")
    try:
        ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected HOST:ADDRESS with an IP address, found {value!r}"
        ) from None
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"expected HOST:ADDRESS, found {value!r}")
    return host, address.strip("[]")


def _nameserver(value: str) -> tuple[str, int]:
    import ipaddress

    try:
        return str(ipaddress.ip_address(value)), 53
    except ValueError:
        pass
    address, sep, port = value.rpartition(":")
    try:
        ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected ADDRESS[:PORT] with an IP address, found {value!r}"
        ) from None
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected ADDRESS[:PORT], found {value!r}")
    return address.strip("[]"), int(port)


def _network(value: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a network like 40.96.0.0/13, found {value!r}"
        ) from None


def _timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, found {value!r}") from None
    if not 1 <= seconds <= 600:
        raise argparse.ArgumentTypeError("the timeout must be between 1 and 600 seconds")
    return seconds


class _Parser(argparse.ArgumentParser):
    """argparse that exits 3 (UNKNOWN) on bad usage, as a monitoring plugin must."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNKNOWN, f"conntest: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="conntest",
        description="Test whether a legacy mail client can reach Microsoft 365, and why not.",
    )
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
    check.add_argument("--imap", type=_host_port, metavar="HOST:PORT", help="IMAP server override")
    check.add_argument("--smtp", type=_host_port, metavar="HOST:PORT", help="SMTP server override")
    check.add_argument(
        "--resolve",
        type=_resolve_pin,
        action="append",
        default=[],
        metavar="HOST:ADDRESS",
        help="connect to ADDRESS for HOST, still verifying HOST's certificate",
    )
    check.add_argument(
        "--nameserver",
        type=_nameserver,
        metavar="ADDRESS[:PORT]",
        help="ask this DNS server instead of the system's",
    )
    check.add_argument(
        "--ca-file",
        type=Path,
        metavar="PEM",
        help="trust these CA certificates instead of the system's",
    )
    check.add_argument(
        "--expected-network",
        type=_network,
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
        "--try-stripped",
        action="store_true",
        help="if the password has whitespace and is refused, try once more without "
        "it (one more failed attempt toward lockout)",
    )
    check.add_argument(
        "--timeout",
        type=_timeout,
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

    serve = sub.add_parser(
        "serve", help="run a Prometheus exporter: GET /probe?account=…&profile=… checks one account"
    )
    add_serve_arguments(serve)

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
        "--latency-ms", type=float, default=0.0, help="delay every server write by this much"
    )
    lab.add_argument("--list-scenarios", action="store_true", help="list the scenarios and exit")

    profiles = sub.add_parser("profiles", help="list or validate client profiles")
    psub = profiles.add_subparsers(dest="profiles_command", required=True, parser_class=_Parser)
    plist = psub.add_parser("list", help="show the loaded profiles and where they come from")
    plist.add_argument("--profile-file", action="append", default=[], type=Path, metavar="PATH")
    pval = psub.add_parser("validate", help="report every problem in profile files")
    pval.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files to validate (default: every profile conntest would load)",
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


def _read_password(args: argparse.Namespace, stdin: TextIO) -> str | None:
    """The password from the chosen source; only a final line break is removed.

    Other whitespace is kept on purpose: a stray space is one of the things
    conntest diagnoses.
    """
    if args.no_password:
        return None
    if args.password_env:
        value = os.environ.get(args.password_env)
        if value is None:
            raise UsageError(
                f"--password-env: the environment variable {args.password_env} is not set"
            )
        return value
    if args.password_file:
        try:
            text = args.password_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"--password-file: cannot read {args.password_file}: {exc.strerror}"
            ) from None
        return _first_line(text)
    if args.password_stdin:
        return _first_line(stdin.readline())
    if stdin.isatty():
        import getpass

        return getpass.getpass(f"App password for {args.user}: ")
    raise UsageError(
        "no password: use --password-env VAR, --password-file PATH or --password-stdin "
        "(or --no-password for a connectivity-only check)"
    )


def _first_line(text: str) -> str:
    line = text.split("\n", 1)[0]
    return line.removesuffix("\r")


def _select_profiles(args: argparse.Namespace, out_err: TextIO) -> list[Profile]:
    from conntest.profiles import load_profiles

    loaded = load_profiles(args.profile_file)
    for problem in loaded.problems:
        print(f"conntest: profile problem: {problem}", file=out_err)
    bad_files = {p.file for p in loaded.problems}
    if any(str(path) in bad_files for path in args.profile_file):
        raise UsageError("a --profile-file could not be loaded (problems above)")
    if args.profile:
        return [loaded.get(pid) for pid in dict.fromkeys(args.profile)]
    profiles = list(loaded)
    if not profiles:
        raise UsageError("no profiles are available")
    return profiles


@contextlib.asynccontextmanager
async def _maybe_lab(args: argparse.Namespace) -> AsyncIterator[dict[str, object]]:
    """Start the in-process lab for ``--lab`` and yield the request fields it implies."""
    if not args.lab:
        yield {}
        return
    from conntest.lab import SCENARIOS, Lab
    from conntest.probes.dns_probe import ResolverConfig

    if args.lab not in SCENARIOS:
        raise UsageError(f"unknown lab scenario {args.lab!r}; known: {', '.join(SCENARIOS)}")
    async with Lab(default_scenario=args.lab, identity_user=args.user) as lab:
        ends = lab.endpoints(args.lab)
        yield {
            "lab_authority": ends.authority_host,
            "imap_server": args.imap or ends.imap,
            "smtp_server": args.smtp or ends.smtp,
            "resolver": ResolverConfig(
                nameserver=args.nameserver or ends.nameserver, pinned=tuple(args.resolve)
            ),
            "ca_file": args.ca_file or lab.ca_file,
            "tls_max": args.tls_max or ends.client_tls_max,
            "expected_networks": tuple(args.expected_network) or tuple(ends.expected_networks),
        }


async def _check(args: argparse.Namespace, password: str | None, profiles: list[Profile]) -> Report:
    import asyncio
    import concurrent.futures

    from conntest.engine import CheckRequest, run_check
    from conntest.probes.dns_probe import ResolverConfig

    loop = asyncio.get_running_loop()
    # IMAP runs in worker threads; the default pool (cpu+4) would queue probes.
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=32))
    async with _maybe_lab(args) as lab_fields:
        fields: dict[str, object] = {
            "imap_server": args.imap,
            "smtp_server": args.smtp,
            "resolver": ResolverConfig(nameserver=args.nameserver, pinned=tuple(args.resolve)),
            "ca_file": args.ca_file,
            "tls_max": args.tls_max,
            "expected_networks": tuple(args.expected_network),
        }
        fields.update(lab_fields)
        lab_authority = fields.pop("lab_authority", None)
        if getattr(args, "oauth", False):
            fields.update(await _oauth_fields(args, fields, lab_authority))
        request = CheckRequest(
            user=args.user,
            password=password,
            profiles=profiles,
            timeout=args.timeout,
            try_stripped=args.try_stripped,
            **fields,  # type: ignore[arg-type]
        )
        return await run_check(request)


async def _oauth_fields(
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


def cmd_check(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: TextIO) -> int:
    import asyncio

    from conntest.redact import Redactor
    from conntest.render.json_report import render_json
    from conntest.render.text_report import render_text

    if wants_batch_path(args):
        from conntest.batch.command import check_batch

        return check_batch(args, stdout, stderr, stdin)
    if not args.user:
        raise UsageError("--user is required (or --batch FILE)")
    profiles = _select_profiles(args, stderr)
    password = None if getattr(args, "oauth", False) else _read_password(args, stdin)
    redact = Redactor.for_credentials(args.user, password)
    try:
        report = asyncio.run(_check(args, password, profiles))
    except ConntestError:
        raise
    except Exception as exc:  # a bug: say so in one line, never with a secret in it
        print(redact(f"conntest: internal error: {exc.__class__.__name__}: {exc}"), file=stderr)
        return EXIT_UNKNOWN
    text = render_json(report) if args.format == "json" else render_text(report, args.verbose)
    stdout.write(redact(text) if args.format == "text" else text + "\n")
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
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_profiles(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from conntest.profiles import load_profiles, validate

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


def cmd_explain(args: argparse.Namespace, stdout: TextIO, stdin: TextIO) -> int:
    import json

    from conntest.diagnosis import explain
    from conntest.render.text_report import render_finding

    text = stdin.read() if args.text == "-" else args.text
    profile = None
    if args.profile:
        from conntest.profiles import load_profiles

        profile = load_profiles().get(args.profile)
    finding = explain(text, profile)
    if args.format == "json":
        doc = {k: getattr(finding, k) for k in ("code", "title", "detail", "remedy", "evidence")}
        doc["severity"] = finding.severity.label
        doc["admin_action"] = finding.admin_action
        stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        stdout.write("\n".join(render_finding(finding, primary=True)) + "\n")
    return finding.severity.exit_code


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        from conntest.tui.app import run_tui
    except ImportError:
        raise UsageError("the TUI is not part of this build yet; use 'conntest check'") from None
    result: int = run_tui(args)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    stdout, stderr, stdin = sys.stdout, sys.stderr, sys.stdin
    try:
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
        if args.command in (None, "tui", "demo"):
            if args.command is None:
                args = parser.parse_args(["tui"])
            args.demo = args.command == "demo"
            return cmd_tui(args)
    except ProfileError as exc:
        for problem in exc.problems:
            print(f"conntest: {problem}", file=stderr)
        return EXIT_UNKNOWN
    except ConntestError as exc:
        print(f"conntest: {exc}", file=stderr)
        return EXIT_UNKNOWN
    except KeyboardInterrupt:
        print("conntest: interrupted", file=stderr)
        return EXIT_UNKNOWN
    parser.print_help(stderr)
    return EXIT_UNKNOWN


if __name__ == "__main__":
    sys.exit(main())
