"""conntest must import on Windows: no POSIX-only module is imported at module level.

The test reads every module of ``conntest/`` (the AST, not an import, so a
module that is never imported on Linux is checked too) and fails on an
``import`` of a POSIX-only (or Windows-only) module that runs when the module
is imported: at the top, or inside a top-level ``if``/``try``/``with`` or a
class body.  Imports inside functions, and under ``if TYPE_CHECKING:``, are
fine.  ``.ci/windows-standin`` then runs the headless path with those
modules gone.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from subprocess import Popen

import pytest

import conntest
from conntest.interrupts import NAGIOS_INTERRUPTED

PACKAGE = Path(conntest.__file__).parent
STANDIN = Path(__file__).parents[2] / ".ci" / "standin"

SYSTEM_ONLY = frozenset(
    {
        # POSIX only
        "fcntl",
        "termios",
        "tty",
        "pty",
        "pwd",
        "grp",
        "resource",
        "posix",
        "syslog",
        "crypt",
        "spwd",
        "nis",
        "readline",
        "curses",
        "_posixsubprocess",
        # Windows only
        "msvcrt",
        "winreg",
        "winsound",
        "_winapi",
        "_overlapped",
        "nt",
    }
)


def import_time_imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for each import that runs when the module is imported."""

    def walk(nodes: list[ast.stmt]) -> Iterator[tuple[int, str]]:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield node.lineno, alias.name
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield node.lineno, node.module
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from walk(node.orelse)
            else:
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        stmts = [c for c in children if isinstance(c, ast.stmt)]
                        # except handlers and match cases hold statements of their own
                        stmts += [
                            s for c in children if not isinstance(c, ast.stmt) for s in c.body
                        ]
                        yield from walk(stmts)

    yield from walk(tree.body)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def offenders(source: str) -> list[str]:
    return [
        f"line {line}: {name}"
        for line, name in import_time_imports(ast.parse(source))
        if name.split(".")[0] in SYSTEM_ONLY
    ]


def test_no_module_imports_a_system_only_module_at_import_time() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for problem in offenders(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(PACKAGE.parent)} {problem}")
    assert not found, "imported at import time, missing on another system:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import fcntl\n", ["line 1: fcntl"]),
        ("import os, termios\n", ["line 1: termios"]),
        ("from pwd import getpwnam\n", ["line 1: pwd"]),
        ("try:\n    import fcntl\nexcept ImportError:\n    pass\n", ["line 2: fcntl"]),
        ("import sys\nif sys.platform != 'win32':\n    import grp\n", ["line 3: grp"]),
        ("class A:\n    import resource\n", ["line 2: resource"]),
        ("import msvcrt\n", ["line 1: msvcrt"]),
        ("def f():\n    import fcntl\n", []),
        ("async def f():\n    import termios\n", []),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import fcntl\n", []),
        ("import os.path\nfrom . import fcntl\n", []),  # a module of the package itself
    ],
)
def test_the_check_finds_what_it_should(source: str, expected: list[str]) -> None:
    assert offenders(source) == expected


def test_the_headless_modules_import_in_the_windows_stand_in() -> None:
    """The same modules as ``.ci/windows-standin``, imported with the POSIX modules gone."""
    code = (
        "import importlib, pkgutil, sys, conntest\n"
        "assert sys.platform == 'win32'\n"
        "for m in pkgutil.walk_packages(conntest.__path__, 'conntest.'):\n"
        "    if not m.name.startswith(('conntest.tui', 'conntest.__main__')):\n"
        "        importlib.import_module(m.name)\n"
        "from conntest import paths\n"
        "print(paths.state_dir())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(STANDIN), "LOCALAPPDATA": "/standin/Local"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "/standin/Local/conntest"


# --- Attributes that Windows' modules lack -------------------------------------------------
# A module Windows has can still lack an attribute POSIX gives it: ``os.O_NONBLOCK`` made every
# profile read die with AttributeError there.  Each of these may be used only where something
# asks first: ``getattr``/``hasattr``, a ``sys.platform``/``os.name`` test, or a ``try`` that
# catches what Windows raises (AttributeError; NotImplementedError for the loop methods).

POSIX_ONLY_OS = frozenset(
    {
        *("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_NOFOLLOW", "O_DIRECTORY", "O_SYNC"),
        *("O_DSYNC", "O_NDELAY", "O_ASYNC", "fchmod", "fchown", "chown", "lchown", "getuid"),
        *("geteuid", "getgid", "getegid", "getgroups", "getpgid", "getpgrp", "setpgrp"),
        *("setsid", "getsid", "killpg", "fork", "forkpty", "openpty", "mkfifo", "mknod"),
        *("sync", "fdatasync", "uname", "sysconf", "statvfs", "fstatvfs", "nice"),
        *("getloadavg", "ttyname", "ctermid", "WNOHANG", "wait3", "wait4"),
        # Windows has them from Python 3.12; conntest supports 3.11.
        *("set_blocking", "get_blocking"),
    }
)
WINDOWS_SELECT = frozenset({"select", "error"})
WINDOWS_SIGNAL = frozenset(
    {
        *("SIGABRT", "SIGBREAK", "SIGFPE", "SIGILL", "SIGINT", "SIGSEGV", "SIGTERM"),
        *("CTRL_C_EVENT", "CTRL_BREAK_EVENT", "SIG_DFL", "SIG_IGN", "NSIG", "Signals"),
        *("Handlers", "default_int_handler", "getsignal", "signal", "raise_signal"),
        *("set_wakeup_fd", "strsignal", "valid_signals"),
    }
)
LOOP_METHODS = frozenset({"add_reader", "add_writer", "add_signal_handler"})
"""Not implemented by Windows' default (Proactor) event loop."""


def _missing_on_windows(module: str, attr: str) -> bool:
    if module == "os":
        return attr in POSIX_ONLY_OS
    if module == "select":
        return attr not in WINDOWS_SELECT
    if module == "signal":
        return attr not in WINDOWS_SIGNAL
    return False


def _asks_first(test: ast.expr) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute) and (
            (isinstance(node.value, ast.Name) and (node.value.id, node.attr) == ("sys", "platform"))
            or (isinstance(node.value, ast.Name) and (node.value.id, node.attr) == ("os", "name"))
        ):
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"hasattr", "getattr"}
        ):
            return True
    return False


def _catches(handler: ast.ExceptHandler, name: str) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(k, ast.Name) and k.id in {name, "Exception"} for k in kinds)


def unguarded_attributes(source: str) -> list[str]:
    """``line N: os.O_NONBLOCK`` for each use of an attribute Windows lacks, nobody asking first."""
    found: list[str] = []

    def visit(node: ast.AST, guards: frozenset[str]) -> None:
        if isinstance(node, ast.If | ast.IfExp | ast.While) and _asks_first(node.test):
            guards = guards | {"AttributeError", "NotImplementedError"}
        if isinstance(node, ast.Try):
            caught = {
                n
                for n in ("AttributeError", "NotImplementedError")
                for h in node.handlers
                if _catches(h, n)
            }
            for statement in node.body:
                visit(statement, guards | caught)
            for other in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(other, guards)
            return
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and _missing_on_windows(node.value.id, node.attr)
            and "AttributeError" not in guards
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if _missing_on_windows(node.module, alias.name) and "AttributeError" not in guards:
                    found.append(f"line {node.lineno}: {node.module}.{alias.name}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOOP_METHODS
            and "NotImplementedError" not in guards
        ):
            found.append(f"line {node.lineno}: .{node.func.attr}()")
        for child in ast.iter_child_nodes(node):
            visit(child, guards)

    visit(ast.parse(source), frozenset())
    return found


def test_no_module_uses_an_attribute_windows_lacks_without_asking() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for problem in unguarded_attributes(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(PACKAGE.parent)} {problem}")
    assert not found, "missing on Windows, used without asking:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os\nos.open(p, os.O_RDONLY | os.O_NONBLOCK)\n", ["line 2: os.O_NONBLOCK"]),
        ("from os import O_CLOEXEC\n", ["line 1: os.O_CLOEXEC"]),
        ("import select\np = select.poll()\n", ["line 2: select.poll"]),
        ("import signal\nsignal.signal(signal.SIGHUP, f)\n", ["line 2: signal.SIGHUP"]),
        ("def f(fd):\n    os.set_blocking(fd, True)\n", ["line 2: os.set_blocking"]),
        ("async def f(loop):\n    loop.add_reader(3, cb)\n", ["line 2: .add_reader()"]),
        ("try:\n    x = os.getuid()\nexcept ValueError:\n    pass\n", ["line 2: os.getuid"]),
        ("flags = getattr(os, 'O_NONBLOCK', 0)\n", []),
        ("if hasattr(select, 'poll'):\n    p = select.poll()\n", []),
        ("if sys.platform != 'win32':\n    os.fchmod(fd, 0o600)\n", []),
        ("try:\n    os.getuid()\nexcept AttributeError:\n    pass\n", []),
        ("try:\n    loop.add_signal_handler(2, f)\nexcept NotImplementedError:\n    pass\n", []),
        ("signal.signal(signal.SIGINT, signal.SIG_IGN)\n", []),
        ("import os\nos.open(p, os.O_RDONLY | os.O_CREAT)\nos.replace(a, b)\n", []),
    ],
)
def test_the_attribute_check_finds_what_it_should(source: str, expected: list[str]) -> None:
    assert unguarded_attributes(source) == expected


# --- The headless path, run in the stand-in --------------------------------------------------

CTRL_BREAK = getattr(signal, "SIGTTIN", 0)
"""What the stand-in's ``signal.SIGBREAK`` is.  Its default action stops the process, so a
run that does not handle Ctrl-Break shows up as a run that never ends."""

_ATTRIBUTES_GONE = """
import json, os, select, signal, sys, time
names = json.loads(sys.argv[1])
left = [f"os.{n}" for n in names["os"] if hasattr(os, n)]
for module in (select, signal):
    left += [f"{module.__name__}.{n}" for n in dir(module)
             if not n.startswith("_") and n not in names[module.__name__]]
assert not left, f"the stand-in keeps {left}"

from conntest.errors import PasswordSourceError
from conntest.inputs.passwords import read_password_file, read_password_stream

read, write = os.pipe()
os.write(write, "pw from a pipe\\n".encode())  # the writer stays open: the line break ends it
assert read_password_stream(os.fdopen(read), deadline=20) == "pw from a pipe"
for name, read_it in [
    ("stdin", lambda: read_password_stream(os.fdopen(os.pipe()[0]), deadline=0.3)),
    ("fifo", lambda: read_password_file(__import__("pathlib").Path(sys.argv[2]), deadline=0.3)),
]:
    started = time.monotonic()
    try:
        read_it()
    except PasswordSourceError as exc:
        assert "within 0.3 s" in str(exc), exc
    else:
        raise AssertionError(f"{name}: read a password from a silent pipe")
    print(name, round(time.monotonic() - started, 2))
"""


def _standin_env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(STANDIN),
        "APPDATA": str(tmp / "AppData" / "Roaming"),
        "LOCALAPPDATA": str(tmp / "AppData" / "Local"),
        "CI": "1",
        "NO_COLOR": "1",
    }


def _conntest(tmp: Path, *args: str, stdin: int | None = subprocess.DEVNULL) -> Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "conntest", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_standin_env(tmp),
    )


def _finish(proc: Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in runs on Linux")
def test_the_headless_path_runs_in_the_windows_stand_in(tmp_path: Path) -> None:
    """Profiles, a lab, checks with a password from a file and from stdin, Ctrl-Break.

    All side by side.  Every profile read, password read and lab handshake goes
    through code that once used an attribute Windows lacks.
    """
    password = tmp_path / "password"
    password.write_text("correcthorsebatt\n")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    silent_writer = os.open(fifo, os.O_RDWR)  # holds the FIFO open, writes nothing
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("accounts:\n  - {address: bob@contoso.com, scenario: wrong-password}\n")
    lab_state = tmp_path / "lab.json"
    silent = socket.create_server(("127.0.0.1", 0))
    silent.settimeout(60)
    try:
        lab = _conntest(
            tmp_path, "lab", "--accounts", str(accounts), "--state-file", str(lab_state)
        )
        profiles = _conntest(tmp_path, "profiles", "list")
        from_file = _conntest(
            tmp_path, "check", "--lab", "ok", "--user", "you@contoso.com",
            "--password-file", str(password), "--format", "nagios",
        )  # fmt: skip
        piped, writer = os.pipe()  # echo PASSWORD | conntest ...
        os.write(writer, b"correcthorsebatt\n")
        os.close(writer)
        from_stdin = _conntest(
            tmp_path, "check", "--lab", "ok", "--user", "alice@contoso.com",
            "--password-stdin", "--format", "json", stdin=piped,
        )  # fmt: skip
        os.close(piped)
        attributes = subprocess.Popen(
            [sys.executable, "-c", _ATTRIBUTES_GONE, json.dumps(_windows_names()), str(fifo)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_standin_env(tmp_path),
        )
        port = silent.getsockname()[1]
        broken = _conntest(
            tmp_path, "check", "--user", "you@contoso.com", "--no-password",
            "--imap", f"127.0.0.1:{port}", "--protocol", "imap", "--format", "nagios",
        )  # fmt: skip
        held, _ = silent.accept()  # the check is under way: Ctrl-Break it
        broken.send_signal(CTRL_BREAK)
        assert _finish(broken) == (3, NAGIOS_INTERRUPTED, "conntest: interrupted\n")
        held.close()

        deadline = time.monotonic() + 60
        while not lab_state.exists():  # written once the lab listens (and handles Ctrl-Break)
            assert lab.poll() is None, _finish(lab)
            assert time.monotonic() < deadline, "the lab never wrote its state file"
            time.sleep(0.05)
        lab.send_signal(CTRL_BREAK)
        code, _out, err = _finish(lab)
        assert code == 0 and "conntest lab stopped" in err and "Traceback" not in err, err

        code, out, err = _finish(profiles)
        assert code == 0 and "thunderbird" in out, err
        code, out, err = _finish(from_file)
        assert code == 0 and out.startswith("CONNTEST OK"), (out, err)
        code, out, err = _finish(from_stdin)
        assert code == 0, err
        report = json.loads(out)
        assert (report["user"], report["verdict"]) == ("alice@contoso.com", "ok"), out
        code, out, err = _finish(attributes)
        assert code == 0, err
        assert {line.split()[0] for line in out.splitlines()} == {"stdin", "fifo"}
    finally:
        silent.close()
        os.close(silent_writer)


def _windows_names() -> dict[str, list[str]]:
    return {
        "os": sorted(POSIX_ONLY_OS),
        "select": sorted(WINDOWS_SELECT),
        "signal": sorted(WINDOWS_SIGNAL),
    }
