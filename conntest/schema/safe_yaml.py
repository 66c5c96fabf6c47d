"""The one YAML loader of every file conntest reads, with limits and line numbers.

Profiles, batch files, the ``serve`` config and the lab's accounts file are
written by hand and may come from someone else, so the loader accepts plain
YAML only and refuses, with one :class:`~conntest.schema.problem.Problem` per
refusal, never a traceback:

* a file larger than :data:`MAX_BYTES`, or anything but a regular file;
* nesting deeper than :data:`MAX_DEPTH` (a 20,000-deep file would exhaust
  the parser's recursion) or more than :data:`MAX_NODES` values;
* more than :data:`MAX_NODES` values once aliases (``*name``) are expanded,
  so that anchors cannot blow a small file up into a huge one (a "billion
  laughs"), and an alias inside its own anchor;
* merge keys (``<<:``), which hide where a value came from;
* tags other than YAML's core schema (``!!python/object``, ``!!binary``,
  ``!custom``, …);
* complex mapping keys (a list or mapping used as a key).

What it returns keeps positions: mappings are :class:`YamlMap` (the line of
each key, and the keys written twice) and lists :class:`YamlList` (the line
of each item), so a problem found later can say "line 12".
"""

from __future__ import annotations

import os
import stat
from collections.abc import Hashable
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from conntest.open_flags import READ, open_fd
from conntest.schema.problem import Problem

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "YamlList",
    "YamlMap",
    "line_of",
    "load_yaml",
    "parse_yaml",
    "read_text",
    "syntax_found",
]

MAX_BYTES = 1024 * 1024
"""Far above any profile or batch of a few thousand accounts."""
MAX_DEPTH = 32
"""Nesting of mappings and lists; conntest's files need four."""
MAX_NODES = 200_000
"""Values in one file (a batch of 10,000 accounts needs about 60,000)."""

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    _CORE + name for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)


class YamlMap(dict[Any, Any]):
    """A YAML mapping that remembers on which line each key was written.

    Duplicate keys are recorded too: YAML keeps the last one silently, which
    hides a typo'd override.
    """

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Hashable, int] = {}
        self.duplicates: list[tuple[Hashable, int]] = []


class YamlList(list[Any]):
    """A YAML sequence that remembers its line and the line of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


def line_of(value: object, default: int | None = None) -> int | None:
    """The line a :class:`YamlMap` or :class:`YamlList` starts on, else ``default``."""
    return value.line if isinstance(value, YamlMap | YamlList) else default


class _Refused(Exception):
    def __init__(self, expected: str, found: str, mark: Any) -> None:
        super().__init__(expected)
        self.expected = expected
        self.found = found
        self.line = mark.line + 1 if mark is not None else None


class _LimitedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader``'s composer with a depth and size limit, and no aliases."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(f"at most {MAX_NODES} values", "more", event.start_mark)
        nested = isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"at most {MAX_DEPTH} levels of nesting", "deeper nesting", event.start_mark
                )
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a value"


class _Builder:
    """Node tree → :class:`YamlMap`/:class:`YamlList`/scalars, refusing what YAML should not do.

    Aliases are expanded (a generated file repeats values with ``&id001``),
    counted against :data:`MAX_NODES` and :data:`MAX_DEPTH` as they expand.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.scalars = yaml.SafeLoader("")
        self.values = 0
        self.depth = 0

    def refuse(self, path: str, expected: str, found: str, node: yaml.Node) -> None:
        self.problems.append(Problem(self.file, path, expected, found, node.start_mark.line + 1))

    def build(self, node: yaml.Node, path: str) -> Any:
        self.values += 1
        if self.values > MAX_NODES:
            raise _Refused(
                f"at most {MAX_NODES} values (aliases expanded)", "more", node.start_mark
            )
        if node.tag not in _ALLOWED_TAGS:
            self.refuse(path, "plain YAML (no tags)", f"the tag {node.tag}", node)
            return None
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    expected = f"at most {MAX_DEPTH} levels of nesting (aliases expanded)"
                    raise _Refused(expected, "deeper nesting", node.start_mark)
                return self.collection(node, path)
            finally:
                self.depth -= 1
        return self.scalars.construct_object(node)

    def collection(self, node: yaml.MappingNode | yaml.SequenceNode, path: str) -> Any:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            mapping = YamlMap(line)
            for key_node, value_node in node.value:
                key = self.key(key_node, path)
                if key is None:
                    continue
                value = self.build(value_node, _join(path, key))
                key_line = key_node.start_mark.line + 1
                if key in mapping.key_lines:
                    mapping.duplicates.append((key, key_line))
                mapping.key_lines[key] = key_line  # the last one wins, as its value does
                mapping[key] = value
            return mapping
        items = YamlList(line)
        for index, item in enumerate(node.value):
            items.append(self.build(item, f"{path}[{index}]"))
            items.item_lines.append(item.start_mark.line + 1)
        return items

    def key(self, node: yaml.Node, path: str) -> Hashable | None:
        if node.tag == _CORE + "merge":
            self.refuse(
                _join(path, "<<"), "no merge keys (write the keys out)", "a merge key", node
            )
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.refuse(path, "a plain key", f"{_kind(node)} used as a key", node)
            return None
        if node.tag not in _ALLOWED_TAGS:
            self.refuse(path, "plain YAML (no tags)", f"the tag {node.tag}", node)
            return None
        key = self.scalars.construct_object(node)
        if not isinstance(key, Hashable):  # pragma: no cover - scalars are hashable
            return None
        return key


def parse_yaml(text: str, file: str) -> tuple[Any, list[Problem]]:
    """The document in ``text`` (``None`` for an empty one) and the problems refusing it.

    When the problems are not empty, the value is ``None``: a file that uses
    what the loader refuses is not read at all.
    """
    if len(text) > MAX_BYTES:
        return None, [Problem(file, "", f"a file of at most {MAX_BYTES} bytes", "a larger one")]
    loader = _LimitedLoader(text)
    try:
        root = loader.get_single_node()
    except _Refused as exc:
        return None, [Problem(file, "", exc.expected, exc.found, exc.line)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        return None, [Problem(file, "", "valid YAML", syntax_found(exc), line)]
    except yaml.YAMLError as exc:
        return None, [Problem(file, "", "valid YAML", str(exc).splitlines()[0])]
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops it first
        return None, [Problem(file, "", f"at most {MAX_DEPTH} levels of nesting", "deeper")]
    finally:
        loader.dispose()
    if root is None:
        return None, []
    builder = _Builder(file)
    try:
        value = builder.build(root, "")
    except _Refused as exc:
        return None, [Problem(file, "", exc.expected, exc.found, exc.line)]
    if builder.problems:
        return None, builder.problems
    return value, []


_AT_TOKEN_START = {
    "character '\\t' that cannot start any token": (
        "a tab where YAML expects a value or an indent (YAML indents with spaces only)"
    ),
    "character '@' that cannot start any token": (
        "'@' at the start of a value (YAML reserves it: put the value in quotes)"
    ),
    "character '`' that cannot start any token": (
        "'`' at the start of a value (YAML reserves it: put the value in quotes)"
    ),
}
"""PyYAML's words for the characters people meet most, said with the way out."""


def syntax_found(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's complaint, phrased to follow the word "found" of a :class:`Problem`.

    Most of its texts already start with "found" ("found character '@' that
    cannot start any token"), which after the Problem's own "found" read
    "found found character"; the others ("mapping values are not allowed
    here") follow it as they are.  A duplicate anchor puts its "found" in the
    context ("second occurrence" is the problem).
    """
    for text in (exc.problem or "", exc.context or ""):
        if text.startswith("found "):
            what = text.removeprefix("found ").partition(";")[0]
            return _AT_TOKEN_START.get(what, what)
    return exc.problem or exc.context or "a syntax error"


def read_text(
    source: Traversable, file: str, what: str = "a YAML file"
) -> tuple[str | None, list[Problem]]:
    """The UTF-8 text of ``source``, bounded by :data:`MAX_BYTES`; only a regular file.

    A FIFO, a device or a directory is a problem, never a hang.
    """
    try:
        if isinstance(source, Path):
            data = _read_path(source)
        else:
            with source.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
    except _NotAFile as exc:
        return None, [Problem(file, "", what, str(exc))]
    except FileNotFoundError:
        return None, [Problem(file, "", what, "nothing at that path")]
    except IsADirectoryError:
        return None, [Problem(file, "", what, "a directory")]
    except OSError as exc:
        return None, [Problem(file, "", "a readable file", exc.strerror or str(exc))]
    if len(data) > MAX_BYTES:
        return None, [Problem(file, "", f"a file of at most {MAX_BYTES} bytes", "a larger one")]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        return None, [Problem(file, "", "UTF-8 text", f"a non-UTF-8 byte at offset {exc.start}")]


class _NotAFile(Exception):
    pass


def _read_path(path: Path) -> bytes:
    fd = open_fd(path, READ)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device or special file"
            raise _NotAFile(kind)
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_yaml(
    source: Traversable, file: str, what: str = "a YAML file"
) -> tuple[Any, list[Problem]]:
    """:func:`read_text` then :func:`parse_yaml`: the document and the problems."""
    text, problems = read_text(source, file, what)
    if text is None:
        return None, problems
    return parse_yaml(text, file)
