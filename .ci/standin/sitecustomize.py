"""A Windows stand-in on Linux, for CI: put this directory first on PYTHONPATH.

What it changes, at interpreter start-up, before conntest is imported:

* ``fcntl``, ``termios``, ``tty``, ``pty``, ``pwd``, ``grp`` and ``resource``
  raise ``ModuleNotFoundError``, as on Windows, so any import of them on
  conntest's paths fails the run.
* ``sys.platform`` says ``win32``, so conntest's own Windows branches run
  (``conntest.paths`` asks platformdirs for ``%APPDATA%``/``%LOCALAPPDATA%``,
  ``conntest.file_lock`` locks with ``msvcrt.locking``).  The standard library
  modules that choose their implementation by platform when imported
  (asyncio, subprocess, ssl, …) and dnspython (which would read the Windows
  registry) are imported first, so they stay the Linux ones that can work.
* ``msvcrt`` exists with ``locking`` and the ``LK_*`` constants, implemented
  on the real ``flock`` (a lock per descriptor, failing at once with
  ``EACCES`` for ``LK_NBLCK``: Windows' behaviour as CPython reports it).
* ``signal.SIGHUP`` is gone and ``signal.SIGBREAK`` exists; the event loop's
  ``add_signal_handler`` raises ``NotImplementedError``, as Windows' loops do.
* platformdirs finds the known folders through ``APPDATA``/``LOCALAPPDATA``
  (the shell API it uses on Windows is not on Linux); the CI script sets them.

What it cannot show: Windows' file-sharing rules (renaming over an open
file), its console, the Proactor event loop.  Those are named in the README.
"""

from __future__ import annotations

import errno
import importlib.abc
import importlib.machinery
import sys
import types

BLOCKED = frozenset({"fcntl", "termios", "tty", "pty", "pwd", "grp", "resource"})

import fcntl as _real_fcntl  # noqa: E402  (kept for the msvcrt stand-in below)

# Imported now, while the platform is still Linux: they pick their implementation
# (or read the system's configuration) when imported.
import asyncio  # noqa: E402, F401
import asyncio.unix_events  # noqa: E402
import concurrent.futures  # noqa: E402, F401
import getpass  # noqa: E402, F401
import platform  # noqa: E402, F401
import signal  # noqa: E402
import ssl  # noqa: E402, F401
import subprocess  # noqa: E402, F401
import tempfile  # noqa: E402, F401
import uuid  # noqa: E402, F401

import dns.asyncresolver  # noqa: E402, F401
import dns.resolver  # noqa: E402, F401
import platformdirs.windows  # noqa: E402

for _name in BLOCKED:
    sys.modules.pop(_name, None)


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        if fullname.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {fullname!r} (Windows stand-in)")
        return None


sys.meta_path.insert(0, _Blocker())

# msvcrt, on top of flock.
msvcrt = types.ModuleType("msvcrt", "Windows stand-in: locking() on top of flock")
msvcrt.LK_UNLCK, msvcrt.LK_LOCK, msvcrt.LK_NBLCK, msvcrt.LK_RLCK, msvcrt.LK_NBRLCK = 0, 1, 2, 3, 4


def _locking(fd: int, mode: int, nbytes: int) -> None:
    if mode == msvcrt.LK_UNLCK:
        _real_fcntl.flock(fd, _real_fcntl.LOCK_UN)
        return
    flags = _real_fcntl.LOCK_EX
    if mode in {msvcrt.LK_NBLCK, msvcrt.LK_NBRLCK}:
        flags |= _real_fcntl.LOCK_NB
    try:
        _real_fcntl.flock(fd, flags)
    except BlockingIOError:
        raise OSError(errno.EACCES, "Permission denied") from None


msvcrt.locking = _locking
sys.modules["msvcrt"] = msvcrt

# Signals as on Windows.
if hasattr(signal, "SIGHUP"):
    del signal.SIGHUP
signal.SIGBREAK = signal.SIGTTIN  # a signal number no test sends


def _no_signal_handlers(self, sig, callback, *args):  # type: ignore[no-untyped-def]
    raise NotImplementedError


asyncio.unix_events._UnixSelectorEventLoop.add_signal_handler = _no_signal_handlers

# platformdirs: the known folders from the environment.
platformdirs.windows._RESOLVE_WIN_FOLDER = platformdirs.windows.get_win_folder_from_env_vars

sys.platform = "win32"
