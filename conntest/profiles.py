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
``_ProfileReader.check_section``; the reading itself is
:class:`conntest.schema.reader.ModelReader`, shared with the other file kinds.

Nothing here imports a UI or touches the network.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePath
from typing import Any, Literal

from conntest.errors import ProfileError, UsageError
from conntest.profile import TLS_VERSIONS, Profile
from conntest.schema.problem import Problem
from conntest.schema.reader import ModelReader, ValueRule, describe_yaml, plural
from conntest.schema.safe_yaml import parse_yaml, read_text

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


# --------------------------------------------------------------------------
# Rules a type cannot express


def _is_host(value: str) -> bool:
    return bool(value) and not any(ch.isspace() for ch in value)


_PORT_RULE = ValueRule("an integer 1-65535", lambda v: 1 <= v <= 65535)
_HOST_RULE = ValueRule("a host name (no spaces)", _is_host)
_VALUE_RULES: dict[str, ValueRule] = {
    "id": ValueRule(
        "an id of lowercase letters, digits and '-' (starting with a letter or digit)",
        lambda v: ID_PATTERN.fullmatch(v) is not None,
    ),
    "name": ValueRule("a non-empty string", lambda v: bool(v.strip())),
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


class _ProfileReader(ModelReader):
    """Turns one parsed YAML document into a :class:`Profile`, noting every problem."""

    def __init__(self, file: str) -> None:
        super().__init__(file, _VALUE_RULES, _LOADER_SET)

    def profile(self, raw: object, stem: str) -> Profile | None:
        if not isinstance(raw, dict):
            found = "an empty file" if raw is None else describe_yaml(raw)
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

    def check_id_field(self, path: str, name: str, text: str, line: int | None) -> bool:
        """RFC 2971 limits, so a profile cannot make a probe send an invalid ID."""
        ok = True
        if len(name.encode()) > _ID_MAX_FIELD:
            self.add(
                path,
                f"a field name of at most {_ID_MAX_FIELD} bytes (RFC 2971)",
                plural(len(name.encode()), "byte"),
                line,
            )
            ok = False
        if len(text.encode()) > _ID_MAX_VALUE:
            self.add(
                path,
                f"a value of at most {_ID_MAX_VALUE} bytes (RFC 2971)",
                plural(len(text.encode()), "byte"),
                line,
            )
            ok = False
        return ok

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
                f"{plural(len(id_fields), 'field')} ({', '.join(map(str, id_fields))})",
                lines.get("id_fields"),
            )
        if len(id_fields) > _ID_MAX_PAIRS:
            self.add(
                "imap.id_fields",
                f"at most {_ID_MAX_PAIRS} fields (RFC 2971)",
                plural(len(id_fields), "field"),
                lines.get("id_fields"),
            )

    def check_map_item(
        self, path: str, item_path: str, key: str, text: str, line: int | None
    ) -> bool:
        if path != "imap.id_fields":
            return True
        return self.check_id_field(item_path, key, text, line)


def _parse(text: str, file: str, stem: str) -> tuple[Profile | None, list[Problem]]:
    raw, problems = parse_yaml(text, file)
    if problems:
        return None, problems
    reader = _ProfileReader(file)
    profile = reader.profile(raw, stem)
    if profile is None:
        # In file order, so the report reads top to bottom like the file;
        # problems without a line (missing keys) come last.
        in_order = sorted(reader.problems, key=lambda p: (p.line is None, p.line or 0))
        return None, in_order
    return dataclasses.replace(profile, source=file), []


def _load_source(source: Traversable, file: str) -> tuple[Profile | None, list[Problem]]:
    text, problems = read_text(source, file, "a profile file")
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
