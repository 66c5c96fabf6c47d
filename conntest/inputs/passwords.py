"""Where a password comes from, and how it is read without hanging or leaking.

A password is read from an environment variable, the first line of a file,
the first line of standard input, or a terminal prompt.  Whatever the
source, the result passes :func:`check_password`: not empty, at most
:data:`MAX_PASSWORD_BYTES`, valid UTF-8, and no NUL, CR or LF (which would end
a protocol line and let the rest reach the server as a command).  Other
whitespace is kept on purpose: a stray space is one of the things conntest
diagnoses.

Reading is bounded: at most :data:`MAX_PASSWORD_BYTES` plus one line break
are read, so a 200 MB file is never read whole; a pipe or FIFO is read with a
deadline (:data:`READ_DEADLINE`), so a FIFO nobody writes to ends in one line
instead of a hang; a directory, a device (``/dev/null``) or a socket is
refused.  Every failure is a :class:`~conntest.errors.PasswordSourceError`
whose text names the source and never holds a character of the password.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import io
import os
import select
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from conntest.errors import PasswordSourceError, UsageError
from conntest.open_flags import READ, open_fd

__all__ = [
    "MAX_PASSWORD_BYTES",
    "READ_DEADLINE",
    "PasswordSource",
    "check_password",
    "password_from_args",
    "read_password_file",
    "read_password_stream",
]

MAX_PASSWORD_BYTES = 4096
"""Far above any real password (Entra ID allows 256 characters), far below harm."""
READ_DEADLINE = 10.0
"""Seconds a pipe or FIFO has to deliver the password line."""


def check_password(password: str, source: str) -> str:
    """``password`` if it can be sent as it is; :class:`PasswordSourceError` naming ``source``."""
    if not password:
        raise PasswordSourceError(f"{source}: expected a password, found an empty one")
    try:
        size = len(password.encode("utf-8"))
    except UnicodeEncodeError:
        raise PasswordSourceError(f"{source}: expected UTF-8 text, found other bytes") from None
    if size > MAX_PASSWORD_BYTES:
        raise PasswordSourceError(
            f"{source}: expected a password of at most {MAX_PASSWORD_BYTES} bytes, "
            f"found {size} bytes"
        )
    for char, name in (("\x00", "a NUL byte"), ("\r", "a carriage return"), ("\n", "a line break")):
        if char in password:
            position = password.index(char) + 1
            raise PasswordSourceError(
                f"{source}: expected a password on one line, found {name} at position {position}"
            )
    return password


_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decode_first_line(data: bytes, source: str) -> str:
    """The first line, decoded; a UTF-8 byte order mark at the start is the file's.

    Notepad's "UTF-8 with BOM" starts a file with U+FEFF: sent as part of the
    password it is a wrong password (a failed sign-in toward lockout).  A
    UTF-16 file (Windows PowerShell 5's ``"pw" > file``) is refused with a
    line that says so: bytes after FF FE are not always UTF-16, and a guess
    would send a password nobody typed.
    """
    if data.startswith(_UTF16_BOMS):
        raise PasswordSourceError(
            f"{source}: expected UTF-8 text, found a non-UTF-8 byte at offset 0 (a UTF-16 "
            "byte order mark: save the file as UTF-8, e.g. Set-Content -Encoding utf8)"
        )
    data = data.removeprefix(_UTF8_BOM)
    line, newline, _ = data.partition(b"\n")
    if not newline and len(data) > MAX_PASSWORD_BYTES + 1:
        raise PasswordSourceError(
            f"{source}: expected a first line of at most {MAX_PASSWORD_BYTES} bytes, "
            "found a longer one"
        )
    line = line.removesuffix(b"\r")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PasswordSourceError(
            f"{source}: expected UTF-8 text, found a non-UTF-8 byte at offset {exc.start}"
        ) from None
    return check_password(text, source)


def _read_bounded(fd: int, source: str, deadline: float | None) -> bytes:
    """Up to the first line break (or ``MAX_PASSWORD_BYTES + 2`` bytes) from ``fd``.

    With a ``deadline`` (a pipe, a FIFO), the wait for the line is bounded:
    through ``poll`` where the system has it; on Windows, which can wait for
    a socket but not for a pipe, a thread reads while this one waits.
    """
    if deadline is None:
        return _read_line(fd, None)
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        end = time.monotonic() + deadline

        def wait() -> None:
            remaining = end - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise _late(source, deadline)

        return _read_line(fd, wait)
    return _read_in_thread(fd, source, deadline)


def _late(source: str, deadline: float) -> PasswordSourceError:
    return PasswordSourceError(
        f"{source}: expected a password line within {deadline:g} s, found none "
        "(nothing is writing to it?)"
    )


def _read_line(fd: int, wait: Callable[[], None] | None) -> bytes:
    """Read until a line break, ``MAX_PASSWORD_BYTES + 2`` bytes or the end; ``wait`` first."""
    limit = MAX_PASSWORD_BYTES + 2
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        if wait is not None:
            wait()
        try:
            chunk = os.read(fd, limit - size)
        except BlockingIOError:
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk:
            break
    return b"".join(chunks)


def _read_in_thread(fd: int, source: str, deadline: float) -> bytes:
    """Windows: a daemon thread does the blocking reads on its own descriptor; we wait.

    Past the deadline the thread is left blocked (the run is ending with an
    error; the process exit ends it) and the caller may close ``fd``: the
    thread reads from a duplicate, so closing never waits on its read.
    """
    own = os.dup(fd)
    got: list[bytes | OSError] = []

    def read() -> None:
        try:
            got.append(_read_line(own, None))
        except OSError as exc:
            got.append(exc)
        finally:
            os.close(own)

    thread = threading.Thread(target=read, name="conntest-password-read", daemon=True)
    thread.start()
    thread.join(deadline)
    if not got:
        raise _late(source, deadline)
    if isinstance(got[0], OSError):
        raise got[0]
    return got[0]


def read_password_file(
    path: Path, *, source: str | None = None, deadline: float = READ_DEADLINE
) -> str:
    """The first line of the file at ``path`` (a regular file, a pipe or a FIFO).

    ``source`` names it in messages (default ``--password-file PATH``).
    """
    source = source or f"--password-file {path}"
    try:
        fd = open_fd(path, READ)
    except IsADirectoryError:
        raise PasswordSourceError(f"{source}: expected a file, found a directory") from None
    except OSError as exc:
        raise PasswordSourceError(f"{source}: cannot read it: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise PasswordSourceError(f"{source}: expected a file, found a directory")
        if stat.S_ISREG(mode):
            data = _read_bounded(fd, source, None)
        elif stat.S_ISFIFO(mode):
            data = _read_bounded(fd, source, deadline)
        else:
            kind = "a character device" if stat.S_ISCHR(mode) else "a special file"
            raise PasswordSourceError(f"{source}: expected a regular file or a pipe, found {kind}")
    except OSError as exc:
        raise PasswordSourceError(f"{source}: cannot read it: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if not data:
        raise PasswordSourceError(f"{source}: expected a password, found an empty file")
    return _decode_first_line(data, source)


def read_password_stream(stream: TextIO | None, *, deadline: float = READ_DEADLINE) -> str:
    """The first line of standard input (``--password-stdin``).

    A real descriptor is read directly, bounded and (for a pipe) with a
    deadline; a terminal is waited on, since a person is typing.
    """
    source = "--password-stdin"
    if stream is None or stream.closed:
        raise PasswordSourceError(f"{source}: expected a password, found standard input closed")
    try:
        fd = stream.fileno()
    except (io.UnsupportedOperation, AttributeError, ValueError):
        fd = -1
    if fd < 0:  # an in-memory stream (tests, embedding)
        return _decode_first_line(stream.readline(MAX_PASSWORD_BYTES + 2).encode(), source)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise PasswordSourceError(f"{source}: expected a password, found a directory")
        wait = deadline if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else None
        data = _read_bounded(fd, source, wait)
    except OSError as exc:
        raise PasswordSourceError(
            f"{source}: expected a password, found standard input unreadable "
            f"({exc.strerror or exc})"
        ) from None
    if not data:
        raise PasswordSourceError(f"{source}: expected a password, found nothing (end of input)")
    return _decode_first_line(data, source)


def _prompt(user: str) -> str:
    try:
        password = getpass.getpass(f"App password for {user}: ")
    except EOFError:
        raise PasswordSourceError("prompt: expected a password, found end of input") from None
    return check_password(password, "prompt")


def password_from_args(args: argparse.Namespace, stdin: TextIO | None) -> str | None:
    """The password the options choose (``None``: ``--no-password``), checked.

    Reads ``--password-env``, ``--password-file``, ``--password-stdin`` or,
    on a terminal, prompts; with none of them and no terminal, a
    :class:`~conntest.errors.UsageError` says which options exist.
    """
    if getattr(args, "no_password", False):
        return None
    if getattr(args, "password_env", None):
        value = os.environ.get(args.password_env)
        if value is None:
            raise PasswordSourceError(
                f"--password-env: the environment variable {args.password_env} is not set"
            )
        return check_password(value, f"--password-env {args.password_env}")
    if getattr(args, "password_file", None):
        return read_password_file(Path(args.password_file))
    if getattr(args, "password_stdin", False):
        return read_password_stream(stdin)
    is_tty = False
    if stdin is not None and not stdin.closed:
        with contextlib.suppress(ValueError, OSError):
            is_tty = stdin.isatty()
    if is_tty:
        return _prompt(args.user)
    raise UsageError(
        "no password: use --password-env VAR, --password-file PATH or --password-stdin "
        "(or --no-password for a connectivity-only check)"
    )


@dataclass(frozen=True)
class PasswordSource:
    """Where an account's password lives; never the password itself (but see :meth:`given`)."""

    kind: Literal["env", "file", "none", "given"]
    name: str = ""
    """The environment variable or the file path; empty for ``none`` and ``given``."""
    _value: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def given(cls, password: str | None) -> PasswordSource:
        """A password the command line already read (``--password-stdin``, a prompt)."""
        return cls("none") if password is None else cls("given", "", password)

    @property
    def authenticates(self) -> bool:
        """False for a connectivity-only check."""
        return self.kind != "none"

    def describe(self) -> str:
        return {
            "env": f"environment variable {self.name}",
            "file": f"file {self.name}",
            "none": "none (connectivity only)",
            "given": "given on the command line",
        }[self.kind]

    def read(self) -> str | None:
        """The password (``None``: connectivity only), checked; :class:`PasswordSourceError`."""
        if self.kind == "none":
            return None
        if self.kind == "given":
            return self._value
        if self.kind == "env":
            value = os.environ.get(self.name)
            if value is None:
                raise PasswordSourceError(f"the environment variable {self.name} is not set")
            return check_password(value, f"the environment variable {self.name}")
        return read_password_file(Path(self.name), source=f"password file {self.name}")
