"""``--output FILE``: write a report so readers see the old one or the new one, never half.

Atomic replacement (a temporary file renamed over the target) is only right
for a regular file or a path that does not exist yet: node_exporter's
textfile collector must never read a half-written file.  Renaming over
anything else would destroy it (run as root, ``--output /dev/null`` would
replace the device with a regular file), so a device, a FIFO or a
``/dev/stdout``-style path is opened and written directly.  A symbolic link
to a regular file is followed: the file it points to is replaced and the link
stays.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from conntest.open_flags import NONBLOCK, WRITE, open_fd

__all__ = ["write_atomically", "write_report"]

_DESCRIPTOR = re.compile(r"^/dev/(?:std(?:in|out|err)|fd/\d+)$|^/proc/[^/]+/fd/[^/]+$")
"""Paths that name one of a process's descriptors: written through, never replaced (a
shell's ``> file`` behind ``/dev/stdout`` is the shell's file, and a pipe's descriptor
resolves to ``/proc/PID/fd/pipe:[N]``, which is no path to create)."""


def write_atomically(path: Path, data: bytes, mode: int = 0o644, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data``: a temporary file in the same directory, then a rename.

    The temporary file is flushed to disk first (``durable``); ``os.replace``
    is atomic within a file system.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _replaceable(path: Path) -> Path | None:
    """The regular file (or new path) to replace for ``path``; ``None``: write directly.

    Decided by what the path is, not where: a regular file in ``/dev/shm`` is replaced
    like any other (a textfile collector there must not see half a report, nor a
    shorter report keep the old one's tail), a device or FIFO anywhere is written.
    """
    if _DESCRIPTOR.match(str(path)):
        return None
    target = Path(os.path.realpath(path))
    if _DESCRIPTOR.match(str(target)):
        return None
    try:
        info = target.lstat()
    except FileNotFoundError:
        return target
    return target if stat.S_ISREG(info.st_mode) else None


def write_report(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path``: atomically for a regular file, directly otherwise.

    A FIFO with no reader is an :class:`OSError` (``ENXIO``) at once, never a hang.
    """
    target = _replaceable(path)
    if target is not None:
        write_atomically(target, data, mode)
        return
    fd = open_fd(path, WRITE)
    try:
        if NONBLOCK and hasattr(os, "set_blocking"):  # the open did not wait; the writes must
            os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written <= 0:  # pragma: no cover - a device that takes nothing
                raise OSError(errno.EIO, "the output took no data")
            view = view[written:]
    finally:
        os.close(fd)
