"""The model-driven reader: a YAML document in, a typed dataclass out, every problem noted.

What a file may say comes from the model itself: the allowed keys, the
required ones, the types and the enum values are read off the dataclasses
and their type hints, so a field added to a model (with a default) is
accepted with no second list to keep in step.  Reading never stops at the
first problem: a bad value is recorded as a :class:`~conntest.schema.problem.Problem`
and skipped, and the object is only built when nothing was recorded.

The rules a type cannot express come in two ways: :class:`ValueRule`\\ s keyed
by dotted path (a port range, an id pattern), and the hooks
:meth:`ModelReader.check_section` and :meth:`ModelReader.check_map_item`,
which a file kind's reader overrides (see :mod:`conntest.profiles`).

It reads the output of :mod:`conntest.schema.safe_yaml` (mappings that know
their lines).  Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from conntest.schema.problem import Problem
from conntest.schema.safe_yaml import YamlList, YamlMap, line_of

__all__ = [
    "INVALID",
    "Invalid",
    "ModelReader",
    "ValueRule",
    "describe_yaml",
    "duplicate_key_problem",
    "field_default",
    "join",
    "missing_key_problem",
    "plural",
    "unknown_key_problem",
]

T = TypeVar("T")

_INDEX = re.compile(r"\[\d+\]")
"""List indices in a path; a :class:`ValueRule` of ``accounts[].address`` serves every item."""


@dataclass(frozen=True)
class ValueRule:
    """A check applied after the type check, for one dotted path."""

    expected: str
    """Also used when the type is wrong, so the user reads one phrasing."""
    accepts: Callable[[Any], bool]
    """True when the (well-typed) value is acceptable."""


class Invalid:
    """Marks a value that failed a check (``None`` is a value YAML can produce)."""


INVALID = Invalid()


def join(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


def describe_yaml(value: object) -> str:
    """Name a YAML value the way a user would recognise it in their file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 60 else text[:56] + "...'"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, bytes):
        return "binary data"
    if hasattr(value, "isoformat"):
        return f"a date ({value.isoformat()})"  # YAML reads 2024-01-01 as a date
    return f"a {type(value).__name__}"


def unknown_key_problem(
    file: str, path: str, key: object, known: Sequence[str], line: int | None
) -> Problem:
    """The one wording of a key no model has, for every file kind, with the closest known key.

    ``imap.hots: expected a known key (did you mean 'host'?), found an unknown key``;
    with nothing close, the known keys are listed.
    """
    close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
    if close:
        expected = f"a known key (did you mean {close[0]!r}?)"
    else:
        expected = f"one of the keys {', '.join(known)}"
    return Problem(file, path, expected, "an unknown key", line)


def duplicate_key_problem(file: str, path: str, line: int | None) -> Problem:
    """A key written twice in one mapping (YAML keeps the last; the user meant one)."""
    return Problem(file, path, "each key once", "it again", line)


def missing_key_problem(file: str, path: str, line: int | None = None) -> Problem:
    """A required key that is not there."""
    return Problem(file, path, "a value (the key is required)", "no such key", line)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def field_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return INVALID


class ModelReader:
    """Reads mappings into dataclasses, collecting one :class:`Problem` per mistake."""

    def __init__(
        self,
        file: str,
        value_rules: Mapping[str, ValueRule] | None = None,
        loader_set: frozenset[str] = frozenset(),
    ) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.value_rules: Mapping[str, ValueRule] = value_rules or {}
        """Per-path checks applied after the type check, keyed by dotted path."""
        self.loader_set = loader_set
        """Model fields the loader fills in itself; a file may not set them."""

    def add(self, field: str, expected: str, found: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.file, field, expected, found, line))

    def section(
        self,
        raw: object,
        cls: type[T],
        where: str,
        line: int | None,
        *,
        preset: Mapping[str, Any] | None = None,
    ) -> T | Invalid:
        """Read a mapping into the dataclass ``cls``, whose fields are its keys."""
        if not isinstance(raw, dict):
            if where.endswith("]"):  # an item of a list of sections
                names = ", ".join(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
                expected = f"a mapping with the keys {names}"
            else:
                expected = f"a mapping of {where} settings"
            self.add(where, expected, describe_yaml(raw), line)
            return INVALID
        lines = raw.key_lines if isinstance(raw, YamlMap) else {}
        if isinstance(raw, YamlMap):
            for key, dup_line in raw.duplicates:
                self.problems.append(duplicate_key_problem(self.file, join(where, key), dup_line))
        assert dataclasses.is_dataclass(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in self.loader_set}
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = dict(preset or {})
        failed: set[str] = set()
        for key, value in raw.items():
            path = join(where, key)
            key_line = lines.get(key, line)
            if not isinstance(key, str) or key not in fields:
                self.unknown_key(path, key, value, fields, key_line)
                continue
            converted = self.value(value, hints[key], path, key_line)
            if converted is INVALID:
                failed.add(key)
            else:
                values[key] = converted
        for name, f in fields.items():
            if name not in values and name not in failed and field_default(f) is INVALID:
                # An item of a list is named by its line (the path's index is easy to miscount).
                at = line if where.endswith("]") else None
                self.problems.append(missing_key_problem(self.file, join(where, name), at))
                failed.add(name)
        known = {n: field_default(f) for n, f in fields.items() if n not in failed}
        known.update(values)
        self.check_section(where, known, lines)
        if failed:
            return INVALID
        return cls(**values)

    def unknown_key(
        self, path: str, key: object, value: object, fields: Mapping[str, object], line: int | None
    ) -> None:
        if key in self.loader_set:
            expected = f"no {key!r} key (conntest sets it to the file's path)"
            self.add(path, expected, describe_yaml(value), line)
            return
        self.problems.append(unknown_key_problem(self.file, path, key, list(fields), line))

    def value(self, value: object, hint: Any, path: str, line: int | None) -> Any:
        """Check ``value`` against the type hint ``hint``; ``INVALID`` if it fails."""
        origin = typing.get_origin(hint)
        if origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint):
            # ``X | None``: an empty value (``key:``) leaves the setting unset.
            if value is None:
                return None
            (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
            return self.value(value, inner, path, line)
        rule = self.value_rules.get(_INDEX.sub("[]", path))
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            return self.section(value, hint, path, line)
        if origin is Literal:
            return self.enum(value, typing.get_args(hint), path, line)
        if origin is dict:
            return self.string_map(value, path, line)
        if origin is tuple:
            item = typing.get_args(hint)[0]
            if dataclasses.is_dataclass(item) and isinstance(item, type):
                return self.section_list(value, item, path, line)
            return self.string_list(value, path, line)
        if hint is bool:
            if isinstance(value, bool):
                return value
            self.add(path, "true or false", describe_yaml(value), line)
            return INVALID
        if hint is int:
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and (rule is None or rule.accepts(value))
            ):
                return value
            self.add(path, rule.expected if rule else "an integer", describe_yaml(value), line)
            return INVALID
        if hint is str:
            if isinstance(value, str) and (rule is None or rule.accepts(value)):
                return value
            expected = rule.expected if rule else "a string"
            if isinstance(value, int | float) and not isinstance(value, bool):
                expected += " (put numbers in quotes)"
            self.add(path, expected, describe_yaml(value), line)
            return INVALID
        # A model field of a type this reader does not know is a bug, not a
        # user mistake: the builtin-profile tests load every field.
        raise TypeError(f"schema: no reader for {path} of type {hint!r}")

    def enum(self, value: object, allowed: tuple[Any, ...], path: str, line: int | None) -> Any:
        if isinstance(value, str) and value in allowed:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool) and str(value) in allowed:
            return str(value)  # `min: 1.2` without quotes reads as a float; accept it
        expected = "one of " + ", ".join(repr(a) for a in allowed)
        if isinstance(value, str):
            by_lower = {str(a).lower(): str(a) for a in allowed}
            # A high cutoff: suggest for case slips and typos, not '1.3' for '1.4'.
            close = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.75)
            if close:
                expected += f" (did you mean {by_lower[close[0]]!r}?)"
        self.add(path, expected, describe_yaml(value), line)
        return INVALID

    def string_map(self, value: object, path: str, line: int | None) -> Any:
        if not isinstance(value, dict):
            self.add(path, "a mapping of names to strings", describe_yaml(value), line)
            return INVALID
        lines = value.key_lines if isinstance(value, YamlMap) else {}
        ok = True
        for key, item in value.items():
            item_path = join(path, key)
            item_line = lines.get(key, line)
            if not isinstance(key, str) or not key:
                expected = "a field name in text (put numbers in quotes)"
                self.add(item_path, expected, describe_yaml(key), item_line)
                ok = False
            if not isinstance(item, str):
                self.add(
                    item_path, "a string (put numbers in quotes)", describe_yaml(item), item_line
                )
                ok = False
            elif isinstance(key, str):
                ok = self.check_map_item(path, item_path, key, item, item_line) and ok
        return dict(value) if ok else INVALID

    def section_list(self, value: object, cls: type[T], path: str, line: int | None) -> Any:
        """A non-empty list of mappings, each read into ``cls`` (``accounts[2].address``)."""
        if not isinstance(value, list) or not value:
            self.add(path, f"a non-empty list of {path}", describe_yaml(value), line)
            return INVALID
        item_lines = value.item_lines if isinstance(value, YamlList) else []
        out: list[T] = []
        ok = True
        for i, item in enumerate(value):
            at = line_of(item, item_lines[i] if i < len(item_lines) else line)
            read = self.section(item, cls, f"{path}[{i}]", at)
            if isinstance(read, Invalid):
                ok = False
            else:
                out.append(read)
        return tuple(out) if ok else INVALID

    def string_list(self, value: object, path: str, line: int | None) -> Any:
        if not isinstance(value, list):
            self.add(path, "a list of strings", describe_yaml(value), line)
            return INVALID
        bad = [i for i, item in enumerate(value) if not isinstance(item, str)]
        for i in bad:
            self.add(f"{path}[{i}]", "a string", describe_yaml(value[i]), line)
        return INVALID if bad else tuple(value)

    def check_map_item(
        self, path: str, item_path: str, key: str, text: str, line: int | None
    ) -> bool:
        """Hook: a further check of one ``key: text`` item of the string map at ``path``."""
        del path, item_path, key, text, line
        return True

    def check_section(self, where: str, known: Mapping[str, Any], lines: Mapping[Any, int]) -> None:
        """Hook: rules that relate two settings of one section (``known``: the usable values)."""
        del where, known, lines
