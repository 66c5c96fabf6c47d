"""The resolved entries of a batch file: what each account's check needs, but the secret.

:class:`AccountEntry` is what :func:`conntest.batch.config.load_batch` produces
and the runner and ``serve`` check: an address, profiles, overrides, where its
password lives (:class:`~conntest.inputs.passwords.PasswordSource`, never the
password) or how it signs in with OAuth (:class:`OAuthAccount`: the token
cache, never a prompt).  :class:`EntryDefaults` is what an entry gets for a key
it does not set (the command line's options, the settings file).  Data only:
building a :class:`~conntest.engine.CheckRequest` is the one thing done here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from conntest.engine import CheckRequest
from conntest.errors import FileProblems
from conntest.inputs.passwords import PasswordSource
from conntest.oauth.defaults import OAuthDefaults
from conntest.oauth.platform import login_command_for
from conntest.probes.dns_probe import ResolverConfig
from conntest.profile import Profile
from conntest.schema.models import SignIn
from conntest.schema.problem import Problem

__all__ = ["AccountEntry", "BatchFile", "BatchFileError", "EntryDefaults", "OAuthAccount"]


class BatchFileError(FileProblems):
    """The batch file cannot be used; ``problems`` says every reason why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(problems, "the batch file is unusable")


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
    auth: SignIn = "password"
    """``oauth`` with ``check --oauth``."""
    client_id: str | None = None
    tenant: str | None = None
    authority: str | None = None
    """``https://HOST`` (a path in the file sets :attr:`tenant`)."""
    settings: Callable[[], OAuthDefaults] | None = None
    """The settings file's OAuth defaults, read only when an OAuth entry lacks a value
    (a broken ``config.yaml`` does not stop a batch of password accounts)."""
    lab_signin: bool = False
    """``--lab``: the lab plays the user, so an OAuth entry may sign in by device code, and
    its tokens go to a temporary cache, never the real one."""


@dataclass(frozen=True)
class OAuthAccount:
    """How an ``auth: oauth`` entry signs in: its app registration and identity platform."""

    client_id: str
    tenant: str
    authority: str
    """``https://HOST``, without the tenant."""
    lab: bool = False
    """Signing in at the embedded lab (see :attr:`EntryDefaults.lab_signin`)."""


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
    imap_starttls: tuple[str, int] | None = None
    """``--lab``: where a profile with ``imap.security: starttls`` goes instead of :attr:`imap`."""
    stand_ins: frozenset[str] = frozenset()
    """``--lab``: the protocols whose server is the lab's, standing in for the profile's
    (:attr:`conntest.engine.CheckRequest.stand_ins`)."""
    where: str = ""
    """Where the entry was defined (``accounts.yaml: accounts[3]``), for messages."""
    today: date | None = None
    """Today's date for date-aware advice (set by the front end, not the batch file)."""
    retirement_window: int = 60
    """``--retirement-window`` (set by the front end, not the batch file)."""
    oauth: OAuthAccount | None = None
    """``auth: oauth``: sign in with Microsoft from the token cache (no password)."""

    @property
    def authenticates(self) -> bool:
        """Whether a check of this entry sends a credential (a password or a token)."""
        return self.oauth is not None or self.password.authenticates

    @property
    def login_command(self) -> str:
        """The command that saves this OAuth entry's sign-in (``conntest oauth login …``)."""
        if self.oauth is None:
            return "conntest oauth login"
        o = self.oauth
        return login_command_for(self.address, o.client_id, o.tenant, o.authority)

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
        signin: bool = True,
    ) -> CheckRequest:
        """The engine's request for this account (``password=None``: connectivity only).

        An OAuth entry signs in headless (the token cache, never a prompt) unless
        ``signin`` is False (the lockout rules held its token back).
        """
        oauth = None
        if self.oauth is not None and signin:
            from conntest.oauth.headless import headless_plan

            oauth = headless_plan(
                self.oauth.client_id,
                self.oauth.tenant,
                self.oauth.authority,
                self.address,
                ca_file=self.ca_file,
                lab=self.oauth.lab,
            )
        return CheckRequest(
            user=self.address,
            password=password,
            profiles=tuple(profiles if profiles is not None else self.profiles),
            imap_server=self.imap,
            imap_starttls_server=self.imap_starttls,
            smtp_server=self.smtp,
            stand_ins=self.stand_ins,
            resolver=ResolverConfig(nameserver=self.nameserver, pinned=self.resolve),
            ca_file=self.ca_file,
            timeout=self.timeout if timeout is None else timeout,
            tls_max=self.tls_max,
            expected_networks=self.expected_networks,
            today=self.today,
            retirement_window=self.retirement_window,
            oauth=oauth,
            login_command=self.login_command,
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
