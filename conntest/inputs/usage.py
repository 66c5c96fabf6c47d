"""argparse's "required" errors in the user's words, not the parser's variable names.

argparse says ``the following arguments are required: profiles_command``
when ``conntest profiles`` is given no subcommand: the name is the
attribute the code reads (``dest``), which means nothing to the user.  The
parser that raised knows what it expected: a subcommand from a list, or a
value (``schema``'s kind, ``completion``'s shell, ``explain``'s text), so
the line says that instead, naming the command:
``profiles: expected a subcommand (list, show, path, validate)``.
"""

from __future__ import annotations

import argparse

__all__ = ["readable_usage_error"]

_REQUIRED = "the following arguments are required: "


def readable_usage_error(parser: argparse.ArgumentParser, message: str) -> str:
    """``message`` with each missing argument said as what was expected; others unchanged."""
    if not message.startswith(_REQUIRED):
        return message
    command = parser.prog.split(" ", 1)[1] if " " in parser.prog else parser.prog
    missing = message.removeprefix(_REQUIRED).split(", ")
    said = [_expected(parser, name) for name in missing]
    return f"{command}: " + "; ".join(said)


def _expected(parser: argparse.ArgumentParser, name: str) -> str:
    """What the argument argparse called ``name`` is, for the user."""
    for action in parser._actions:
        if action.option_strings:
            continue  # a required option: argparse names it by its option, already clear
        if name not in {action.dest, action.metavar, _choices_form(action)}:
            continue
        choices = ", ".join(str(c) for c in action.choices) if action.choices else ""
        if isinstance(action, argparse._SubParsersAction):
            return f"expected a subcommand ({choices})"
        what = action.metavar if isinstance(action.metavar, str) else action.dest
        if choices:
            return f"expected a {what} (one of {choices})"
        return f"expected {what}" + (f" ({action.help})" if action.help else "")
    return f"expected {name}"


def _choices_form(action: argparse.Action) -> str:
    """``{a,b,c}``: how newer argparse names an argument that has choices and no metavar."""
    return "{" + ",".join(str(c) for c in action.choices) + "}" if action.choices else ""
