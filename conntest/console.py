"""The ``conntest`` command: :func:`conntest.cli.main`, clean under Ctrl-C and on a closed stdout.

The console script points here, not at the CLI, so that a Ctrl-C while
Python is still importing conntest's CLI or parsing the options (half a
second on a loaded machine) is the same one line as one during the check:
``conntest: interrupted`` on stderr, ``CONNTEST UNKNOWN - …`` on stdout
under ``--format nagios``, exit 3.  This module imports only ``sys`` (even
``_signal``, the C module under ``signal``, waits until the catching has
begun), and :func:`console` starts catching at its first statement; what
comes before (Python's own start, the script's ``import`` of this module)
is Python's, and a Ctrl-C there is Python's traceback (docs/cli.md).

A reader that goes away (``conntest … | head -1``, ``| true``) or a stdout
closed outright (``>&-``) ends no run with a traceback: the output nobody
can read is dropped, quietly, as Unix tools do on a closed pipe, and the run
finishes with its own exit code (:func:`_take_over_streams`).
"""

import sys  # and nothing else: not even ``from __future__`` (a module too), hence the quotes

TYPE_CHECKING = False
if TYPE_CHECKING:
    import io
    from collections.abc import Callable, Sequence
    from typing import Any, TextIO

    from _typeshed import ReadableBuffer

__all__ = ["console"]

_STREAMS = ("stdout", "stderr")


def _signals() -> "Any":
    """The C module under ``signal`` where there is one: the same calls and numbers.

    ``signal`` itself turns them into enums when imported, ~0.6 ms of a 19 ms
    ``check --help`` (issue 12); nothing here needs the enums.
    """
    try:
        import _signal  # type: ignore[import-not-found]  # typeshed has only ``signal``

        return _signal
    except ImportError:  # an implementation without it
        import signal

        return signal


def _wants_nagios(argv: "Sequence[str]") -> bool:
    for index, arg in enumerate(argv):
        if arg == "--format" and argv[index + 1 : index + 2] == ["nagios"]:
            return True
        if arg == "--format=nagios":
            return True
    return False


def _interrupted(argv: "Sequence[str]") -> int:
    """The one line of an interrupted run (and Nagios's status line); exit 3."""
    signal = _signals()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
    from conntest.interrupts import EXIT_INTERRUPTED, INTERRUPTED_LINE, NAGIOS_INTERRUPTED

    try:
        if _wants_nagios(argv):
            sys.stdout.write(NAGIOS_INTERRUPTED)
            sys.stdout.flush()
        print(INTERRUPTED_LINE, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):  # a closed pipe: nothing more to say
        pass
    return EXIT_INTERRUPTED


def _pipe_end(fd: int) -> "io.RawIOBase":
    """``fd`` as a :class:`_PipeEnd`, defined on use (``io`` and ``os`` are loaded by then)."""
    import errno
    import io
    import os

    class _PipeEnd(io.RawIOBase):
        """A descriptor as a raw stream whose reader may go away; then writes go nowhere.

        ``os.write`` of a pipe whose reader has closed raises ``BrokenPipeError``
        (Python ignores ``SIGPIPE``; ``EINVAL`` on Windows).  From then on the
        descriptor is pointed at the null device, so that a later write or the
        interpreter's last flush does not fail either, and the run goes on to its
        exit code.  Any other error (a full disk) is raised as before.
        """

        def __init__(self, fd: int) -> None:
            super().__init__()
            self._fd = fd
            self.gone = False

        def writable(self) -> bool:
            return True

        def fileno(self) -> int:
            return self._fd

        def isatty(self) -> bool:
            return os.isatty(self._fd)

        def write(self, data: "ReadableBuffer", /) -> int | None:
            size = memoryview(data).nbytes
            if self.gone:
                return size
            try:
                return os.write(self._fd, data)
            except BlockingIOError:
                return None  # what FileIO does: the buffer above keeps the data
            except OSError as exc:
                closed = isinstance(exc, BrokenPipeError) or (
                    sys.platform == "win32" and exc.errno == errno.EINVAL
                )
                if not closed:
                    raise
            self.gone = True
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, self._fd)
            finally:
                os.close(null)
            return size

    return _PipeEnd(fd)


def _take_over_streams() -> None:
    """Make stdout and stderr safe to write, whoever reads them, for the rest of the process.

    A closed descriptor (``>&-``, which Python shows as ``sys.stdout is None``)
    becomes the null device, taking the descriptor's number so that no socket
    or lock file opened later can be mistaken for it.  A pipe, file or socket
    is written through :func:`_pipe_end`, which drops output
    once the reader has gone.  A terminal is left alone (it has no reader to
    lose, and Windows writes it through its own console stream), and so is a
    stream someone else put there (a test's capture, an embedding program).
    """
    import io
    import os

    for name in _STREAMS:
        stream: TextIO | None = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
            continue
        if stream is not getattr(sys, f"__{name}__"):
            continue
        try:
            fd = stream.fileno()
            if os.isatty(fd):
                continue
            stream.flush()
        except (OSError, ValueError, io.UnsupportedOperation):
            continue
        end = _pipe_end(fd)
        wrapper = io.TextIOWrapper(
            io.BufferedWriter(end),
            encoding=stream.encoding,
            errors=stream.errors,
            line_buffering=stream.line_buffering,
            write_through=bool(getattr(stream, "write_through", False)),
        )
        setattr(sys, name, wrapper)


def _sigint_record() -> "Callable[[], bool]":
    """Whether a SIGINT has come since this call, as the C level saw it.

    CPython turns a ``KeyboardInterrupt`` inside an extension module's import into
    an ``ImportError`` that no longer says so.  The signal's wakeup file descriptor
    records every signal at the C level, whatever Python makes of it, and leaves
    ``SIGINT``'s Python handler alone (``asyncio.run`` installs its own only over
    the default one).  The event loop of ``serve`` and ``lab`` takes the descriptor
    over later; by then the imports are done.  Not on Windows, whose wakeup
    descriptor must be a socket.
    """
    if sys.platform != "win32":
        import os

        signal = _signals()
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        try:
            signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        except ValueError:  # not the main thread (a test calling console())
            os.close(read)
            os.close(write)
            return lambda: False

        def came() -> bool:
            try:
                return bytes([signal.SIGINT]) in os.read(read, 4096)
            except OSError:
                return False

        return came
    return lambda: False


def _never() -> bool:
    return False


def console(argv: "Sequence[str] | None" = None) -> int:
    """The ``conntest`` command: :func:`conntest.cli.main`, clean under Ctrl-C and closed pipes.

    A Ctrl-C while Python is still importing conntest's CLI or parsing the
    options (half a second on a loaded machine) is the same one line as one
    during the check.  Once ``main`` has returned, the report is out: a Ctrl-C
    while the interpreter winds down (worker threads, buffers) ends the process
    at once with the run's own exit code instead of a signal death.
    """
    sigint_came = _never
    try:
        signal = _signals()

        # Then: a closed stdout's number must be taken before the wakeup pipe is made.
        _take_over_streams()
        sigint_came = _sigint_record()
        from conntest.cli import main

        code = main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        return _interrupted(sys.argv[1:] if argv is None else argv)
    except ImportError:
        # A Ctrl-C inside an extension module's import (``_socket`` under ``ssl``) comes
        # out as an ImportError of that module: the interrupt, not a broken install.
        if sigint_came():
            return _interrupted(sys.argv[1:] if argv is None else argv)
        raise
    import os

    def finish(_signum: int, _frame: "Any") -> None:
        os._exit(code)

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    try:
        signal.signal(signal.SIGINT, finish)
    except ValueError:  # not the main thread (a test calling console()): nothing to wind down
        pass
    return code
