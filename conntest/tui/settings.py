"""What the setup screen collects, checked and turned into a :class:`CheckRequest`.

Pure functions, no Textual: the setup screen calls :func:`parse_host_port`,
:func:`parse_timeout`, :func:`parse_ca_file` and :func:`parse_authority` on
its text fields and shows the ``ValueError`` message beside the field; the
runner calls :func:`build_request` once the lab (if any) is up.

A sign-in with Microsoft gets its plan from
:func:`conntest.oauth.command.build_plan`, the function behind ``check
--oauth``, so the TUI and the CLI sign in alike; MSAL is imported only when
the sign-in runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from conntest.batch.options import advice_date
from conntest.engine import CheckRequest
from conntest.inputs.values import parse_host_port as parse_option
from conntest.oauth.command import build_plan
from conntest.oauth.platform import REGISTER_LINE
from conntest.oauth.prompt import PromptCallback, print_prompt
from conntest.oauth.result import DEFAULT_TENANT, OAuthPlan, SignInResult
from conntest.probes.dns_probe import ResolverConfig
from conntest.profile import Profile

DEFAULT_TIMEOUT = 60.0

CLIENT_ID_REQUIRED = "A client ID is required: " + REGISTER_LINE.partition(": ")[2]
"""The CLI's one line (``REGISTER_LINE``) without its option names, shown beside the field."""


@dataclass(frozen=True)
class OAuthFieldDefaults:
    """What the sign-in fields of the setup screen start with."""

    client_id: str | None = None
    """Application (client) ID; conntest has none of its own."""
    tenant: str = DEFAULT_TENANT
    authority: str | None = None
    """``None``: ``https://login.microsoftonline.com``."""


def oauth_field_defaults(config: Path | None = None) -> OAuthFieldDefaults:
    """The one place the setup screen's client id, tenant and authority defaults come from.

    The settings file (``config.yaml``, ``$CONNTEST_CONFIG``) through the same
    :func:`conntest.oauth.defaults.oauth_defaults` as ``check --oauth``; a broken
    file raises :class:`~conntest.errors.FileProblems`, so :func:`conntest.tui.app.run_tui`
    reads it before the screen opens and the CLI reports it in one line.
    """
    from conntest.oauth.defaults import oauth_defaults

    found = oauth_defaults(config)
    return OAuthFieldDefaults(
        client_id=found.client_id, tenant=found.tenant, authority=found.authority
    )


@dataclass(frozen=True)
class OAuthChoice:
    """Sign in with Microsoft (OAuth2) instead of an app password, as ``check --oauth``."""

    client_id: str | None
    """``None`` only in the demo: the lab's own client id."""
    tenant: str = DEFAULT_TENANT
    authority: str | None = None
    device_code: bool = False
    """True: a device code even where a browser could open (``--device-code``)."""


@dataclass(frozen=True)
class LabFields:
    """The request fields a running lab scenario implies (see :mod:`conntest.tui.demo_lab`)."""

    imap_server: tuple[str, int]
    """Where the lab's IMAP listener for the scenario is."""
    smtp_server: tuple[str, int]
    """Where the lab's SMTP listener for the scenario is."""
    resolver: ResolverConfig
    """The lab's DNS server, which answers for the Microsoft host names."""
    ca_file: Path
    """The lab's throwaway CA, trusted instead of the system's."""
    tls_max: str | None
    """The client side of the scenario (e.g. ``"1.0"`` for an unpatched Windows 7)."""
    expected_networks: tuple[str, ...]
    """Where the lab says the Microsoft names should resolve."""
    authority: str | None = None
    """The lab's identity platform (``https://login.microsoftonline.com:PORT``)."""
    oauth_cache: Path | None = None
    """A token cache that lives as long as the lab: its tokens never reach the real one."""


@dataclass(frozen=True)
class RunSettings:
    """One run as the person asked for it on the setup screen."""

    user: str
    """The mailbox address."""
    password: str | None = field(repr=False)
    """The app password exactly as typed; ``None`` for a connectivity-only check."""
    profile_ids: tuple[str, ...]
    """The clients to test, in the order they are shown."""
    scenario: str | None = None
    """``conntest demo``: the lab scenario to run against; ``None`` for the real service."""
    imap_server: tuple[str, int] | None = None
    """Advanced: IMAP ``HOST:PORT`` override."""
    smtp_server: tuple[str, int] | None = None
    """Advanced: SMTP ``HOST:PORT`` override."""
    timeout: float = DEFAULT_TIMEOUT
    """Advanced: deadline of the whole run, in seconds."""
    ca_file: Path | None = None
    """Advanced: trust these CA certificates instead of the system's."""
    try_stripped: bool = False
    """The person consented to one more sign-in with whitespace removed."""
    oauth: OAuthChoice | None = None
    """Sign in with Microsoft (OAuth2); the password is then ``None``."""


def parse_host_port(text: str) -> tuple[str, int] | None:
    """``HOST:PORT`` (``[v6]:PORT`` too); empty means no override.  ``ValueError`` otherwise.

    The command line's own check (:func:`conntest.inputs.values.parse_host_port`), so the
    field takes what ``--imap``/``--smtp`` take: an IPv6 address only in brackets.
    """
    text = text.strip()
    return parse_option(text) if text else None


def parse_timeout(text: str) -> float:
    """Seconds between 1 and 600; empty means the default."""
    text = text.strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, not {text!r}") from None
    if not 1 <= seconds <= 600:
        raise ValueError("the timeout must be between 1 and 600 seconds")
    return seconds


def parse_ca_file(text: str) -> Path | None:
    """A readable PEM file; empty means the system's trust store."""
    text = text.strip()
    if not text:
        return None
    try:
        path = Path(text).expanduser()
        is_file = path.is_file()
    except (OSError, RuntimeError) as exc:  # ~nosuchuser, an unreadable directory
        raise ValueError(f"cannot use {text!r} as a CA file: {exc}") from None
    if not is_file:
        raise ValueError(f"no such file: {path}")
    return path


def parse_client_id(text: str) -> str | None:
    """The Application (client) ID, checked as ``--client-id`` is (a GUID); empty: none."""
    from conntest.oauth.defaults import parse_client_id as rule

    if not text.strip():
        return None
    try:
        return rule(text)
    except ValueError as exc:
        raise ValueError(f"Client ID: {exc}") from None


def parse_tenant(text: str) -> str | None:
    """A tenant, checked as ``--tenant`` is; empty means the default."""
    from conntest.oauth.defaults import parse_tenant as rule

    if not text.strip():
        return None
    try:
        return rule(text)
    except ValueError as exc:
        raise ValueError(f"Tenant: {exc}") from None


def parse_authority(text: str) -> str | None:
    """An ``https://`` identity platform, checked as ``--authority`` is; empty: the default."""
    from conntest.oauth.defaults import parse_authority as rule

    text = text.strip()
    if not text:
        return None
    try:
        rule(text)
    except ValueError as exc:
        raise ValueError(f"Authority: {exc}") from None
    return text


@dataclass(frozen=True)
class SignInHooks:
    """How a run's sign-in reaches the screen."""

    show: PromptCallback
    """What the person must do (the device code); called from the sign-in's thread."""
    done: Callable[[SignInResult], None]
    """The sign-in returned (on the event loop, before any probe uses the token)."""
    cancel: threading.Event = field(default_factory=threading.Event)
    """Set when the run ends or is abandoned: the sign-in stops waiting for the person."""


def oauth_plan(
    settings: RunSettings, lab: LabFields | None, hooks: SignInHooks | None
) -> tuple[OAuthPlan, str]:
    """The plan ``check --oauth`` would build for these settings, and the login command."""
    choice = settings.oauth
    assert choice is not None
    args = argparse.Namespace(  # the option names build_plan reads
        client_id=choice.client_id,
        tenant=choice.tenant,
        authority=choice.authority,
        device_code=choice.device_code,
        user=settings.user,
        lab=settings.scenario,  # as with --lab, the settings file is not read for the lab
        config=None,
    )
    ca_file = settings.ca_file or (lab.ca_file if lab is not None else None)
    plan, command = build_plan(
        args,
        ca_file=ca_file,
        cache_file=lab.oauth_cache if lab is not None else None,
        lab_authority=lab.authority if lab is not None else None,
        interactive=True,  # a person is at the screen
        show=hooks.show if hooks is not None else print_prompt,
        cancel=hooks.cancel if hooks is not None else None,
    )
    if hooks is None:
        return plan, command
    inner = plan.token_source

    async def token_source(address: str) -> SignInResult:
        result = await inner(address)
        hooks.done(result)
        return result

    return dataclasses.replace(plan, token_source=token_source), command


def build_request(
    settings: RunSettings,
    profiles: Mapping[str, Profile],
    lab: LabFields | None = None,
    hooks: SignInHooks | None = None,
) -> CheckRequest:
    """The engine's request; the person's overrides win over the lab's, as in ``check --lab``."""
    request = _request(settings, profiles, lab)
    if settings.oauth is None:
        return request
    plan, command = oauth_plan(settings, lab, hooks)
    return dataclasses.replace(request, password=None, oauth=plan, login_command=command)


def _request(
    settings: RunSettings, profiles: Mapping[str, Profile], lab: LabFields | None
) -> CheckRequest:
    chosen = [profiles[pid] for pid in settings.profile_ids]
    if lab is None:
        return CheckRequest(
            user=settings.user,
            password=settings.password,
            profiles=chosen,
            imap_server=settings.imap_server,
            smtp_server=settings.smtp_server,
            ca_file=settings.ca_file,
            timeout=settings.timeout,
            try_stripped=settings.try_stripped,
            today=advice_date(),
        )
    return CheckRequest(
        user=settings.user,
        password=settings.password,
        profiles=chosen,
        imap_server=settings.imap_server or lab.imap_server,
        smtp_server=settings.smtp_server or lab.smtp_server,
        stand_ins=frozenset(
            protocol
            for protocol, own in (("imap", settings.imap_server), ("smtp", settings.smtp_server))
            if own is None
        ),
        resolver=lab.resolver,
        ca_file=settings.ca_file or lab.ca_file,
        timeout=settings.timeout,
        tls_max=lab.tls_max,
        expected_networks=lab.expected_networks,
        try_stripped=settings.try_stripped,
        today=advice_date(),
    )
