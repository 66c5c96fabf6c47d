"""Command-line options of ``check --batch`` and ``serve``, added to the CLI's parsers.

Kept apart from the runner so that building the parser stays cheap: this
module imports nothing but the standard library.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = [
    "DEFAULT_LISTEN",
    "DEFAULT_MIN_AUTH_INTERVAL",
    "MONITORING_FORMATS",
    "add_check_arguments",
    "add_serve_arguments",
    "min_auth_interval",
    "wants_batch_path",
]

FORMATS = ("text", "json", "jsonl", "nagios", "prometheus", "junit")
MONITORING_FORMATS = frozenset({"nagios", "prometheus", "junit"})
"""Formats that mean "a machine runs this again and again": the lockout rules apply by default."""
DEFAULT_MIN_AUTH_INTERVAL = 900.0
DEFAULT_LISTEN = "127.0.0.1:9745"


def _concurrency(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 1000:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 1000, found {value!r}")
    return int(value)


def _interval(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, found {value!r}") from None
    if not 0 <= seconds <= 30 * 24 * 3600:
        raise argparse.ArgumentTypeError("the interval must be between 0 and 30 days")
    return seconds


def _range(value: str) -> object:
    from conntest.batch.thresholds import Range

    try:
        return Range.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, found {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


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
        type=Path,
        metavar="PATH",
        help="where the lockout rules keep their state (default: auth-state.json in the "
        "state directory, ~/.local/state/conntest on Linux, %%LOCALAPPDATA%%\\conntest on "
        "Windows; docs/files.md)",
    )


def add_check_arguments(check: argparse.ArgumentParser) -> None:
    """The batch and monitoring options of ``conntest check``."""
    check.add_argument(
        "--batch",
        type=Path,
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
        type=_range,
        metavar="RANGE",
        help="warning threshold on each account's total time, in seconds "
        "(Monitoring Plugins range syntax: 10, 5:20, @10:20)",
    )
    check.add_argument(
        "--critical",
        type=_range,
        metavar="RANGE",
        help="critical threshold on each account's total time, in seconds",
    )
    _lockout_arguments(
        check,
        f"default {DEFAULT_MIN_AUTH_INTERVAL:g} with --batch and the nagios, prometheus "
        "and junit formats, off for a single check in text or json",
    )
    check.add_argument(
        "--output",
        type=Path,
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
        type=Path,
        required=True,
        metavar="YAML",
        help="the accounts and where their passwords are (the batch file format)",
    )
    serve.add_argument(
        "--profile-file",
        action="append",
        default=[],
        type=Path,
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
        type=float,
        default=None,
        metavar="SECONDS",
        help="deadline of one probe when the config sets none (default: the scrape "
        "timeout Prometheus sends, else 60)",
    )
    _lockout_arguments(serve, f"default {DEFAULT_MIN_AUTH_INTERVAL:g}")


def wants_batch_path(args: argparse.Namespace) -> bool:
    """Whether ``check`` goes through the batch runner (a batch, or a monitoring option)."""
    return bool(
        getattr(args, "batch", None)
        or args.format in MONITORING_FORMATS
        or args.format == "jsonl"
        or getattr(args, "min_auth_interval", None) is not None
        or getattr(args, "warning", None) is not None
        or getattr(args, "critical", None) is not None
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
