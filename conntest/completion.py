"""``conntest completion SHELL``: the shell's completion script, generated from the parser.

shtab (pure Python, no dependencies of its own) writes the script from the
full parser, :func:`conntest.cli_parser.build_parser` with every subcommand
built, so every subcommand, option and choice is offered whichever command
line asked for the script.  shtab is imported here only, so no other command
pays for it (tests/unit/test_imports_per_command.py).
"""

from __future__ import annotations

from conntest.cli_parser import SHELLS

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import argparse

__all__ = ["SHELLS", "completion_script"]

_FILE_METAVARS = frozenset({"PATH", "PEM", "YAML", "JSON", "FILE"})
"""Metavars of options that name a file: completed with the shell's file names."""


def _mark_files(parser: argparse.ArgumentParser) -> None:
    """Offer file names for the options that take a file (``--ca-file``, ``--batch``, …)."""
    import argparse

    import shtab

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                _mark_files(sub)
        elif action.metavar in _FILE_METAVARS or getattr(action.type, "__name__", "") in (
            "path",
            "ca_file",
        ):
            action.complete = shtab.FILE  # type: ignore[attr-defined]


def completion_script(shell: str) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`), ending with a newline."""
    import shtab

    from conntest.cli_parser import build_parser

    if shell not in SHELLS:
        raise ValueError(f"no completion for {shell!r}; known: {', '.join(SHELLS)}")
    parser = build_parser()
    _mark_files(parser)
    script = shtab.complete(parser, shell=shell)
    return script if script.endswith("\n") else script + "\n"
