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
* The attributes of ``os``, ``select`` and ``signal`` that Windows' Python
  3.11 lacks are gone (``os.O_NONBLOCK``, ``os.set_blocking``, …:
  :data:`OS_MISSING`; all of ``select`` and ``signal`` but what
  :data:`WINDOWS_HAS`: no ``select.poll``, no ``signal.SIGHUP``), and
  ``signal.SIGBREAK`` exists (as SIGTTIN: send that to press Ctrl-Break).
  The standard modules that chose ``select.poll`` when imported
  (``subprocess``, ``socketserver``) use ``select.select``, as on Windows.
* The event loop's ``add_signal_handler``, ``add_reader`` and ``add_writer``
  raise ``NotImplementedError``, as Windows' Proactor loop does.
* platformdirs finds the known folders through ``APPDATA``/``LOCALAPPDATA``
  (the shell API it uses on Windows is not on Linux); the CI script sets them.

What it cannot show: Windows' file-sharing rules (renaming over an open
file), its console, its named pipes, the Proactor loop's own I/O (the loop
stays Linux's selector loop, with only the methods above taken away).  Those
are named in the README.
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
import os  # noqa: E402
import platform  # noqa: E402, F401
import select  # noqa: E402
import selectors  # noqa: E402
import signal  # noqa: E402
import socketserver  # noqa: E402
import ssl  # noqa: E402, F401
import subprocess  # noqa: E402
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

# What Windows' Python 3.11 does not have: in os, these; in select and signal, all but
# what Windows has.  The event loop kept here (epoll's) keeps a select of its own.
_linux_select = types.ModuleType("select")
_linux_select.__dict__.update(vars(select))
selectors.select = _linux_select
OS_MISSING = (
    "O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_NOFOLLOW", "O_DIRECTORY", "O_SYNC",
    "O_DSYNC", "O_NDELAY", "O_ASYNC", "fchmod", "fchown", "chown", "lchown",
    "getuid", "geteuid", "getgid", "getegid", "getgroups", "getpgid", "getpgrp",
    "setpgrp", "setsid", "getsid", "killpg", "fork", "forkpty", "openpty", "mkfifo",
    "mknod", "sync", "fdatasync", "uname", "sysconf", "statvfs", "fstatvfs", "nice",
    "getloadavg", "ttyname", "ctermid", "WNOHANG", "wait3", "wait4",
    *(("set_blocking", "get_blocking") if sys.version_info < (3, 12) else ()),
)
WINDOWS_HAS = {
    select: {"select", "error"},
    signal: {
        "SIGABRT", "SIGBREAK", "SIGFPE", "SIGILL", "SIGINT", "SIGSEGV", "SIGTERM",
        "CTRL_C_EVENT", "CTRL_BREAK_EVENT", "SIG_DFL", "SIG_IGN", "NSIG", "Signals",
        "Handlers", "default_int_handler", "getsignal", "signal", "raise_signal",
        "set_wakeup_fd", "strsignal", "valid_signals",
    },
}
_ctrl_break = signal.SIGTTIN
for _name in OS_MISSING:
    if hasattr(os, _name):
        delattr(os, _name)
for _module, _keep in WINDOWS_HAS.items():
    for _name in [n for n in vars(_module) if not n.startswith("_") and n not in _keep]:
        delattr(_module, _name)
signal.SIGBREAK = _ctrl_break  # SIGTTIN: its default (stop the process) no run wants

# Chosen at their import from what select had then; on Windows, select.select.
del selectors.PollSelector
subprocess._PopenSelector = selectors.SelectSelector
socketserver._ServerSelector = selectors.SelectSelector


def _not_on_windows(self, *args):  # type: ignore[no-untyped-def]
    raise NotImplementedError


_loop = asyncio.unix_events._UnixSelectorEventLoop
_loop.add_signal_handler = _not_on_windows
# Proactor cannot watch a file descriptor it does not own.  asyncio's own transports
# use the private _add_reader, which stays.
_loop.add_reader = _not_on_windows
_loop.add_writer = _not_on_windows

# platformdirs: the known folders from the environment.
platformdirs.windows._RESOLVE_WIN_FOLDER = platformdirs.windows.get_win_folder_from_env_vars

sys.platform = "win32"
