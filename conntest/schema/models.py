"""Typed models of the files conntest reads besides profiles: batch, ``serve``, lab, user config.

Profiles are modelled in :mod:`conntest.profile` (the probes use those
records directly).  The models here describe what a *file* may hold, field
by field, with a docstring each: they are the source of the key lists the
loaders accept (:mod:`conntest.batch.config`, :mod:`conntest.lab.accounts`)
and of the published JSON Schemas (:mod:`conntest.json_schemas`,
``conntest schema KIND``), so that a key added here is accepted, checked
and documented in one change.

:class:`Keywords` (:mod:`.keywords`) adds JSON Schema keywords (a pattern, a
range) to a field through ``Annotated``; it is inert data until the schema
generator reads it, so this module imports nothing beyond the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Any, Literal

from conntest.schema.keywords import Keywords

__all__ = [
    "BatchAccount",
    "BatchDefaults",
    "BatchDocument",
    "Keywords",
    "LabAccount",
    "LabAccountsFile",
    "OAuthSettings",
    "ServeConfig",
    "UserConfig",
    "field_names",
]


# The patterns are a first line of help for an editor; the loaders' checks
# (conntest.inputs.values) are the authority and say exactly what is wrong.
Address = Annotated[
    str,
    Keywords(
        {"pattern": r"^[^@\s]+@[^@\s]+$", "maxLength": 254, "examples": ["alice@contoso.com"]}
    ),
]
HostPort = Annotated[
    str,
    Keywords(
        {
            "pattern": r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$",
            "examples": ["outlook.office365.com:993", "[::1]:587"],
        }
    ),
]
NameServer = Annotated[str, Keywords({"examples": ["127.0.0.1", "127.0.0.1:5353", "[::1]:5353"]})]
Pin = Annotated[
    str, Keywords({"pattern": r"^[^:\s]+:.+$", "examples": ["outlook.office365.com:127.0.0.1"]})
]
Network = Annotated[str, Keywords({"examples": ["40.96.0.0/13"]})]
Seconds = Annotated[float, Keywords({"minimum": 1, "maximum": 600})]
TLSMax = Annotated[
    Literal["1.0", "1.1", "1.2", "1.3"],
    Keywords(
        {"type": ["string", "number"], "enum": ["1.0", "1.1", "1.2", "1.3", 1.0, 1.1, 1.2, 1.3]}
    ),
]
EnvName = Annotated[str, Keywords({"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"})]
OneOrMany = Annotated[
    tuple[str, ...], Keywords({"type": ["array", "string"], "items": {"type": "string"}})
]
"""A list of strings, or one string for a list of one."""
ClientId = Annotated[
    str,
    Keywords(
        {
            "pattern": r"^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$",
            "examples": ["0c1e5a7b-2f3d-4e6a-9b8c-1d2e3f4a5b6c"],
        }
    ),
]
Tenant = Annotated[
    str,
    Keywords(
        {
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$",
            "examples": ["organizations", "consumers", "common", "contoso.onmicrosoft.com"],
        }
    ),
]
HttpsUrl = Annotated[
    str,
    Keywords(
        {
            "pattern": r"^https://[^\s/]+(/[^\s]*)?$",
            "examples": ["https://login.microsoftonline.com"],
        }
    ),
]
SignIn = Literal["password", "oauth"]


@dataclass(frozen=True)
class BatchDefaults:
    """What every account gets unless it says otherwise (the command line's options yield)."""

    profile: str | None = None
    """One client profile id to test (``profiles`` for several)."""
    profiles: OneOrMany = ()
    """Client profile ids to test; absent: every loaded profile."""
    imap: HostPort | None = None
    """IMAP server ``HOST:PORT`` instead of the profile's (``[IPv6]:PORT`` in brackets)."""
    smtp: HostPort | None = None
    """SMTP server ``HOST:PORT`` instead of the profile's."""
    resolve: Annotated[tuple[Pin, ...], Keywords({"type": ["array", "string"]})] = ()
    """``HOST:ADDRESS`` pins: connect to ADDRESS for HOST, still verifying HOST's certificate."""
    nameserver: NameServer | None = None
    """DNS server ``ADDRESS[:PORT]`` to ask instead of the system's."""
    ca_file: str | None = None
    """PEM file of CA certificates to trust instead of the system's (relative to this file)."""
    tls_max: TLSMax | None = None
    """Cap the profiles' TLS version (``1.0``: Windows 7 without updates)."""
    expected_networks: Annotated[tuple[Network, ...], Keywords({"type": ["array", "string"]})] = ()
    """CIDR networks the server names should resolve into."""
    timeout: Seconds = 60.0
    """Deadline of the account's whole check, in seconds (1-600)."""
    auth: SignIn | None = None
    """How the account signs in: ``password`` (its ``password_env``/``password_file``; neither:
    connectivity only) or ``oauth`` (Microsoft sign-in from the token cache that ``conntest oauth
    login`` fills; never a prompt).  Default ``password``, or ``oauth`` with ``check --oauth``."""
    client_id: ClientId | None = None
    """``auth: oauth``: the Application (client) ID of your app registration (else
    ``--client-id``, else ``oauth.client_id`` of config.yaml)."""
    tenant: Tenant | None = None
    """``auth: oauth``: ``organizations`` (default), ``consumers``, ``common``, a tenant id or
    domain (else ``--tenant``, else config.yaml)."""
    authority: HttpsUrl | None = None
    """``auth: oauth``: the identity platform (default ``https://login.microsoftonline.com``;
    else ``--authority``, else config.yaml); a path sets the tenant."""


@dataclass(frozen=True)
class BatchAccount(BatchDefaults):
    """One account to check.  A password is never written here, only where it lives."""

    address: Address = ""
    """The mailbox address (UPN) to sign in as; each address once per file."""
    password_env: EnvName | None = None
    """Environment variable holding the password."""
    password_file: str | None = None
    """File whose first line is the password (relative to this file).  Neither
    ``password_env`` nor ``password_file``: connectivity only, no sign-in."""


@dataclass(frozen=True)
class BatchDocument:
    """A batch file (``conntest check --batch FILE``)."""

    accounts: tuple[BatchAccount, ...]
    """The accounts to check, at least one."""
    defaults: BatchDefaults = BatchDefaults()
    """Settings every account gets unless it sets them itself."""


@dataclass(frozen=True)
class ServeConfig(BatchDocument):
    """The exporter's config (``conntest serve --config FILE``): the batch file format.

    A scrape names one of these accounts; its settings and password source
    come from here, never from the request.
    """


@dataclass(frozen=True)
class LabAccount:
    """One address of the lab and the scenario it meets."""

    address: Address
    """The address a client signs in with (compared without case)."""
    scenario: str
    """The lab scenario (``conntest lab --list-scenarios``)."""


@dataclass(frozen=True)
class LabAccountsFile:
    """The accounts file of ``conntest lab --accounts FILE``."""

    accounts: tuple[LabAccount, ...]
    """Addresses and their scenarios; others meet ``--scenario``."""


@dataclass(frozen=True)
class OAuthSettings:
    """How ``check --oauth`` and ``conntest oauth`` sign in with Microsoft, unless an option says
    otherwise (a public client has no secret: none is ever written here)."""

    client_id: ClientId | None = None
    """The Application (client) ID of your app registration in Entra ID (a GUID; docs/oauth.md
    says how to register one).  conntest has none of its own."""
    tenant: Tenant | None = None
    """``organizations`` (the default: work or school accounts), ``consumers`` (Outlook.com),
    ``common``, or a tenant id or verified domain."""
    authority: HttpsUrl | None = None
    """The identity platform (default ``https://login.microsoftonline.com``); a path sets the
    tenant."""


@dataclass(frozen=True)
class UserConfig:
    """conntest's settings file, ``config.yaml`` in the config directory (or ``--config FILE``,
    ``$CONNTEST_CONFIG``); the command line's options win over it."""

    oauth: OAuthSettings = OAuthSettings()
    """The defaults of the sign-in options ``--client-id``, ``--tenant`` and ``--authority``."""


def field_names(model: type[Any]) -> tuple[str, ...]:
    """The keys a file may write for ``model``, in declaration order."""
    return tuple(f.name for f in fields(model))
