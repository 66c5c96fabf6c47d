"""What the setup screen collects, checked and turned into a :class:`CheckRequest`.

Pure functions, no Textual: the setup screen calls :func:`parse_host_port`,
:func:`parse_timeout` and :func:`parse_ca_file` on its text fields and shows
the ``ValueError`` message beside the field; the runner calls
:func:`build_request` once the lab (if any) is up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from conntest.batch.options import advice_date
from conntest.engine import CheckRequest
from conntest.probes.dns_probe import ResolverConfig
from conntest.profile import Profile

DEFAULT_TIMEOUT = 60.0


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


def parse_host_port(text: str) -> tuple[str, int] | None:
    """``HOST:PORT`` (``[v6]:PORT`` too); empty means no override.  ``ValueError`` otherwise."""
    text = text.strip()
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT, e.g. outlook.office365.com:993")
    if " " in host:
        raise ValueError(f"a host name has no spaces: {host!r}")
    return host, int(port)


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


def build_request(
    settings: RunSettings,
    profiles: Mapping[str, Profile],
    lab: LabFields | None = None,
) -> CheckRequest:
    """The engine's request; the person's overrides win over the lab's, as in ``check --lab``."""
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
        resolver=lab.resolver,
        ca_file=settings.ca_file or lab.ca_file,
        timeout=settings.timeout,
        tls_max=lab.tls_max,
        expected_networks=lab.expected_networks,
        try_stripped=settings.try_stripped,
        today=advice_date(),
    )
