"""``os.open`` flags that exist on every system, and an open that says "directory" everywhere.

POSIX has ``O_NONBLOCK`` (opening a FIFO does not wait for a writer),
``O_NOCTTY`` (a terminal never becomes the controlling one) and
``O_CLOEXEC``; Windows' ``os`` has none of them (an ``AttributeError`` at the
first read of a profile, before this module), but needs ``O_BINARY``: without
it ``os.read`` and ``os.write`` translate line endings and stop at Ctrl-Z.
Each flag here is 0 where the system lacks it.  Python makes descriptors
non-inheritable on every system anyway (PEP 446); ``O_CLOEXEC`` and
``O_NOINHERIT`` only close the gap while ``os.open`` runs.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

__all__ = ["NONBLOCK", "READ", "WRITE", "open_fd"]

NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
"""0 on Windows, which has no FIFOs in its file system to wait on."""

_EVERYWHERE: int = (
    getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOINHERIT", 0)
    | getattr(os, "O_BINARY", 0)
)

READ = os.O_RDONLY | NONBLOCK | _EVERYWHERE
"""Read, never waiting for a FIFO's writer, never taking a terminal, bytes as they are."""
WRITE = os.O_WRONLY | NONBLOCK | _EVERYWHERE
"""Write to what exists (a FIFO without a reader is ``ENXIO`` at once on POSIX)."""


def open_fd(path: Path | str, flags: int) -> int:
    """``os.open(path, flags)``, where a directory is :class:`IsADirectoryError` on every system.

    Windows refuses to open a directory with "permission denied"; a message
    that says so would send the user looking at the wrong thing.
    """
    try:
        return os.open(path, flags)
    except PermissionError:
        if sys.platform == "win32" and os.path.isdir(path):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path)) from None
        raise
