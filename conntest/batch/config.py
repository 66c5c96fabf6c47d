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
      - address: carol@contoso.com              # sign in with Microsoft from the token
        auth: oauth                             # cache (conntest oauth login), never a
                                                # prompt; client_id from config.yaml

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
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conntest.errors import FileProblems, PasswordSourceError, UsageError
from conntest.inputs.passwords import PasswordSource
from conntest.inputs.values import (
    MAX_TIMEOUT,
    MIN_TIMEOUT,
    InvalidValue,
    parse_address,
    parse_ca_file,
    parse_host_port,
    parse_nameserver,
    parse_network,
    parse_pin,
    parse_timeout,
)
from conntest.oauth.defaults import (
    OAuthDefaults,
    parse_authority,
    parse_client_id,
    parse_tenant,
    register_line,
)
from conntest.oauth.platform import LAB_CLIENT_ID
from conntest.oauth.result import DEFAULT_AUTHORITY, DEFAULT_TENANT
from conntest.profile import TLS_VERSIONS, Profile
from conntest.profiles import ProfileSet
from conntest.schema.models import (
    BatchAccount,
    BatchDefaults,
    BatchDocument,
    SignIn,
    field_names,
)
from conntest.schema.problem import Problem
from conntest.schema.reader import (
    duplicate_key_problem,
    missing_key_problem,
    unknown_key_problem,
)
from conntest.schema.safe_yaml import YamlList, YamlMap, line_of, load_yaml

__all__ = [
    "DEFAULT_KEYS",
    "ENTRY_KEYS",
    "MAX_TIMEOUT",
    "MIN_TIMEOUT",
    "AccountEntry",
    "BatchFile",
    "BatchFileError",
    "EntryDefaults",
    "OAuthAccount",
    "PasswordSource",
    "PasswordSourceError",
    "load_batch",
]


from conntest.batch.entries import (
    AccountEntry,
    BatchFile,
    BatchFileError,
    EntryDefaults,
    OAuthAccount,
)

# --------------------------------------------------------------------------
# Loading

# The keys come from the typed models (conntest.schema.models), which also
# give the published JSON Schema: a key added there is accepted here.
DEFAULT_KEYS = field_names(BatchDefaults)
OWN_KEYS = tuple(k for k in field_names(BatchAccount) if k not in DEFAULT_KEYS)
ENTRY_KEYS = (*OWN_KEYS[:1], *DEFAULT_KEYS, *OWN_KEYS[1:])
"""``address`` first, then the shared settings, then the password source."""
TOP_KEYS = tuple(reversed(field_names(BatchDocument)))


def load_batch(
    path: Path,
    profiles: ProfileSet,
    defaults: EntryDefaults | None = None,
) -> BatchFile:
    """Read ``path`` and return its entries and every problem found (nothing is raised).

    An entry with a problem is left out of ``entries``; callers that must not
    run a partial batch call :meth:`BatchFile.raise_for_problems`.
    """
    defaults = defaults if defaults is not None else EntryDefaults()
    reader = _Reader(str(path), path.parent, profiles)
    root, problems = load_yaml(path, str(path), "a readable batch file")
    if problems:
        return BatchFile(path, (), tuple(problems))
    entries = reader.document(
        None if root is None else _Node(root, line_of(root, 1) or 1), defaults
    )
    return BatchFile(path, tuple(entries), tuple(reader.problems))


def single_oauth_account(defaults: EntryDefaults) -> OAuthAccount:
    """``check --oauth --user`` through the batch runner (a monitoring format): the sign-in
    from the options and the settings file, or the one line that says how to get a client id."""
    reader = _Reader("command line", Path.cwd(), ProfileSet({}))
    account = reader.oauth_account(defaults, "", 0)
    if account is None:
        file = Path(reader.settings_file) if reader.settings_file else None
        problems = [p for p in reader.problems if p.field != "client_id"]
        if problems:
            raise FileProblems(problems)
        raise UsageError(register_line(file))
    return account


@dataclass(frozen=True)
class _Node:
    """A value of the batch file and the line it was written on."""

    value: Any
    line: int


class _Reader:
    """Turns the loaded YAML into entries, collecting one :class:`Problem` per mistake."""

    def __init__(self, file: str, base: Path, profiles: ProfileSet) -> None:
        self.file = file
        self.base = base
        self.profiles = profiles
        self.problems: list[Problem] = []
        self.bad_default_profiles = False
        """The defaults named an unknown profile (reported once, not once per entry)."""
        self.address = ""
        """The address of the entry being read, once known to be valid."""
        self.partial: dict[str, Any] = {}
        """The valid fields of the last :meth:`fields` call, also when others were not."""
        self.settings: OAuthDefaults | None = None
        self.settings_read = False
        self.settings_file: str | None = None

    def add(self, where: str, expected: str, found: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.file, where, expected, found, line))

    def value(self, node: _Node) -> Any:
        return node.value

    def mapping(
        self, node: _Node, where: str, known: Sequence[str]
    ) -> dict[str, tuple[_Node, int]] | None:
        """A mapping's keys with their values and 1-based lines; unknown keys are problems.

        An unknown or repeated key is worded by :mod:`conntest.schema.reader`, as in
        every other file kind (with the closest known key: ``did you mean 'profile'?``).
        """
        raw = node.value
        if not isinstance(raw, YamlMap):
            self.add(where, "a mapping", _describe(raw), node.line)
            return None
        for key, line in raw.duplicates:
            self.problems.append(duplicate_key_problem(self.file, _join(where, str(key)), line))
        result: dict[str, tuple[_Node, int]] = {}
        for key, item in raw.items():
            line = raw.key_lines.get(key, node.line)
            value_node = _Node(item, line_of(item, line) or line)
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
                path = _join(where, str(key))
                self.problems.append(unknown_key_problem(self.file, path, key, known, line))
            else:
                result[key] = (value_node, line)
        return result

    def document(self, root: _Node | None, defaults: EntryDefaults) -> list[AccountEntry]:
        if root is None:
            self.add("", "a mapping with an 'accounts' list", "an empty file")
            return []
        top = self.mapping(root, "", TOP_KEYS)
        if top is None:
            return []
        base = defaults
        if "defaults" in top:
            base = self.defaults(top["defaults"][0], defaults)
        if "accounts" not in top:
            self.problems.append(missing_key_problem(self.file, "accounts", _line(root)))
            return []
        accounts, line = top["accounts"]
        items = accounts.value
        if not isinstance(items, YamlList) or not items:
            self.add("accounts", "a non-empty list of accounts", _describe(items), line)
            return []
        entries: list[AccountEntry] = []
        seen: dict[str, str] = {}
        for index, value in enumerate(items):
            item = _Node(value, line_of(value, items.item_lines[index]) or line)
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

    def defaults(self, node: _Node, base: EntryDefaults) -> EntryDefaults:
        values = self.mapping(node, "defaults", DEFAULT_KEYS)
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

    def entry(self, node: _Node, where: str, base: EntryDefaults) -> AccountEntry | None:
        before = len(self.problems)
        values = self.mapping(node, where, ENTRY_KEYS)
        if values is None:
            return None
        address = ""
        if "address" not in values:
            path = _join(where, "address")
            self.problems.append(missing_key_problem(self.file, path, _line(node)))
        else:
            address_node, line = values.pop("address")
            raw = self.value(address_node)
            try:
                address = self.address = parse_address(raw)
            except InvalidValue as exc:
                self.add(_join(where, "address"), exc.expected, exc.found, line)
        source_key = next((k for k in ("password_env", "password_file") if k in values), None)
        source_line = values[source_key][1] if source_key else None
        password = self.password_source(values, where)
        fields = self.fields(values, where)
        # Every problem of the entry is reported, so the profiles are checked even
        # when another key was wrong.
        merged = dataclasses.replace(base, **(fields if fields is not None else self.partial))
        profiles = self.resolve_profiles(merged.profiles, where, values)
        oauth = None
        if merged.auth == "oauth":
            if source_key is not None:
                said = "auth: oauth" if "auth" in values else "auth: oauth from defaults or --oauth"
                self.add(
                    _join(where, source_key),
                    "no password source in an account that signs in with OAuth "
                    "(write auth: password to keep its password)",
                    f"{source_key} with {said}",
                    source_line,
                )
            oauth = self.oauth_account(merged, where, _line(node))
            if oauth is None:
                return None
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
            oauth=oauth,
        )

    def oauth_account(self, merged: EntryDefaults, where: str, line: int) -> OAuthAccount | None:
        """An OAuth entry's sign-in: the file, then the command line, then config.yaml."""
        client_id, tenant, authority = merged.client_id, merged.tenant, merged.authority
        if None in (client_id, tenant, authority) and not merged.lab_signin:
            settings = self.user_settings(merged)
            if settings is not None:
                client_id = client_id or settings.client_id
                tenant = tenant or settings.tenant
                authority = authority or settings.authority
        if client_id is None and merged.lab_signin:
            client_id = LAB_CLIENT_ID  # the lab's own, which Microsoft does not know
        if client_id is None:
            named = self.settings_file or "config.yaml"
            self.add(
                _join(where, "client_id"),
                "the Application (client) ID of your app registration for auth: oauth "
                f"(client_id here or in defaults, --client-id, or oauth.client_id in {named}; "
                "conntest has none of its own: docs/oauth.md)",
                "none",
                line,
            )
            return None
        return OAuthAccount(
            client_id,
            tenant or DEFAULT_TENANT,
            authority or DEFAULT_AUTHORITY,
            lab=merged.lab_signin,
        )

    def user_settings(self, merged: EntryDefaults) -> OAuthDefaults | None:
        """config.yaml's OAuth defaults, read once per batch file, its problems noted."""
        if not self.settings_read and merged.settings is not None:
            self.settings_read = True
            try:
                self.settings = merged.settings()
            except FileProblems as exc:
                self.problems.extend(exc.problems)
            else:
                self.settings_file = str(self.settings.file) if self.settings.file else None
        return self.settings

    def password_source(
        self, values: dict[str, tuple[_Node, int]], where: str
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
            source = PasswordSource("env", name)
            try:
                source.read()
            except PasswordSourceError as exc:
                self.add(_join(where, "password_env"), "a usable password", str(exc), line)
                return None
            return source
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

    def fields(self, values: Mapping[str, tuple[_Node, int]], where: str) -> dict[str, Any] | None:
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
            except InvalidValue as exc:
                self.add(_join(where, key), exc.expected, exc.found, line)
                ok = False
            except (TypeError, ValueError):
                self.add(_join(where, key), expected, _describe(raw), line)
                ok = False

        if "profile" in values and "profiles" in values:
            self.add(_join(where, "profiles"), "profile or profiles", "both", values["profiles"][1])
            ok = False
        take("profile", "profiles", lambda v: (_text(v),), "a profile id")
        take("profiles", "profiles", _id_list, "a list of profile ids")
        take("imap", "imap", parse_host_port, "HOST:PORT")
        take("smtp", "smtp", parse_host_port, "HOST:PORT")
        take("resolve", "resolve", _pins, "a list of HOST:ADDRESS with IP addresses")
        take("nameserver", "nameserver", parse_nameserver, "ADDRESS[:PORT] with an IP address")
        take("ca_file", "ca_file", self.existing_file, "the path of a readable PEM file")
        take("tls_max", "tls_max", _tls_version, f"one of {', '.join(TLS_VERSIONS)}")
        take("expected_networks", "expected_networks", _networks, "a list of CIDR networks")
        take(
            "timeout",
            "timeout",
            parse_timeout,
            f"seconds from {MIN_TIMEOUT:g} to {MAX_TIMEOUT:g}",
        )
        take("auth", "auth", _sign_in, "password or oauth")
        take("client_id", "client_id", parse_client_id, "a GUID")
        take("tenant", "tenant", parse_tenant, "a tenant")
        take("authority", "authority", parse_authority, "an https:// URL")
        if "authority" in out:
            out["authority"], from_path = out["authority"]
            if from_path is not None and "tenant" not in out:
                out["tenant"] = from_path  # as --authority: a path sets the tenant
        self.partial = out
        return out if ok else None

    def resolve_profiles(
        self, ids: tuple[str, ...], where: str, values: Mapping[str, tuple[_Node, int]]
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
        return parse_ca_file(self.path(_text(raw)))


# --------------------------------------------------------------------------
# Value parsers of lists (single values: conntest.inputs.values)


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
    return tuple(parse_pin(item) for item in _string_list(value))


def _networks(value: object) -> tuple[str, ...]:
    return tuple(parse_network(v) for v in _string_list(value))


def _sign_in(value: object) -> SignIn:
    if value == "password":
        return "password"
    if value == "oauth":
        return "oauth"
    raise ValueError(value)


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
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, str):
        return repr(value) if value else "an empty string"
    return repr(value)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _line(node: _Node) -> int:
    return node.line
