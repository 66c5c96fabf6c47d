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
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import conntest

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
