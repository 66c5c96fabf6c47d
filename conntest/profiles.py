"""Client profiles: YAML files in, typed :class:`~conntest.profile.Profile` out.

A profile says what one mail client does on the wire (which login command,
which TLS versions, whether it sends IMAP ID) and where its settings live. The
probes follow it and the diagnosis quotes it, so a wrong profile gives a wrong
verdict. The loader therefore refuses a file rather than guess, and it reports
every problem in the file at once, because a user fixing a file one error per
run soon gives up.

The contract:

* :func:`load_profile` returns a :class:`Profile` or raises
  :class:`~conntest.errors.ProfileError` carrying *all* the :class:`Problem`\\ s.
* :func:`validate` returns the problems and never raises for bad content.
* :func:`load_profiles` merges three sources, later ones replacing earlier ones
  by id: the profiles shipped in the package, then the user's profile
  directory, then files named on the command line. A broken file becomes
  problems on the returned :class:`ProfileSet`; it never hides the others.

What a file may say comes from the model itself: the allowed keys, the required
ones, the types and the enum values are read off the dataclasses in
:mod:`conntest.profile` and their type hints, so a field added there (with a
default) is accepted here with no second list to keep in step. The few rules a
type cannot express (port range, id pattern, TLS order, settings that
contradict each other) are in ``_VALUE_RULES`` and
``_DocumentReader.check_section``.

Nothing here imports a UI or touches the network.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import typing
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePath
from typing import Any, Literal, TypeVar

import yaml

from conntest.errors import ProfileError, UsageError
from conntest.profile import TLS_VERSIONS, Profile

__all__ = [
    "ID_PATTERN",
    "Problem",
    "ProfileEntry",
    "ProfileSet",
    "SourceKind",
    "builtin_dir",
    "load_profile",
    "load_profiles",
    "profile_to_dict",
    "user_dir",
    "validate",
]

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
"""What a profile id may look like: it is typed on command lines and used as a
file name, so lowercase ASCII, digits and ``-`` only."""

PROFILE_SUFFIXES = (".yaml", ".yml")
"""File names a profile directory is searched for (hidden files are skipped)."""

SourceKind = Literal["builtin", "user", "file"]
"""Where a profile came from: shipped in the package, the user's profile
directory, or a ``--profile-file`` argument (in increasing precedence)."""

_LOADER_SET = frozenset({"source"})
"""Model fields the loader fills in itself; a file may not set them."""

_T = TypeVar("_T")


# --------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one profile file, printable as one line.

    ``str()`` gives ``profiles/x.yaml: imap.port: expected an integer 1-65535,
    found 'abc'``; the ``(line N)`` suffix is added when the YAML position of
    the offending key is known, so an editor can jump there.
    """

    file: str
    """The file as the user named it (relative paths stay relative)."""
    field: str
    """Dotted path of the key (``imap.id_fields.name``, ``notes[2]``); empty
    for a problem with the file as a whole (unreadable, not YAML)."""
    expected: str
    """What would have been accepted, phrased to follow the word "expected"."""
    found: str
    """What was there instead, phrased to follow the word "found"."""
    line: int | None = None
    """1-based line in the file, when the YAML parser told us."""

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}: " if self.field else f"{self.file}: "
        at = f" (line {self.line})" if self.line is not None else ""
        return f"{where}expected {self.expected}, found {self.found}{at}"


# --------------------------------------------------------------------------
# YAML with positions


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers on which line each key was written.

    ``yaml.safe_load`` forgets positions, and "line 12" is most of what makes
    a problem report quick to act on. Duplicate keys are recorded too: the
    safe loader silently keeps the last one, which hides a typo'd override.
    """

    def __init__(self) -> None:
        super().__init__()
        self.line: int | None = None
        self.key_lines: dict[Hashable, int] = {}
        self.duplicates: list[tuple[Hashable, int]] = []


class _LineLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (no arbitrary objects) that builds :class:`_Mapping`\\ s."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[_Mapping]:
    data = _Mapping()
    yield data  # the two-step dance of SafeConstructor.construct_yaml_map: allows recursion
    pairs = list(node.value)  # before construct_mapping flattens merge keys into it
    data.update(loader.construct_mapping(node))
    data.line = node.start_mark.line + 1
    for key_node, _value_node in pairs:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
            continue
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        if key in data.key_lines:
            data.duplicates.append((key, line))
        data.key_lines[key] = line  # the last one wins, as its value does


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


# --------------------------------------------------------------------------
# Rules a type cannot express


@dataclass(frozen=True)
class _ValueRule:
    expected: str
    """Also used when the type is wrong, so the user reads one phrasing."""
    accepts: Callable[[Any], bool]


def _is_host(value: str) -> bool:
    return bool(value) and not any(ch.isspace() for ch in value)


_PORT_RULE = _ValueRule("an integer 1-65535", lambda v: 1 <= v <= 65535)
_HOST_RULE = _ValueRule("a host name (no spaces)", _is_host)
_VALUE_RULES: dict[str, _ValueRule] = {
    "id": _ValueRule(
        "an id of lowercase letters, digits and '-' (starting with a letter or digit)",
        lambda v: ID_PATTERN.fullmatch(v) is not None,
    ),
    "name": _ValueRule("a non-empty string", lambda v: bool(v.strip())),
    "imap.host": _HOST_RULE,
    "imap.port": _PORT_RULE,
    "smtp.host": _HOST_RULE,
    "smtp.port": _PORT_RULE,
}
"""Per-path checks applied after the type check, keyed by dotted path."""

# RFC 2971 section 3.3: limits on what an IMAP ID command may carry.
_ID_MAX_PAIRS = 30
_ID_MAX_FIELD = 30
_ID_MAX_VALUE = 1024


# --------------------------------------------------------------------------
# Reading one document


class _Invalid:
    """Marks a value that failed a check (``None`` is a value YAML can produce)."""


_INVALID = _Invalid()


def _join(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


def _describe(value: object) -> str:
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
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bytes):
        return "binary data"
    if hasattr(value, "isoformat"):
        return f"a date ({value.isoformat()})"  # YAML reads 2024-01-01 as a date
    return f"a {type(value).__name__}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _field_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return _INVALID


class _DocumentReader:
    """Turns one parsed YAML document into a :class:`Profile`, noting every problem.

    Reading never stops at the first problem: a bad value is recorded and
    skipped, and the object is only built when nothing was recorded.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, field: str, expected: str, found: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.file, field, expected, found, line))

    def profile(self, raw: object, stem: str) -> Profile | None:
        if not isinstance(raw, dict):
            found = "an empty file" if raw is None else _describe(raw)
            self.add("", "a mapping of profile keys (id, name, imap, smtp, ...)", found)
            return None
        preset: dict[str, Any] = {}
        if "id" not in raw:
            # The file name is the id unless the file says otherwise; an id that
            # differs from the file name is allowed so that a file of any name
            # can override a builtin profile.
            preset["id"] = stem
            rule = _VALUE_RULES["id"]
            if not rule.accepts(stem):
                self.add("id", rule.expected, f"{stem!r} (taken from the file name; add an id key)")
        built = self.section(raw, Profile, "", None, preset=preset)
        return built if isinstance(built, Profile) and not self.problems else None

    def section(
        self,
        raw: object,
        cls: type[_T],
        where: str,
        line: int | None,
        *,
        preset: Mapping[str, Any] | None = None,
    ) -> _T | _Invalid:
        """Read a mapping into the dataclass ``cls``, whose fields are its keys."""
        if not isinstance(raw, dict):
            self.add(where, f"a mapping of {where} settings", _describe(raw), line)
            return _INVALID
        lines = raw.key_lines if isinstance(raw, _Mapping) else {}
        if isinstance(raw, _Mapping):
            for key, dup_line in raw.duplicates:
                self.add(_join(where, key), "each key once", "it again", dup_line)
        assert dataclasses.is_dataclass(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in _LOADER_SET}
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = dict(preset or {})
        failed: set[str] = set()
        for key, value in raw.items():
            path = _join(where, key)
            key_line = lines.get(key, line)
            if not isinstance(key, str) or key not in fields:
                self.unknown_key(path, key, value, fields, key_line)
                continue
            converted = self.value(value, hints[key], path, key_line)
            if converted is _INVALID:
                failed.add(key)
            else:
                values[key] = converted
        for name, f in fields.items():
            if name not in values and name not in failed and _field_default(f) is _INVALID:
                self.add(_join(where, name), "a value (the key is required)", "no such key")
                failed.add(name)
        known = {n: _field_default(f) for n, f in fields.items() if n not in failed}
        known.update(values)
        self.check_section(where, known, lines)
        if failed:
            return _INVALID
        return cls(**values)

    def unknown_key(
        self, path: str, key: object, value: object, fields: Mapping[str, object], line: int | None
    ) -> None:
        if key in _LOADER_SET:
            expected = f"no {key!r} key (conntest sets it to the file's path)"
            self.add(path, expected, _describe(value), line)
            return
        close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.6)
        if close:
            expected = f"a known key (did you mean {close[0]!r}?)"
        else:
            expected = f"one of the keys {', '.join(fields)}"
        self.add(path, expected, "an unknown key", line)

    def value(self, value: object, hint: Any, path: str, line: int | None) -> Any:
        """Check ``value`` against the type hint ``hint``; ``_INVALID`` if it fails."""
        origin = typing.get_origin(hint)
        rule = _VALUE_RULES.get(path)
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            return self.section(value, hint, path, line)
        if origin is Literal:
            return self.enum(value, typing.get_args(hint), path, line)
        if origin is dict:
            return self.string_map(value, path, line)
        if origin is tuple:
            return self.string_list(value, path, line)
        if hint is bool:
            if isinstance(value, bool):
                return value
            self.add(path, "true or false", _describe(value), line)
            return _INVALID
        if hint is int:
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and (rule is None or rule.accepts(value))
            ):
                return value
            self.add(path, rule.expected if rule else "an integer", _describe(value), line)
            return _INVALID
        if hint is str:
            if isinstance(value, str) and (rule is None or rule.accepts(value)):
                return value
            expected = rule.expected if rule else "a string"
            if isinstance(value, int | float) and not isinstance(value, bool):
                expected += " (put numbers in quotes)"
            self.add(path, expected, _describe(value), line)
            return _INVALID
        # A model field of a type this reader does not know is a bug, not a
        # user mistake: the builtin-profile tests load every field.
        raise TypeError(f"profiles: no reader for {path} of type {hint!r}")

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
        self.add(path, expected, _describe(value), line)
        return _INVALID

    def string_map(self, value: object, path: str, line: int | None) -> Any:
        if not isinstance(value, dict):
            self.add(path, "a mapping of names to strings", _describe(value), line)
            return _INVALID
        lines = value.key_lines if isinstance(value, _Mapping) else {}
        ok = True
        for key, item in value.items():
            item_path = _join(path, key)
            item_line = lines.get(key, line)
            if not isinstance(key, str) or not key:
                expected = "a field name in text (put numbers in quotes)"
                self.add(item_path, expected, _describe(key), item_line)
                ok = False
            if not isinstance(item, str):
                self.add(item_path, "a string (put numbers in quotes)", _describe(item), item_line)
                ok = False
            elif path == "imap.id_fields" and isinstance(key, str):
                ok = self.check_id_field(item_path, key, item, item_line) and ok
        return dict(value) if ok else _INVALID

    def check_id_field(self, path: str, name: str, text: str, line: int | None) -> bool:
        """RFC 2971 limits, so a profile cannot make a probe send an invalid ID."""
        ok = True
        if len(name.encode()) > _ID_MAX_FIELD:
            self.add(
                path,
                f"a field name of at most {_ID_MAX_FIELD} bytes (RFC 2971)",
                _plural(len(name.encode()), "byte"),
                line,
            )
            ok = False
        if len(text.encode()) > _ID_MAX_VALUE:
            self.add(
                path,
                f"a value of at most {_ID_MAX_VALUE} bytes (RFC 2971)",
                _plural(len(text.encode()), "byte"),
                line,
            )
            ok = False
        return ok

    def string_list(self, value: object, path: str, line: int | None) -> Any:
        if not isinstance(value, list):
            self.add(path, "a list of strings", _describe(value), line)
            return _INVALID
        bad = [i for i, item in enumerate(value) if not isinstance(item, str)]
        for i in bad:
            self.add(f"{path}[{i}]", "a string", _describe(value[i]), line)
        return _INVALID if bad else tuple(value)

    def check_section(self, where: str, known: Mapping[str, Any], lines: Mapping[Any, int]) -> None:
        """Rules that relate two settings of one section.

        ``known`` holds the values that passed their own checks (defaults for
        absent keys), so a rule runs whenever both of its inputs are usable,
        even if an unrelated key in the same section is broken.
        """
        if where == "tls" and "min" in known and "max" in known:
            low, high = known["min"], known["max"]
            if TLS_VERSIONS.index(low) > TLS_VERSIONS.index(high):
                self.add(
                    "tls.min",
                    f"a version no higher than tls.max ({high!r})",
                    repr(low),
                    lines.get("min"),
                )
        if where != "imap":
            return
        if known.get("sasl_ir") is True and known.get("login") == "login":
            self.add(
                "imap.sasl_ir",
                "false while imap.login is 'login' (SASL-IR only exists for AUTHENTICATE)",
                "true",
                lines.get("sasl_ir"),
            )
        id_fields = known.get("id_fields")
        if not isinstance(id_fields, dict):
            return
        # ID fields with send_id 'never' contradict each other: the author
        # meant one or the other, and a probe that silently dropped the ID
        # would test a client that does not exist. So it is a problem, not a
        # warning (a problem is the only kind there is).
        if id_fields and known.get("send_id") == "never":
            self.add(
                "imap.id_fields",
                "no fields while imap.send_id is 'never' "
                "(set send_id to 'before-login' or 'after-login', or remove id_fields)",
                f"{_plural(len(id_fields), 'field')} ({', '.join(map(str, id_fields))})",
                lines.get("id_fields"),
            )
        if len(id_fields) > _ID_MAX_PAIRS:
            self.add(
                "imap.id_fields",
                f"at most {_ID_MAX_PAIRS} fields (RFC 2971)",
                _plural(len(id_fields), "field"),
                lines.get("id_fields"),
            )


def _read_text(source: Traversable, file: str) -> tuple[str | None, list[Problem]]:
    try:
        return source.read_text(encoding="utf-8"), []
    except FileNotFoundError:
        return None, [Problem(file, "", "a profile file", "nothing at that path")]
    except IsADirectoryError:
        return None, [Problem(file, "", "a profile file", "a directory")]
    except UnicodeDecodeError as exc:
        return None, [Problem(file, "", "UTF-8 text", f"a non-UTF-8 byte at offset {exc.start}")]
    except OSError as exc:
        return None, [Problem(file, "", "a readable file", exc.strerror or str(exc))]


def _parse(text: str, file: str, stem: str) -> tuple[Profile | None, list[Problem]]:
    try:
        # _LineLoader subclasses SafeLoader and adds only a mapping constructor,
        # so this is yaml.safe_load plus line numbers (ruff cannot see that).
        raw = yaml.load(text, Loader=_LineLoader)  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "a syntax error"
        return None, [Problem(file, "", "valid YAML", what, line)]
    except yaml.YAMLError as exc:
        return None, [Problem(file, "", "valid YAML", str(exc).splitlines()[0])]
    reader = _DocumentReader(file)
    profile = reader.profile(raw, stem)
    if profile is None:
        # In file order, so the report reads top to bottom like the file;
        # problems without a line (missing keys) come last.
        in_order = sorted(reader.problems, key=lambda p: (p.line is None, p.line or 0))
        return None, in_order
    return dataclasses.replace(profile, source=file), []


def _load_source(source: Traversable, file: str) -> tuple[Profile | None, list[Problem]]:
    text, problems = _read_text(source, file)
    if text is None:
        return None, problems
    return _parse(text, file, PurePath(source.name).stem)


# --------------------------------------------------------------------------
# Public: one file


def load_profile(path: Path) -> Profile:
    """Load one profile file; raise :class:`ProfileError` listing every problem in it.

    The id defaults to the file name without its suffix; ``Profile.source`` is
    set to ``str(path)``.
    """
    profile, problems = _load_source(path, str(path))
    if profile is None:
        raise ProfileError(problems)
    return profile


def validate(paths: Iterable[Path]) -> list[Problem]:
    """Every problem in the given files and directories (their ``*.yaml``, ``*.yml``).

    Also reports two files that define the same id, which in a profile
    directory would leave it to file-name order which one wins.
    """
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in paths:
        sources = _profile_files(path, problems) if path.is_dir() else [path]
        for source in sources:
            profile, found = _load_source(source, str(source))
            problems.extend(found)
            if profile is not None:
                duplicate = _duplicate_id(profile, seen)
                if duplicate is not None:
                    problems.append(duplicate)
    return problems


def _duplicate_id(profile: Profile, seen: dict[str, str]) -> Problem | None:
    first = seen.setdefault(profile.id, profile.source)
    if first == profile.source:
        return None
    return Problem(
        profile.source,
        "id",
        f"an id no other file here defines ({first} defines it too)",
        repr(profile.id),
    )


# --------------------------------------------------------------------------
# Public: discovery


def builtin_dir() -> Traversable:
    """The profiles shipped inside the package (``conntest/profiles_data``).

    A :class:`~importlib.resources.abc.Traversable` rather than a path, so
    that it also works when the package is imported from a zip file.
    """
    return files("conntest").joinpath("profiles_data")


def user_dir() -> Path:
    """The user's profile directory: ``profiles`` in :func:`conntest.paths.config_dir`.

    ``$XDG_CONFIG_HOME/conntest/profiles`` (``~/.config/conntest/profiles``
    when unset, empty or relative) on Linux, ``%APPDATA%\\conntest\\profiles``
    on Windows.  The directory need not exist.
    """
    from conntest.paths import config_dir

    return config_dir() / "profiles"


def _profile_files(directory: Traversable, problems: list[Problem]) -> list[Traversable]:
    try:
        if not directory.is_dir():
            return []
        children = list(directory.iterdir())
    except OSError as exc:
        problems.append(
            Problem(str(directory), "", "a readable directory", exc.strerror or str(exc))
        )
        return []
    chosen = [
        child
        for child in children
        if child.name.endswith(PROFILE_SUFFIXES) and not child.name.startswith(".")
    ]
    return sorted(chosen, key=lambda child: child.name)


@dataclass(frozen=True)
class ProfileEntry:
    """A loaded profile, where it came from and what it replaced."""

    profile: Profile
    kind: SourceKind
    path: str
    """The file it was loaded from (for builtins, inside the installed package)."""
    overridden: tuple[ProfileEntry, ...] = ()
    """The definitions of the same id this one replaced, nearest first."""

    @property
    def source_label(self) -> str:
        """The SOURCE column of ``conntest profiles list``.

        ``builtin``, or the file's path, followed by what it overrides, so a
        user can see at a glance why a profile no longer behaves as shipped.
        """
        label = "builtin" if self.kind == "builtin" else self.path
        if self.overridden:
            replaced = ", ".join(
                "builtin" if e.kind == "builtin" else e.path for e in self.overridden
            )
            label += f" (overrides {replaced})"
        return label


@dataclass(frozen=True)
class ProfileSet:
    """The profiles available to a run, after overrides, and the files that failed.

    Iterating yields profiles ordered by id. ``problems`` holds the problems
    of files that could not be loaded; their profiles are simply absent (or
    still present from a lower-precedence source), and the front end decides
    whether to print them and how to exit.
    """

    entries: Mapping[str, ProfileEntry]
    problems: tuple[Problem, ...] = ()

    def ids(self) -> list[str]:
        return sorted(self.entries)

    def entry(self, profile_id: str) -> ProfileEntry:
        """The entry for ``profile_id``; :class:`UsageError` naming the known ids if none."""
        try:
            return self.entries[profile_id]
        except KeyError:
            pass
        known = self.ids()
        message = f"unknown profile {profile_id!r}; known profiles: {', '.join(known) or 'none'}"
        close = difflib.get_close_matches(profile_id, known, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        raise UsageError(message)

    def get(self, profile_id: str) -> Profile:
        """The profile ``profile_id``; :class:`UsageError` naming the known ids if none."""
        return self.entry(profile_id).profile

    def __iter__(self) -> Iterator[Profile]:
        return (self.entries[i].profile for i in self.ids())

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, profile_id: object) -> bool:
        return profile_id in self.entries


def load_profiles(
    extra_files: Sequence[Path] = (),
    *,
    builtin: Traversable | None = None,
    user: Path | None = None,
) -> ProfileSet:
    """Every available profile: builtin, then the user directory, then ``extra_files``.

    A later source replaces an earlier one's profile of the same id, whole:
    fields are not merged, so a user override is a complete profile and reads
    the same wherever it is found. Within one source two files with the same
    id are a problem and the first (by file name, or command-line order) is
    kept. ``builtin`` and ``user`` default to :func:`builtin_dir` and
    :func:`user_dir`; tests pass their own.
    """
    problems: list[Problem] = []
    user_path = user_dir() if user is None else user
    if user_path.exists() and not user_path.is_dir():
        problems.append(Problem(str(user_path), "", "a directory of profiles", "a file"))
    tiers: list[tuple[SourceKind, list[Traversable]]] = [
        ("builtin", _profile_files(builtin_dir() if builtin is None else builtin, problems)),
        ("user", _profile_files(user_path, problems)),
        ("file", list(extra_files)),
    ]
    entries: dict[str, ProfileEntry] = {}
    for kind, sources in tiers:
        seen: dict[str, str] = {}
        for source in sources:
            profile, found = _load_source(source, str(source))
            problems.extend(found)
            if profile is None:
                continue
            duplicate = _duplicate_id(profile, seen)
            if duplicate is not None:
                problems.append(duplicate)
                continue
            previous = entries.get(profile.id)
            overridden = () if previous is None else (previous, *previous.overridden)
            entries[profile.id] = ProfileEntry(profile, kind, profile.source, overridden)
    return ProfileSet(dict(sorted(entries.items())), tuple(problems))


# --------------------------------------------------------------------------
# Public: output


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    """A JSON-ready copy of ``profile``, keyed like its YAML file (plus ``source``)."""
    plain = _plain(dataclasses.asdict(profile))
    assert isinstance(plain, dict)
    return plain


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
