"""The facts of one run as the rules read them: steps indexed, evidence lines.

Shared by every rule module; what a rule proposes, and the template values that
do not need a run, are :mod:`.candidate` (``conntest explain`` imports that alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from conntest.diagnosis.normalise import one_line
from conntest.diagnosis.rules.candidate import display, protocol_values
from conntest.model import FailureKind, Status, Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from conntest.profile import Profile

AUTH_STEPS = frozenset({"login", "auth"})
"""Steps that send the credentials (IMAP ``login``, SMTP ``auth``)."""
IGNORED_STEPS = frozenset(
    {("dns", "mx"), ("dns", "autodiscover"), ("imap", "logout"), ("smtp", "quit")}
    | {("identity", "realm")}  # account classification: information only
)
"""Informational or cosmetic steps whose failure never decides a diagnosis."""
RETRY_SUFFIX = "-stripped"
"""The engine names the consented retry ``auth-stripped`` / ``login-stripped``."""
PRE_AUTH_STEPS = frozenset(
    {"connect", "tls", "greeting", "capability", "id", "ehlo", "starttls", "ehlo-tls"}
)

ACCOUNT_WIDE = frozenset(
    {
        "security-defaults",
        "account-locked",
        "conditional-access-blocked",
        "basic-auth-disabled",
        "mfa-required",
    }
)
"""SMTP verdicts that concern the account or tenant, and so also explain IMAP's bare refusal."""
CREDENTIAL_ACCEPTED = frozenset({"imap-disabled", "conditional-access-blocked"})
"""Codes that are only reached with the right password (behaviour.md §4 rules 3 and 4)."""

PHASES: Mapping[str, str] = {
    "connect": "the connection",
    "tls": "the TLS handshake",
    "greeting": "the greeting",
    "capability": "CAPABILITY",
    "id": "the IMAP ID command",
    "login": "the sign-in",
    "auth": "the sign-in",
    "mailbox": "opening the mailbox",
    "logout": "LOGOUT",
    "ehlo": "EHLO",
    "starttls": "STARTTLS",
    "ehlo-tls": "EHLO after STARTTLS",
    "quit": "QUIT",
}

NETWORK_KINDS = frozenset(
    {
        FailureKind.REFUSED,
        FailureKind.TIMEOUT,
        FailureKind.UNREACHABLE,
        FailureKind.RESET,
        FailureKind.CLOSED,
        FailureKind.DNS_NXDOMAIN,
        FailureKind.DNS_TIMEOUT,
        FailureKind.DNS_ERROR,
    }
)


def evidence(step: Step) -> str:
    """``"<protocol> <step>: <reply or failure message>"``."""
    if step.reply is not None:
        said = one_line(str(step.reply))
    elif step.failure is not None:
        said = one_line(step.failure.message)
    else:
        said = step.status.value
    if (
        step.tls is not None
        and step.failure is not None
        and step.failure.kind is FailureKind.TLS_VERIFY
    ):
        said += f" (issuer {step.tls.issuer or 'unknown'}"
        said += (
            f", verify code {step.tls.verify_code})" if step.tls.verify_code is not None else ")"
        )
    return f"{step.protocol} {step.name}: {said}"


def said(step: Step) -> str:
    if step.reply is not None:
        return display(str(step.reply))
    if step.failure is not None:
        return display(step.failure.message)
    return step.status.value


class Observed:
    """The steps of one run, indexed for the rules."""

    def __init__(self, steps: Sequence[Step], stand_ins: frozenset[str] = frozenset()) -> None:
        self.steps = list(steps)
        self.stand_ins = stand_ins
        """Protocols whose port is not named: the lab's listener stands in for the profile's."""

    def first(self, protocol: str, name: str) -> Step | None:
        """The first step of that name: the original attempt, not a retry."""
        return next((s for s in self.steps if s.protocol == protocol and s.name == name), None)

    def named(self, protocol: str, name: str) -> list[Step]:
        return [s for s in self.steps if s.protocol == protocol and s.name == name]

    def passed(self, protocol: str, name: str) -> bool:
        step = self.first(protocol, name)
        return step is not None and step.status is Status.PASS

    def protocols(self) -> list[str]:
        return [p for p in ("imap", "smtp") if any(s.protocol == p for s in self.steps)]

    def failed(self) -> list[Step]:
        """Failed steps that can decide a diagnosis (not informational, control or retry ones)."""
        return [
            s
            for s in self.steps
            if s.failed
            and (s.protocol, s.name) not in IGNORED_STEPS
            and s.name != "control"
            and not s.name.endswith(RETRY_SUFFIX)
        ]

    def retry(self) -> Step | None:
        """The consented sign-in with whitespace removed, if the engine made one."""
        return next((s for s in self.steps if s.name.endswith(RETRY_SUFFIX)), None)

    def tested_host(self, protocol: str) -> str | None:
        """The name this run connected to for ``protocol`` (``--imap``/``--smtp`` may differ
        from the profile's)."""
        connect = self.first(protocol, "connect")
        host = connect.data.get("host") if connect is not None else None
        return str(host) if host else None

    def tested_port(self, protocol: str) -> int | None:
        """The port this run connected to for ``protocol``, as :meth:`tested_host` the name
        (``None`` for a stand-in: the lab listens elsewhere than the client would connect)."""
        if protocol in self.stand_ins:
            return None
        connect = self.first(protocol, "connect")
        port = connect.data.get("port") if connect is not None else None
        return port if isinstance(port, int) and not isinstance(port, bool) else None

    def values(self, protocol: str, profile: Profile, step: Step | None = None) -> dict[str, str]:
        """:func:`protocol_values`, naming the server and the port this run tested."""
        return protocol_values(
            protocol, profile, step, self.tested_host(protocol), self.tested_port(protocol)
        )

    def failed_before_auth(self, protocol: str) -> bool:
        return any(
            s.failed and s.protocol == protocol and s.name in PRE_AUTH_STEPS for s in self.steps
        )


def host_of(protocol: str, profile: Profile) -> str:
    return (profile.imap.host if protocol == "imap" else profile.smtp.host).lower().rstrip(".")


def as_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
