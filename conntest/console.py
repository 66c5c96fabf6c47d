"""The ``conntest`` command: :func:`conntest.cli.main`, clean under Ctrl-C at any moment.

The console script points here, not at the CLI, so that a Ctrl-C while
Python is still importing conntest's modules or parsing the options (half a
second on a loaded machine) is the same one line as one during the check:
``conntest: interrupted`` on stderr, ``CONNTEST UNKNOWN - …`` on stdout
under ``--format nagios``, exit 3.  This module imports only ``signal`` and
``sys`` (through :mod:`conntest.interrupts`) before it starts catching.
"""

from __future__ import annotations

import signal
import sys

from conntest.interrupts import EXIT_INTERRUPTED, INTERRUPTED_LINE, NAGIOS_INTERRUPTED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["console"]


def _wants_nagios(argv: Sequence[str]) -> bool:
    for index, arg in enumerate(argv):
        if arg == "--format" and argv[index + 1 : index + 2] == ["nagios"]:
            return True
        if arg == "--format=nagios":
            return True
    return False


def _interrupted(argv: Sequence[str]) -> int:
    """The one line of an interrupted run (and Nagios's status line); exit 3."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
    try:
        if _wants_nagios(argv):
            sys.stdout.write(NAGIOS_INTERRUPTED)
            sys.stdout.flush()
        print(INTERRUPTED_LINE, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # a closed pipe: nothing more to say
        pass
    return EXIT_INTERRUPTED


def console(argv: Sequence[str] | None = None) -> int:
    """The ``conntest`` command: :func:`conntest.cli.main`, clean under Ctrl-C at any moment.

    A Ctrl-C while Python is still importing conntest or parsing the options
    (half a second on a loaded machine) is the same one line as one during the
    check.  Once ``main`` has returned, the report is out: a Ctrl-C while the
    interpreter winds down (worker threads, buffers) ends the process at once
    with the run's own exit code instead of a signal death.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        from conntest.cli import main

        code = main(args)
    except KeyboardInterrupt:
        return _interrupted(args)
    import os

    def finish(_signum: int, _frame: Any) -> None:
        os._exit(code)

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    try:
        signal.signal(signal.SIGINT, finish)
    except ValueError:  # not the main thread (a test calling console()): nothing to wind down
        pass
    return code
