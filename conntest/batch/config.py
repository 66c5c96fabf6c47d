"""The batch file (``conntest check --batch``) and the exporter's config (``conntest serve``).

One YAML schema serves both::

    defaults:                       # optional; every key an entry may have except
      profiles: [thunderbird]       # address and the password source
      timeout: 30
    accounts:
      - address: alice@contoso.com
        profiles: [outlook-2016, thunderbird]   # or profile: thunderbird
        password_env: CONNTEST_ALICE            # the password is in $CONNTEST_ALICE
      - address: bob@contoso.com
        password_file: secrets/bob              # first line; relative to this file
      - address: printer@contoso.com            # no password source: connectivity
        imap: 10.1.2.3:993                      # only, stops before authentication
        smtp: 10.1.2.3:587

The contract: :func:`load_batch` reads the whole file and reports *every*
problem, entry by entry, with the key and line (as :class:`Problem`, the type
profile files use), before anything runs; a password source is checked by
reading it.  Passwords are never taken from the file itself, and a
:class:`PasswordSource` holds the name of where the secret lives, not the
secret (except :meth:`PasswordSource.given`, for a password the command line
already read).  Values in the file win over the command line's, which act as
defaults (:class:`EntryDefaults`).

No I/O beyond reading the batch file and the password sources; no network.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml

from conntest.engine import CheckRequest
from conntest.errors import UsageError
from conntest.probes.dns_probe import ResolverConfig
from conntest.profile import TLS_VERSIONS, Profile
from conntest.profiles import Problem, ProfileSet

__all__ = [
    "AccountEntry",
    "BatchFile",
    "BatchFileError",
    "EntryDefaults",
    "PasswordSource",
    "PasswordSourceError",
    "load_batch",
]

MIN_TIMEOUT, MAX_TIMEOUT = 1.0, 600.0

_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


class BatchFileError(UsageError):
    """The batch file cannot be used; ``problems`` says every reason why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        first = str(self.problems[0]) if self.problems else "the batch file is unusable"
        more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
        super().__init__(first + more)


class PasswordSourceError(UsageError):
    """A password source named in the batch file could not be read."""


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
        """The password (``None``: connectivity only); :class:`PasswordSourceError` if unreadable.

        Only a final line break is removed: other whitespace is something the
        diagnosis reports, not something to tidy away.
        """
        if self.kind == "none":
            return None
        if self.kind == "given":
            return self._value
        if self.kind == "env":
            value = os.environ.get(self.name)
            if value is None:
                raise PasswordSourceError(f"the environment variable {self.name} is not set")
            return value
        try:
            text = Path(self.name).read_text(encoding="utf-8")
        except OSError as exc:
            raise PasswordSourceError(
                f"cannot read {self.name}: {exc.strerror or exc.__class__.__name__}"
            ) from None
        except UnicodeDecodeError:
            raise PasswordSourceError(f"{self.name} is not UTF-8 text") from None
        return text.split("\n", 1)[0].removesuffix("\r")


@dataclass(frozen=True)
class EntryDefaults:
    """What an entry gets for a key it does not set (from the command line, or built in)."""

    profiles: tuple[str, ...] = ()
    """Profile ids; empty: every loaded profile."""
    imap: tuple[str, int] | None = None
    smtp: tuple[str, int] | None = None
    resolve: tuple[tuple[str, str], ...] = ()
    nameserver: tuple[str, int] | None = None
    ca_file: Path | None = None
    tls_max: str | None = None
    expected_networks: tuple[str, ...] = ()
    timeout: float = 60.0


@dataclass(frozen=True)
class AccountEntry:
    """One account to check, resolved: all a :class:`CheckRequest` needs but the secret."""

    address: str
    profiles: tuple[Profile, ...]
    password: PasswordSource
    imap: tuple[str, int] | None = None
    smtp: tuple[str, int] | None = None
    resolve: tuple[tuple[str, str], ...] = ()
    nameserver: tuple[str, int] | None = None
    ca_file: Path | None = None
    tls_max: str | None = None
    expected_networks: tuple[str, ...] = ()
    timeout: float = 60.0
    where: str = ""
    """Where the entry was defined (``accounts.yaml: accounts[3]``), for messages."""
    today: date | None = None
    """Today's date for date-aware advice (set by the front end, not the batch file)."""
    retirement_window: int = 60
    """``--retirement-window`` (set by the front end, not the batch file)."""

    @property
    def key(self) -> str:
        """The account's identity for lockout bookkeeping (addresses are case-insensitive)."""
        return self.address.lower()

    @property
    def profile_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.profiles)

    def hosts(self, profile: Profile) -> dict[str, str]:
        """The host each protocol of ``profile`` connects to, after overrides."""
        return {
            "imap": self.imap[0] if self.imap else profile.imap.host,
            "smtp": self.smtp[0] if self.smtp else profile.smtp.host,
        }

    def request(
        self,
        password: str | None,
        *,
        profiles: Sequence[Profile] | None = None,
        timeout: float | None = None,
    ) -> CheckRequest:
        """The engine's request for this account (``password=None``: connectivity only)."""
        return CheckRequest(
            user=self.address,
            password=password,
            profiles=tuple(profiles if profiles is not None else self.profiles),
            imap_server=self.imap,
            smtp_server=self.smtp,
            resolver=ResolverConfig(nameserver=self.nameserver, pinned=self.resolve),
            ca_file=self.ca_file,
            timeout=self.timeout if timeout is None else timeout,
            tls_max=self.tls_max,
            expected_networks=self.expected_networks,
            today=self.today,
            retirement_window=self.retirement_window,
        )


@dataclass(frozen=True)
class BatchFile:
    """A loaded batch file: the entries that are usable and the problems of the rest."""

    path: Path
    entries: tuple[AccountEntry, ...]
    problems: tuple[Problem, ...] = ()

    def entry(self, address: str) -> AccountEntry | None:
        wanted = address.lower()
        return next((e for e in self.entries if e.key == wanted), None)

    def raise_for_problems(self) -> None:
        if self.problems:
            raise BatchFileError(self.problems)


# --------------------------------------------------------------------------
# Loading

_ENTRY_KEYS = (
    "address",
    "profile",
    "profiles",
    "password_env",
    "password_file",
    "imap",
    "smtp",
    "resolve",
    "nameserver",
    "ca_file",
    "tls_max",
    "expected_networks",
    "timeout",
)
_DEFAULT_KEYS = tuple(
    k for k in _ENTRY_KEYS if k not in {"address", "password_env", "password_file"}
)
_TOP_KEYS = ("defaults", "accounts")


def load_batch(
    path: Path,
    profiles: ProfileSet,
    defaults: EntryDefaults = EntryDefaults(),
) -> BatchFile:
    """Read ``path`` and return its entries and every problem found (nothing is raised).

    An entry with a problem is left out of ``entries``; callers that must not
    run a partial batch call :meth:`BatchFile.raise_for_problems`.
    """
    reader = _Reader(str(path), path.parent, profiles)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        reader.add("", "a readable batch file", exc.strerror or exc.__class__.__name__)
        return BatchFile(path, (), tuple(reader.problems))
    except UnicodeDecodeError:
        reader.add("", "UTF-8 text", "undecodable bytes")
        return BatchFile(path, (), tuple(reader.problems))
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reader.add("", "YAML", str(getattr(exc, "problem", None) or exc), line)
        return BatchFile(path, (), tuple(reader.problems))
    entries = reader.document(root, defaults)
    return BatchFile(path, tuple(entries), tuple(reader.problems))


class _Reader:
    """Turns the YAML node tree into entries, collecting one :class:`Problem` per mistake."""

    def __init__(self, file: str, base: Path, profiles: ProfileSet) -> None:
        self.file = file
        self.base = base
        self.profiles = profiles
        self.problems: list[Problem] = []
        self.bad_default_profiles = False
        self.address = ""
        """The address of the entry being read, once known to be valid."""
        self.partial: dict[str, Any] = {}
        """The valid fields of the last :meth:`fields` call, also when others were not."""
        """The defaults named an unknown profile (reported once, not once per entry)."""
        self._constructor = yaml.SafeLoader("")

    def add(self, where: str, expected: str, found: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.file, where, expected, found, line))

    def value(self, node: yaml.Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def mapping(
        self, node: yaml.Node, where: str, known: Sequence[str]
    ) -> dict[str, tuple[yaml.Node, int]] | None:
        """A mapping's keys with their value nodes and 1-based lines; unknown keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.add(where, "a mapping", _describe(self.value(node)), _line(node))
            return None
        result: dict[str, tuple[yaml.Node, int]] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            line = _line(key_node)
            if key == "password" and where.startswith("accounts["):
                self.add(
                    _join(where, "password"),
                    "password_env or password_file (a password is never read from the batch file)",
                    "a password",
                    line,
                )
            elif key in {"password_env", "password_file"} and key not in known:
                self.add(
                    _join(where, key),
                    "a password source in an account, not here",
                    f"{key} in {where}",
                    line,
                )
            elif not isinstance(key, str) or key not in known:
                self.add(
                    _join(where, str(key)),
                    f"one of the keys {', '.join(known)}",
                    f"unknown key {key!r}",
                    line,
                )
            elif key in result:
                self.add(_join(where, key), "each key once", f"{key} again", line)
            else:
                result[key] = (value_node, line)
        return result

    def document(self, root: yaml.Node | None, defaults: EntryDefaults) -> list[AccountEntry]:
        if root is None:
            self.add("", "a mapping with an 'accounts' list", "an empty file")
            return []
        top = self.mapping(root, "", _TOP_KEYS)
        if top is None:
            return []
        base = defaults
        if "defaults" in top:
            base = self.defaults(top["defaults"][0], defaults)
        if "accounts" not in top:
            self.add("accounts", "a list of accounts", "no 'accounts' key", _line(root))
            return []
        accounts, line = top["accounts"]
        if not isinstance(accounts, yaml.SequenceNode) or not accounts.value:
            self.add(
                "accounts", "a non-empty list of accounts", _describe(self.value(accounts)), line
            )
            return []
        entries: list[AccountEntry] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(accounts.value):
            where = f"accounts[{index}]"
            self.address = ""
            entry = self.entry(item, where, base)
            key = self.address.lower()
            if key and key in seen:
                self.add(
                    _join(where, "address"),
                    "each address once (at most one authentication per account per run)",
                    f"{self.address} again (first in {seen[key]})",
                    _line(item),
                )
                continue
            if key:
                seen[key] = where
            if entry is not None:
                entries.append(entry)
        return entries

    def defaults(self, node: yaml.Node, base: EntryDefaults) -> EntryDefaults:
        values = self.mapping(node, "defaults", _DEFAULT_KEYS)
        if values is None:
            return base
        fields = self.fields(values, "defaults")
        if fields is None:
            return base
        for key in ("profile", "profiles"):
            unknown = [i for i in fields.get("profiles", ()) if i not in self.profiles]
            if key in values and unknown:
                self.add(
                    _join("defaults", key),
                    f"profile ids among {', '.join(self.profiles.ids()) or 'none'}",
                    ", ".join(repr(i) for i in unknown),
                    values[key][1],
                )
                self.bad_default_profiles = True
                return base
        return dataclasses.replace(base, **fields)

    def entry(self, node: yaml.Node, where: str, base: EntryDefaults) -> AccountEntry | None:
        before = len(self.problems)
        values = self.mapping(node, where, _ENTRY_KEYS)
        if values is None:
            return None
        address = ""
        if "address" not in values:
            self.add(_join(where, "address"), "an email address", "no 'address' key", _line(node))
        else:
            address_node, line = values.pop("address")
            raw = self.value(address_node)
            if isinstance(raw, str) and _ADDRESS.fullmatch(raw.strip()):
                address = self.address = raw.strip()
            else:
                self.add(
                    _join(where, "address"),
                    "an email address such as alice@contoso.com",
                    _describe(raw),
                    line,
                )
        password = self.password_source(values, where)
        fields = self.fields(values, where)
        # Every problem of the entry is reported, so the profiles are checked even
        # when another key was wrong.
        merged = dataclasses.replace(base, **(fields if fields is not None else self.partial))
        profiles = self.resolve_profiles(merged.profiles, where, values)
        if fields is None or password is None or profiles is None:
            return None
        if len(self.problems) > before:
            return None
        return AccountEntry(
            address=address,
            profiles=profiles,
            password=password,
            imap=merged.imap,
            smtp=merged.smtp,
            resolve=merged.resolve,
            nameserver=merged.nameserver,
            ca_file=merged.ca_file,
            tls_max=merged.tls_max,
            expected_networks=merged.expected_networks,
            timeout=merged.timeout,
            where=f"{self.file}: {where}",
        )

    def password_source(
        self, values: dict[str, tuple[yaml.Node, int]], where: str
    ) -> PasswordSource | None:
        env = values.pop("password_env", None)
        file = values.pop("password_file", None)
        if env is not None and file is not None:
            self.add(
                _join(where, "password_file"),
                "one password source",
                "both password_env and password_file",
                file[1],
            )
            return None
        if env is not None:
            name, line = self.value(env[0]), env[1]
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                self.add(
                    _join(where, "password_env"),
                    "the name of an environment variable",
                    _describe(name),
                    line,
                )
                return None
            if name not in os.environ:
                self.add(
                    _join(where, "password_env"),
                    "an environment variable that is set",
                    f"{name}, which is not set",
                    line,
                )
                return None
            return PasswordSource("env", name)
        if file is not None:
            raw, line = self.value(file[0]), file[1]
            if not isinstance(raw, str) or not raw.strip():
                self.add(_join(where, "password_file"), "a file path", _describe(raw), line)
                return None
            source = PasswordSource("file", str(self.path(raw.strip())))
            try:
                source.read()
            except PasswordSourceError as exc:
                self.add(_join(where, "password_file"), "a readable file", str(exc), line)
                return None
            return source
        return PasswordSource("none")

    def fields(
        self, values: Mapping[str, tuple[yaml.Node, int]], where: str
    ) -> dict[str, Any] | None:
        """The :class:`EntryDefaults` fields set in ``values``; ``None`` if any is invalid."""
        out: dict[str, Any] = {}
        ok = True

        def take(key: str, target: str, parse: Callable[[Any], Any], expected: str) -> None:
            nonlocal ok
            if key not in values:
                return
            node, line = values[key]
            raw = self.value(node)
            try:
                out[target] = parse(raw)
            except (TypeError, ValueError):
                self.add(_join(where, key), expected, _describe(raw), line)
                ok = False

        if "profile" in values and "profiles" in values:
            self.add(_join(where, "profiles"), "profile or profiles", "both", values["profiles"][1])
            ok = False
        take("profile", "profiles", lambda v: (_text(v),), "a profile id")
        take("profiles", "profiles", _id_list, "a list of profile ids")
        take("imap", "imap", host_port, "HOST:PORT")
        take("smtp", "smtp", host_port, "HOST:PORT")
        take("resolve", "resolve", _pins, "a list of HOST:ADDRESS with IP addresses")
        take("nameserver", "nameserver", nameserver, "ADDRESS[:PORT] with an IP address")
        take("ca_file", "ca_file", self.existing_file, "the path of a readable PEM file")
        take("tls_max", "tls_max", _tls_version, f"one of {', '.join(TLS_VERSIONS)}")
        take("expected_networks", "expected_networks", _networks, "a list of CIDR networks")
        take(
            "timeout",
            "timeout",
            timeout_seconds,
            f"seconds from {MIN_TIMEOUT:g} to {MAX_TIMEOUT:g}",
        )
        self.partial = out
        return out if ok else None

    def resolve_profiles(
        self, ids: tuple[str, ...], where: str, values: Mapping[str, tuple[yaml.Node, int]]
    ) -> tuple[Profile, ...] | None:
        if not ids:
            chosen = tuple(self.profiles)
            if not chosen:
                self.add(_join(where, "profiles"), "at least one loaded profile", "none")
                return None
            return chosen
        key = "profile" if "profile" in values else "profiles"
        line = values[key][1] if key in values else None
        unknown = [i for i in ids if i not in self.profiles]
        if unknown and key not in values and self.bad_default_profiles:
            return None
        if unknown:
            self.add(
                _join(where, key),
                f"profile ids among {', '.join(self.profiles.ids()) or 'none'}",
                ", ".join(repr(i) for i in unknown),
                line,
            )
            return None
        return tuple(self.profiles.get(i) for i in dict.fromkeys(ids))

    def path(self, raw: str) -> Path:
        path = Path(raw).expanduser()
        return path if path.is_absolute() else self.base / path

    def existing_file(self, raw: object) -> Path:
        path = self.path(_text(raw))
        if not path.is_file() or not os.access(path, os.R_OK):
            raise ValueError(raw)
        return path


# --------------------------------------------------------------------------
# Value parsers (also used for the command line's options)


def host_port(value: object) -> tuple[str, int]:
    """``"HOST:PORT"`` → ``(host, port)``; :class:`ValueError` otherwise."""
    text = _text(value)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(text)
    return host.strip("[]"), int(port)


def nameserver(value: object) -> tuple[str, int]:
    """``"ADDRESS"`` or ``"ADDRESS:PORT"`` (IPv6 in brackets with a port) → ``(address, port)``."""
    text = _text(value)
    try:
        return str(ipaddress.ip_address(text)), 53
    except ValueError:
        pass
    address, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(text)
    return str(ipaddress.ip_address(address.strip("[]"))), int(port)


def timeout_seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(value)
    seconds = float(value)
    if math.isnan(seconds) or not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:
        raise ValueError(value)
    return seconds


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(value)
    return value.strip()


def _id_list(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (_text(value),)
    if not isinstance(value, list) or not value:
        raise TypeError(value)
    return tuple(_text(v) for v in value)


def _string_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise TypeError(value)
    return [_text(v) for v in value]


def _pins(value: object) -> tuple[tuple[str, str], ...]:
    pins = []
    for item in _string_list(value):
        host, sep, address = item.partition(":")
        if not sep or not host:
            raise ValueError(item)
        pins.append((host, str(ipaddress.ip_address(address.strip("[]")))))
    return tuple(pins)


def _networks(value: object) -> tuple[str, ...]:
    return tuple(str(ipaddress.ip_network(v, strict=False)) for v in _string_list(value))


def _tls_version(value: object) -> str:
    # YAML reads an unquoted 1.2 as a float.
    text = f"{value:.1f}" if isinstance(value, float) else _text(value)
    if text not in TLS_VERSIONS:
        raise ValueError(value)
    return text


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value) if value else "an empty string"
    return repr(value)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
