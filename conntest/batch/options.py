"""Command-line options of ``check --batch`` and ``serve``, added to the CLI's parsers.

Kept apart from the runner so that building the parser stays cheap: this
module imports the standard library and, when a value is checked,
:mod:`conntest.inputs.values` (the validators every front end shares).
"""

from __future__ import annotations

import argparse
import os

from conntest.inputs.argtypes import path

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12: cold start)
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from pathlib import Path

__all__ = [
    "DEFAULT_LISTEN",
    "DEFAULT_MIN_AUTH_INTERVAL",
    "MONITORING_FORMATS",
    "TODAY_ENV",
    "add_check_arguments",
    "add_retirement_arguments",
    "add_serve_arguments",
    "advice_date",
    "min_auth_interval",
    "wants_batch_path",
]

FORMATS = ("text", "json", "jsonl", "nagios", "prometheus", "junit")
MONITORING_FORMATS = frozenset({"nagios", "prometheus", "junit"})
"""Formats that mean "a machine runs this again and again": the lockout rules apply by default."""
DEFAULT_MIN_AUTH_INTERVAL = 900.0
DEFAULT_LISTEN = "127.0.0.1:9745"


MAX_INTERVAL = 30 * 24 * 3600.0
"""``--min-auth-interval`` at most 30 days."""


def _concurrency(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 1000:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 1000, found {value!r}")
    return int(value)


def _seconds(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: finite seconds from ``low`` to ``high`` (``nan``, ``1e9`` refused)."""

    def seconds(value: str) -> float:
        from conntest.inputs.values import InvalidValue, parse_seconds

        try:
            return parse_seconds(value, low, high)
        except InvalidValue as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return seconds


_interval = _seconds(0, MAX_INTERVAL)
_timeout = _seconds(1, 600)


def _range(value: str) -> object:
    from conntest.results.thresholds import Range

    try:
        return Range.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cert_days(value: str) -> object:
    from conntest.results.cert_days import CertDays

    try:
        return CertDays.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` to listen on; port 0 (any free port) is allowed, an empty host is loopback."""
    from conntest.inputs.values import InvalidValue, parse_host_port

    text = value.strip()
    host, sep, port = text.rpartition(":")
    if sep and port == "0":
        text = f"{host}:1"
    if sep and not host:
        text = f"127.0.0.1{text}"
    try:
        parsed_host, parsed_port = parse_host_port(text)
    except InvalidValue as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return parsed_host, 0 if port == "0" else parsed_port


def _state_file(text: str) -> Path:
    """A file the lockout state can live in: refused up front, not skipped or destroyed at run time.

    A directory (or a path under a file) would make every run fall back to
    "no state, skip authentication", which reads as a warning about the
    account instead of the mistake in the option; a device or FIFO would be
    replaced by the state's atomic rename; a directory that does not exist
    is a typo, not a tree to create (:mod:`conntest.inputs.state_path`).
    """
    from pathlib import Path

    from conntest.inputs.state_path import state_file_problem

    path = Path(text).expanduser()
    problem = state_file_problem(path)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{text!r}: {problem}")
    return path


def _lockout_arguments(parser: argparse.ArgumentParser, default_note: str) -> None:
    parser.add_argument(
        "--min-auth-interval",
        type=_interval,
        metavar="SECONDS",
        help="do not authenticate an account again within SECONDS of its last failed "
        f"authentication; check it connectivity-only and say why ({default_note}; 0: off)",
    )
    parser.add_argument(
        "--state-file",
        type=_state_file,
        metavar="PATH",
        help="where the lockout rules keep their state (default: auth-state.json in the "
        "state directory, ~/.local/state/conntest on Linux, %%LOCALAPPDATA%%\\conntest on "
        "Windows; docs/files.md)",
    )


def add_check_arguments(check: argparse.ArgumentParser) -> None:
    """The batch and monitoring options of ``conntest check``."""
    check.add_argument(
        "--batch",
        type=path,
        metavar="YAML",
        help="check every account in this file (see docs/monitoring.md) instead of --user",
    )
    check.add_argument(
        "--concurrency",
        type=_concurrency,
        default=10,
        metavar="N",
        help="--batch: check at most N accounts at once (default 10)",
    )
    check.add_argument(
        "--warning",
        "-w",
        type=_range,
        metavar="RANGE",
        help="warning threshold on each account's total time, in seconds "
        "(Monitoring Plugins range syntax: 10, 5:20, @10:20)",
    )
    check.add_argument(
        "--critical",
        "-c",
        type=_range,
        metavar="RANGE",
        help="critical threshold on each account's total time, in seconds",
    )
    check.add_argument(
        "--deadline",
        type=_seconds(1, 86400),
        metavar="SECONDS",
        help="--batch: finish the whole batch within SECONDS; accounts that cannot start "
        "in time are UNKNOWN (batch-deadline), the others' timeouts shrink to fit",
    )
    check.add_argument(
        "--cert-days",
        type=_cert_days,
        metavar="WARN[,CRIT]",
        help="warning (critical) when a server certificate expires within WARN (CRIT) days, "
        "like check_smtp -D 30,14",
    )
    _lockout_arguments(
        check,
        f"default {DEFAULT_MIN_AUTH_INTERVAL:g} with --batch and the nagios, prometheus "
        "and junit formats, off for a single check in text or json",
    )
    check.add_argument(
        "--output",
        type=path,
        metavar="FILE",
        help="write the report to FILE atomically instead of standard output "
        "(for node_exporter's textfile collector)",
    )


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    """The options of ``conntest serve``."""
    serve.add_argument(
        "--listen",
        type=_listen,
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"where to listen (default {DEFAULT_LISTEN}; the exporter has no authentication)",
    )
    serve.add_argument(
        "--config",
        type=path,
        required=True,
        metavar="YAML",
        help="the accounts and where their passwords are (the batch file format)",
    )
    serve.add_argument(
        "--profile-file",
        action="append",
        default=[],
        type=path,
        metavar="PATH",
        help="load an extra profile file",
    )
    serve.add_argument(
        "--concurrency",
        type=_concurrency,
        default=10,
        metavar="N",
        help="run at most N probes at once (default 10)",
    )
    serve.add_argument(
        "--timeout",
        type=_timeout,
        default=None,
        metavar="SECONDS",
        help="deadline of one probe when the config sets none (default: the scrape "
        "timeout Prometheus sends, else 60)",
    )
    _lockout_arguments(serve, f"default {DEFAULT_MIN_AUTH_INTERVAL:g}")
    serve.add_argument(
        "--min-probe-interval",
        type=_interval,
        default=60.0,
        metavar="SECONDS",
        help="answer a probe with the account's last successful result if it is younger "
        "than SECONDS, instead of signing in again (default 60; 0: off)",
    )
    serve.add_argument(
        "--max-connections",
        type=_concurrency,
        default=256,
        metavar="N",
        help="serve at most N HTTP connections at once; close further ones (default 256)",
    )


def wants_batch_path(args: argparse.Namespace) -> bool:
    """Whether ``check`` goes through the batch runner (a batch, or a monitoring option)."""
    return bool(
        getattr(args, "batch", None)
        or args.format in MONITORING_FORMATS
        or args.format == "jsonl"
        or getattr(args, "min_auth_interval", None) is not None
        or getattr(args, "warning", None) is not None
        or getattr(args, "critical", None) is not None
        or getattr(args, "cert_days", None) is not None
        or getattr(args, "deadline", None) is not None
        or getattr(args, "output", None) is not None
    )


def min_auth_interval(args: argparse.Namespace) -> float:
    """The interval in force: the option, else the default for how conntest is used."""
    given: float | None = getattr(args, "min_auth_interval", None)
    if given is not None:
        return given
    if args.command == "serve" or getattr(args, "batch", None) or args.format in MONITORING_FORMATS:
        return DEFAULT_MIN_AUTH_INTERVAL
    return 0.0


TODAY_ENV = "CONNTEST_TODAY"
"""The environment variable ``--today`` defaults to (``YYYY-MM-DD``)."""
DEFAULT_RETIREMENT_WINDOW = 60


def _date(value: str) -> date:
    from datetime import date

    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, found {value!r}") from None


def _window(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 3650:
        raise argparse.ArgumentTypeError(
            f"expected a number of days from 0 to 3650, found {value!r}"
        )
    return int(value)


def add_retirement_arguments(parser: argparse.ArgumentParser) -> None:
    """``--today`` and ``--retirement-window``: the date-aware advice on basic authentication."""
    parser.add_argument(
        "--today",
        type=_date,
        metavar="YYYY-MM-DD",
        help=f"the date the advice on Microsoft's December 2026 change counts from (default "
        f"${TODAY_ENV}, else the local date): to plan ahead, or to test",
    )
    parser.add_argument(
        "--retirement-window",
        type=_window,
        default=DEFAULT_RETIREMENT_WINDOW,
        metavar="DAYS",
        help="a successful password sign-in to SMTP is a warning from DAYS days before "
        f"Microsoft disables SMTP basic authentication by default (default "
        f"{DEFAULT_RETIREMENT_WINDOW}), information before that",
    )


def advice_date(args: argparse.Namespace | None = None) -> date:
    """``--today``, else ``$CONNTEST_TODAY``, else the local date; read when a check starts."""
    from datetime import date

    from conntest.errors import UsageError

    given: date | None = getattr(args, "today", None) if args is not None else None
    if given is not None:
        return given
    env = os.environ.get(TODAY_ENV, "").strip()
    if env:
        try:
            return date.fromisoformat(env)
        except ValueError:
            raise UsageError(f"{TODAY_ENV}: expected a date YYYY-MM-DD, found {env!r}") from None
    return date.today()
