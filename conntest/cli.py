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

from conntest.cli_parser import TLS_VERSIONS, build_parser, parser_for
from conntest.errors import ConntestError, UsageError

# Starting must cost a small multiple of `python -c pass` (issue 12;
# benchmarks/cold_start_benchmark.py measures it, tests/unit/
# test_imports_per_command.py checks what each command leaves out): the lines
# above import argparse and small modules of conntest's own, nothing else.
# typing, pathlib, the validators, asyncio, the engine and its libraries are
# imported where they are used, and only the subcommand being run gets its
# arguments (conntest.cli_parser).
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import tempfile
    from collections.abc import Sequence
    from pathlib import Path
    from typing import TextIO

    from conntest.model import Report
    from conntest.profile import Profile

__all__ = ["EXIT_UNKNOWN", "TLS_VERSIONS", "build_parser", "main"]

EXIT_UNKNOWN = 3


async def _check(
    args: argparse.Namespace, user: str, password: str | None, profiles: list[Profile]
) -> Report:
    import asyncio
    import concurrent.futures

    from conntest.batch.options import advice_date
    from conntest.embedded_lab import lab_fields
    from conntest.engine import CheckRequest, run_check
    from conntest.inputs.selection import protocols_of
    from conntest.probes.dns_probe import ResolverConfig

    loop = asyncio.get_running_loop()
    # Sign-in requests and the lockout ledger run in worker threads; the default pool
    # (cpu+4) would queue them behind each other.
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=32))
    async with lab_fields(args) as from_lab, _LabCache() as lab_cache:
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
            fields.update(_oauth_fields(args, fields, lab_authority, lab_cache))
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


class _LabCache:
    """The token cache of a lab sign-in: a temporary folder removed when the run ends.

    The lab's tokens never go into the real token cache, nor stay behind in
    the temporary directory, whichever way the run ends (exit, error, Ctrl-C).
    The folder is made only when asked for (``check --lab … --oauth``).
    """

    def __init__(self) -> None:
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    def path(self) -> Path:
        import atexit
        import shutil
        import tempfile
        from pathlib import Path

        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="conntest-lab-oauth-")
            # A sign-in thread still finishing after Ctrl-C would write the cache again.
            atexit.register(shutil.rmtree, self._folder.name, True)
        return Path(self._folder.name) / "cache.json"

    async def __aenter__(self) -> _LabCache:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._folder is not None:
            self._folder.cleanup()


def _oauth_fields(
    args: argparse.Namespace,
    fields: dict[str, object],
    lab_authority: object,
    lab_cache: _LabCache,
) -> dict[str, object]:
    """``oauth`` and ``login_command`` for the request (``--oauth``); MSAL is not imported here."""
    from pathlib import Path

    from conntest.oauth.command import build_plan

    ca_file = fields.get("ca_file")
    cache_file = None
    saved_sign_in = False
    if lab_authority is not None:
        from conntest.lab import SCENARIOS

        cache_file = lab_cache.path()
        saved_sign_in = SCENARIOS[args.lab].oauth.starts_signed_in
    plan, command = build_plan(
        args,
        ca_file=ca_file if isinstance(ca_file, Path) else None,
        cache_file=cache_file,
        lab_authority=str(lab_authority) if lab_authority is not None else None,
        lab_saved_sign_in=saved_sign_in,
    )
    return {"oauth": plan, "login_command": command}


def cmd_check(
    args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: TextIO | None
) -> int:
    from conntest.batch.options import wants_batch_path
    from conntest.inputs.passwords import password_from_args
    from conntest.inputs.selection import select_profiles
    from conntest.inputs.values import option_value, parse_address
    from conntest.interrupts import run_quietly
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
        report = run_quietly(_check(args, user, password, profiles))
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
        known = ", ".join(SCENARIOS)
        raise UsageError(f"--scenario: unknown lab scenario {args.scenario!r}; known: {known}")
    if args.state_file is not None:
        from conntest.inputs.state_path import state_file_problem

        problem = state_file_problem(args.state_file)
        if problem is not None:  # its atomic rename would replace a device or FIFO
            raise UsageError(f"--state-file {args.state_file}: {problem}")
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
    from conntest.printable import printable

    if args.text == "-" and stdin is None:
        raise UsageError("explain -: expected the text on standard input, found it closed")
    text = stdin.read(64 * 1024) if args.text == "-" and stdin is not None else args.text
    if not text.strip():  # nothing to explain: a usage error, not an unknown answer
        if args.text == "-":
            raise UsageError("explain -: standard input held no text to explain")
        raise UsageError(
            "explain: TEXT is empty (give the error text, or - to read standard input)"
        )
    # A pasted bounce may carry escape sequences: they must not drive the terminal.
    text = printable(text.replace("\r\n", "\n"), newlines=True)
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
        from conntest.render.finding_text import render_finding

        stdout.write("\n".join(render_finding(finding, primary=True)) + "\n")
    return finding.severity.exit_code


def cmd_tui(args: argparse.Namespace) -> int:
    from conntest.batch.options import advice_date

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


def _readable(
    exc: ConntestError, parser: argparse.ArgumentParser, raw: Sequence[str]
) -> ConntestError:
    """argparse's "required: profiles_command" said as what was expected, by the command's parser.

    The parser that raised is the deepest subcommand named on the line
    (``profiles``, ``oauth login``): found by following the words that name
    subcommands, as argparse itself does.
    """
    if exc.problems or not str(exc).startswith("the following arguments are required"):
        return exc
    from conntest.inputs.usage import readable_usage_error

    deepest = parser
    for word in raw:
        chosen = next(
            (
                action.choices[word]
                for action in deepest._actions
                if isinstance(action, argparse._SubParsersAction)
                and isinstance(action.choices, dict)
                and word in action.choices
            ),
            None,
        )
        if chosen is not None:
            deepest = chosen
    return UsageError(readable_usage_error(deepest, str(exc)))


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    stdout, stderr, stdin = sys.stdout, sys.stderr, sys.stdin
    parser = parser_for(raw)
    try:
        args = parser.parse_args(raw)
    except ConntestError as exc:
        return _failure(_readable(exc, parser, raw), _format_of(raw), stdout, stderr)
    if sys.platform == "win32":  # only Windows has Ctrl-Break (SIGBREAK); elsewhere a no-op
        from conntest.interrupts import break_as_interrupt

        break_as_interrupt()  # Ctrl-Break ends a run as cleanly as Ctrl-C
    try:
        return _dispatch(parser, args, stdout, stderr, stdin)
    except ConntestError as exc:
        return _failure(exc, getattr(args, "format", None), stdout, stderr)
    except KeyboardInterrupt:
        import warnings

        # Coroutines that the interrupt left unstarted are dropped with the traceback.
        warnings.filterwarnings(
            "ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning
        )
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
    if args.command == "completion":
        from conntest.completion import completion_script

        stdout.write(completion_script(args.shell))
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
            args = build_parser({"tui"}).parse_args(["tui"])
        args.demo = args.command == "demo"
        return cmd_tui(args)
    parser.print_help(stderr)
    return EXIT_UNKNOWN


if __name__ == "__main__":
    sys.exit(main())
