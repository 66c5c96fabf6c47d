"""``conntest check`` through the batch runner: ``--batch``, and the monitoring formats.

The front end of :mod:`conntest.batch.runner`: it turns options into entries
(from the batch file, or one entry from ``--user`` and the password options),
reports a malformed batch file entry by entry before anything runs, applies
the lockout rules, draws the progress bar, streams JSON Lines, renders the
chosen format to standard output or atomically to ``--output``, and returns
the exit code: the worst account's (0 ok, 1 warning, 2 critical, 3 unknown).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, TextIO

from conntest.batch.config import AccountEntry, EntryDefaults, load_batch
from conntest.batch.options import advice_date, min_auth_interval
from conntest.batch.progress import progress_for
from conntest.batch.runner import AccountResult, BatchResult, Retain, make_executor, run_batch
from conntest.embedded_lab import lab_fields
from conntest.errors import ConntestError, UsageError
from conntest.inputs.passwords import PasswordSource, password_from_args
from conntest.inputs.selection import load_profile_set, protocols_of, select_profiles
from conntest.inputs.values import option_value, parse_address
from conntest.interrupts import run_quietly
from conntest.lockout import open_ledger
from conntest.output_file import write_report
from conntest.probes.dns_probe import ResolverConfig
from conntest.profile import Profile
from conntest.profiles import ProfileSet
from conntest.redact import Redactor
from conntest.render.redacted_output import redact_output
from conntest.results.thresholds import Thresholds

__all__ = ["check_batch"]

EXIT_UNKNOWN = 3


def check_batch(
    args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: TextIO | None
) -> int:
    """Run ``check`` with ``--batch`` or a monitoring format; the exit code.

    Bad input is raised (:class:`~conntest.errors.ConntestError`) for the CLI's
    one funnel, which prints it and exits 3 (UNKNOWN under ``--format nagios``).

    With ``--lab`` and no ``--state-file`` the lockout state is a throwaway one:
    the lab's refusals are scripted and its addresses anyone's, so they must not
    hold back the real checks of an address (a lab ``wrong-password`` for
    alice@contoso.com made the next real check of alice ``auth-skipped``).
    """
    if args.state_file is not None or not getattr(args, "lab", None):
        return _check_batch(args, stdout, stderr, stdin)
    with tempfile.TemporaryDirectory(prefix="conntest-lab-state-") as folder:
        lab_args = argparse.Namespace(**{**vars(args), "state_file": Path(folder) / "state.json"})
        return _check_batch(lab_args, stdout, stderr, stdin)


def _check_batch(
    args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: TextIO | None
) -> int:
    single = not args.batch
    redact = Redactor()
    chosen_profiles: list[Profile] = []
    password = PasswordSource("none")
    if single:
        if not args.user:
            raise UsageError("--user is required (or --batch FILE)")
        user = option_value("--user", parse_address, args.user)
        if args.try_stripped:
            raise UsageError("--try-stripped is for an interactive check in text or json")
        chosen_profiles = select_profiles(args.profile_file, args.profile, stderr)
        if not getattr(args, "oauth", False):
            password = PasswordSource.given(password_from_args(args, stdin))
        redact = Redactor.for_credentials(user, password.read())
        entries = [_single_entry(args, user, chosen_profiles, password, {})]
    else:
        if args.user or args.password_env or args.password_file or args.password_stdin:
            raise UsageError(
                "--batch takes the accounts and their password sources from the batch file; "
                "drop --user and the --password options"
            )
        if args.no_password:
            raise UsageError("--no-password: leave password_env/password_file out of an entry")
        if args.try_stripped:
            raise UsageError("--try-stripped is for one interactive check, not a batch")
        profiles = _profiles(args, stderr)
        entries = _batch_entries(args, profiles, {})
        if getattr(args, "lab", None) and any(e.oauth is not None for e in entries):
            # The lab's device code signs in one user (a device code names none).
            raise UsageError(
                "--lab with --batch: the lab signs in one OAuth user; check OAuth accounts "
                "against the lab one at a time (--user ADDRESS --oauth)"
            )
    thresholds = Thresholds(args.warning, args.critical, getattr(args, "cert_days", None))
    today, window = advice_date(args), args.retirement_window
    interval = min_auth_interval(args)
    ledger = open_ledger(args.state_file, interval)
    progress = progress_for(stderr, len(entries)) if not single else None
    stream_jsonl = args.format == "jsonl" and args.output is None
    jsonl_lines: list[str] = []
    stream = None if single else _stream_for(args.format)

    def on_result(result: AccountResult) -> None:
        if stream is not None:
            stream.add(result)
        if args.format == "jsonl":
            from conntest.render.jsonl import render_jsonl_line

            line = redact_output("jsonl", render_jsonl_line(result) + "\n", redact)
            if stream_jsonl:
                stdout.write(line)
                stdout.flush()
            else:
                jsonl_lines.append(line)
        if progress is not None:
            progress(result)

    async def run() -> BatchResult:
        loop = asyncio.get_running_loop()
        widest = max((len(e.profiles) for e in entries), default=1)
        loop.set_default_executor(make_executor(args.concurrency, widest))
        async with lab_fields(args) as from_lab:
            chosen = entries
            if from_lab:
                chosen = (
                    [_single_entry(args, entries[0].address, chosen_profiles, password, from_lab)]
                    if single
                    else _batch_entries(args, _profiles(args, None), from_lab)
                )
            return await run_batch(
                [dataclasses.replace(e, today=today, retirement_window=window) for e in chosen],
                concurrency=args.concurrency,
                thresholds=thresholds,
                ledger=ledger,
                on_result=on_result,
                protocols=protocols_of(getattr(args, "protocol", None)),
                retain=_retain(args.format, single),
                deadline=getattr(args, "deadline", None),
            )

    try:
        batch = run_quietly(run())
    except ConntestError:
        raise
    except Exception as exc:  # a bug: one line, never a secret
        message = redact(f"internal error: {exc.__class__.__name__}: {exc}")
        print(f"conntest: {message}", file=stderr)
        if args.format == "nagios":
            from conntest.render.nagios import render_unknown

            _emit(args, stdout, render_unknown(message))
        return EXIT_UNKNOWN
    finally:
        if progress is not None:
            progress.close()
    for warning in batch.warnings:
        print(f"conntest: {warning}", file=stderr)
    if single and args.format in {"text", "json"}:
        return _single_report(args, batch.results[0], thresholds, stdout, stderr, redact)
    text = stream.finish(batch) if stream is not None else _render(args, batch, thresholds, single)
    if text is not None:
        _emit(args, stdout, redact_output(args.format, text, redact))
    elif args.format == "jsonl" and args.output is not None:
        _emit(args, stdout, "".join(jsonl_lines))
    return batch.exit_code


def _render(
    args: argparse.Namespace, batch: BatchResult, thresholds: Thresholds, single: bool
) -> str | None:
    if args.format == "nagios":
        from conntest.render.nagios import render_nagios

        return render_nagios(batch, thresholds, single=single)
    if args.format == "prometheus":
        from conntest.render.prometheus import render_prometheus

        return render_prometheus(batch)
    if args.format == "junit":
        from conntest.render.junit import render_junit

        return render_junit(batch)
    if args.format == "json":
        from conntest.render.jsonl import render_batch_json

        return render_batch_json(batch) + "\n"
    if args.format == "jsonl":
        return None  # rendered as each account finished
    return render_batch_text(batch)


class _Stream(Protocol):
    def add(self, result: AccountResult) -> None: ...

    def finish(self, batch: BatchResult) -> str: ...


class _PrometheusStream:
    def __init__(self) -> None:
        from conntest.render.prometheus import BatchCollector

        self.collector = BatchCollector()

    def add(self, result: AccountResult) -> None:
        self.collector.add(result)

    def finish(self, batch: BatchResult) -> str:
        from conntest.render.prometheus import render_collected

        self.collector.finish(batch)
        return render_collected(self.collector)


def _stream_for(fmt: str) -> _Stream | None:
    """The renderer a batch's results are streamed into as they finish, for formats with one."""
    if fmt == "prometheus":
        return _PrometheusStream()
    if fmt == "junit":
        from conntest.render.junit import JUnitStream

        return JUnitStream()
    return None


def _retain(fmt: str, single: bool) -> Retain:
    """What the runner keeps of each result: the reports only where the renderer reads them.

    JSON Lines, Prometheus and JUnit are rendered as each account finishes
    (only their samples or test cases are kept) and the text table needs no
    reports.  The JSON document and Nagios read every report at the end.
    """
    if single:
        return "all"
    if fmt == "jsonl":
        return "none"
    return "summary" if fmt in {"text", "prometheus", "junit"} else "all"


def render_batch_text(batch: BatchResult) -> str:
    """A table for people: one line per account, worst first, then the totals."""
    counts = batch.counts()
    rows = sorted(batch.results, key=lambda r: -r.state.exit_code)
    width = max((len(r.address) for r in rows), default=7)
    code_width = max((len(r.code) for r in rows), default=4)
    lines = []
    for r in rows:
        note = f"  ({r.skip_reason})" if r.skip_reason else f"  ({r.error})" if r.error else ""
        lines.append(
            f"{r.verdict.upper():<8}  {r.address:<{width}}  {r.code:<{code_width}}  "
            f"{r.elapsed_ms / 1000:6.1f} s  {r.title}{note}"
        )
    summary = ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n)
    lines.append(
        f"{len(rows)} account{'s' if len(rows) != 1 else ''}: {summary} "
        f"({batch.elapsed_ms / 1000:.1f} s)"
    )
    return "\n".join(lines) + "\n"


def _single_report(
    args: argparse.Namespace,
    result: AccountResult,
    thresholds: Thresholds,
    stdout: TextIO,
    stderr: TextIO,
    redact: Redactor,
) -> int:
    """``--user`` in text or json (with ``--min-auth-interval`` or thresholds): the usual report.

    A threshold crossed (``-w``/``-c``/``--cert-days``) is in it: the JSON's
    ``verdict`` is the exit code's, with a ``thresholds`` list; the text names
    each one, first when it made the check worse than the report alone.
    """
    if result.report is None:
        print(
            f"conntest: {result.address}: {result.code}: {result.error or result.title}",
            file=stderr,
        )
        return EXIT_UNKNOWN
    from conntest.render.json_report import render_json, render_json_judged
    from conntest.render.text_report import render_text
    from conntest.results.thresholds import crossed

    report = redact.value(result.report)  # before the renderer wraps or escapes
    over = crossed(report, thresholds)
    if args.format == "json":
        judged = over or result.state != report.severity
        text = render_json_judged(report, result.state, over) if judged else render_json(report)
        text += "\n"
    else:
        text = render_text(report, args.verbose)
        named = "".join(f"{t.severity.label.upper()} ({t.option}): {t.title}\n" for t in over)
        if result.state > report.severity:
            text = f"{named}\n{text}"  # the verdict the exit code gives comes first
        elif named:
            text += f"\nThresholds crossed:\n{named}"
    _emit(args, stdout, redact_output(args.format, text, redact))
    return result.exit_code


def _emit(args: argparse.Namespace, stdout: TextIO, text: str) -> None:
    output: Path | None = args.output
    if output is None:
        stdout.write(text)
        stdout.flush()
        return
    try:
        write_report(output, text.encode("utf-8"), 0o644)
    except OSError as exc:
        raise UsageError(f"--output: cannot write {output}: {exc.strerror or exc}") from None


def _profiles(args: argparse.Namespace, stderr: TextIO | None) -> ProfileSet:
    """Every loaded profile (``stderr=None``: a second load, its warnings already shown)."""
    return load_profile_set(args.profile_file, args.profile, stderr)


def _defaults(args: argparse.Namespace, from_lab: dict[str, object]) -> EntryDefaults:
    resolver = from_lab.get("resolver")
    nameserver = args.nameserver
    resolve = tuple(args.resolve)
    if isinstance(resolver, ResolverConfig):
        nameserver, resolve = resolver.nameserver, resolver.pinned
    oauth = _oauth_defaults(args, from_lab)
    return EntryDefaults(
        **oauth,  # type: ignore[arg-type]
        profiles=tuple(args.profile),
        imap=from_lab.get("imap_server", args.imap),  # type: ignore[arg-type]
        smtp=from_lab.get("smtp_server", args.smtp),  # type: ignore[arg-type]
        resolve=resolve,
        nameserver=nameserver,
        ca_file=from_lab.get("ca_file", args.ca_file),  # type: ignore[arg-type]
        tls_max=from_lab.get("tls_max", args.tls_max),  # type: ignore[arg-type]
        expected_networks=tuple(
            from_lab.get("expected_networks", args.expected_network)  # type: ignore[arg-type]
        ),
        timeout=args.timeout,
    )


def _oauth_defaults(args: argparse.Namespace, from_lab: dict[str, object]) -> dict[str, object]:
    """The OAuth settings the command line gives every entry (``--oauth``, ``--client-id``…).

    The settings file is read only if an OAuth entry needs it; under ``--lab`` the lab is
    the identity platform and the file is not read at all.
    """
    from conntest.oauth.defaults import oauth_defaults

    fields: dict[str, object] = {
        "auth": "oauth" if getattr(args, "oauth", False) else "password",
        "client_id": getattr(args, "client_id", None),
        "tenant": getattr(args, "tenant", None),
        "authority": None,
    }
    given = getattr(args, "authority", None)
    if given is not None:
        from conntest.inputs.values import option_value
        from conntest.oauth.defaults import parse_authority

        fields["authority"], from_path = option_value("--authority", parse_authority, given)
        fields["tenant"] = from_path or fields["tenant"]
    if getattr(args, "lab", None):  # checked before the lab starts, then again inside it
        lab_authority = getattr(args, "lab_authority", None)
        if from_lab and isinstance(lab_authority, str):
            fields["authority"] = fields["authority"] or lab_authority
        fields["lab_signin"] = True
    else:
        config = getattr(args, "config", None)
        fields["settings"] = lambda: oauth_defaults(config)
    return fields


def _batch_entries(
    args: argparse.Namespace, profiles: ProfileSet, from_lab: dict[str, object]
) -> list[AccountEntry]:
    defaults = _defaults(args, from_lab)
    batch = load_batch(args.batch, profiles, defaults)
    batch.raise_for_problems()
    return [_on_the_lab(entry, defaults, from_lab) for entry in batch.entries]


def _on_the_lab(
    entry: AccountEntry, defaults: EntryDefaults, from_lab: dict[str, object]
) -> AccountEntry:
    """Under ``--lab``, an entry on the lab's IMAP server also gets its port-143 listener
    (an entry with its own ``imap:`` keeps it for every profile), and the lab's servers it
    uses stand in for the profile's (its findings name the profile's ports)."""
    lab_servers = from_lab.get("stand_ins")
    stand_ins = frozenset(
        p
        for p in ("imap", "smtp")
        if isinstance(lab_servers, frozenset)
        and p in lab_servers
        and getattr(entry, p) == getattr(defaults, p)
    )
    starttls = from_lab.get("imap_starttls_server")
    if starttls is None or entry.imap != defaults.imap:
        return dataclasses.replace(entry, stand_ins=stand_ins)
    return dataclasses.replace(entry, imap_starttls=starttls, stand_ins=stand_ins)  # type: ignore[arg-type]


def _single_entry(
    args: argparse.Namespace,
    user: str,
    profiles: Sequence[Profile],
    password: PasswordSource,
    from_lab: dict[str, object],
) -> AccountEntry:
    d = _defaults(args, from_lab)
    oauth = None
    if d.auth == "oauth":
        from conntest.batch.config import single_oauth_account

        oauth = single_oauth_account(d)
    return AccountEntry(
        oauth=oauth,
        address=user,
        profiles=tuple(profiles),
        password=password,
        imap=d.imap,
        smtp=d.smtp,
        resolve=d.resolve,
        nameserver=d.nameserver,
        ca_file=d.ca_file,
        tls_max=d.tls_max,
        expected_networks=d.expected_networks,
        timeout=d.timeout,
        imap_starttls=from_lab.get("imap_starttls_server"),  # type: ignore[arg-type]
        stand_ins=from_lab.get("stand_ins", frozenset()),  # type: ignore[arg-type]
        where="command line",
    )
