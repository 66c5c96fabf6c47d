"""Exclusive locks on files, the same on POSIX and Windows.

A lock is held through an open file descriptor and the operating system
drops it when the descriptor is closed or the process dies (killed, crashed):
``flock`` on POSIX, ``msvcrt.locking`` (``LockFileEx`` underneath) on Windows,
which both conflict between two descriptors of one process as well as
between processes.  So a lock never outlives its holder, and no stale lock
file needs clearing by hand.

Both system modules are imported only where the branch for that system
runs, never at import time (``fcntl`` does not exist on Windows, ``msvcrt``
nowhere else).  A blocking :func:`acquire` waits at most ``timeout`` seconds
and then raises :class:`LockTimeout`, so a run stuck while holding a lock (a
stopped process, say) cannot hang every other run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOCK_WAIT", "LockTimeout", "acquire", "exclusive", "open_lock_file", "release"]

LOCK_WAIT = 30.0
"""Seconds a blocking lock waits for another holder before giving up."""


class LockTimeout(TimeoutError):
    """The lock was still held by someone else when the wait ran out."""


def open_lock_file(path: Path, *, create: bool = True) -> int:
    """A descriptor on ``path`` to lock (created owner-only when missing)."""
    flags = os.O_RDWR | getattr(os, "O_BINARY", 0) | (os.O_CREAT if create else 0)
    return os.open(path, flags, 0o600)


def _try_lock(fd: int) -> bool:
    """Take the lock if it is free; ``False`` when another descriptor holds it."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        try:
            # One byte at offset 0 (Windows allows locking past the end of a file).
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in {errno.EACCES, errno.EDEADLK, errno.EAGAIN}:
                return False
            raise
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def acquire(fd: int, *, blocking: bool = True, timeout: float = LOCK_WAIT) -> bool:
    """Lock ``fd`` exclusively; without ``blocking``, ``False`` at once if it is taken.

    Waiting polls, from 1 ms up to 50 ms between tries: the locks conntest
    takes are held for milliseconds, and polling is what Windows offers.
    """
    if _try_lock(fd):
        return True
    if not blocking:
        return False
    deadline = time.monotonic() + timeout
    pause = 0.001
    while time.monotonic() < deadline:
        time.sleep(pause)
        if _try_lock(fd):
            return True
        pause = min(pause * 2, 0.05)
    raise LockTimeout(errno.ETIMEDOUT, f"still locked by another run after {timeout:g} s")


def release(fd: int) -> None:
    """Unlock ``fd`` (closing it also does; Windows prefers the explicit unlock)."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def exclusive(path: Path, *, timeout: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the lock on ``path`` for the ``with`` block."""
    fd = open_lock_file(path)
    try:
        acquire(fd, timeout=timeout)
        try:
            yield
        finally:
            release(fd)
    finally:
        os.close(fd)
