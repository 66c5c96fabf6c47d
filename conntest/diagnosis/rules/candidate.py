"""What a rule proposes (:class:`Candidate`), and the template values that need no run.

Apart from :mod:`.observed` (the steps of a run, indexed) because ``conntest
explain`` proposes a finding for one pasted text, with or without a client
profile, and imports this module alone (issue 12: cold start).
"""

from __future__ import annotations

from conntest.diagnosis.catalogue import (
    EXPECTED_ENDPOINTS,
    MICROSOFT_HOST_SUFFIXES,
    MICROSOFT_HOSTS,
    SECURITY_WORDS,
)
from conntest.diagnosis.normalise import readable
from conntest.finding import Severity
from conntest.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from conntest.model import Step
    from conntest.profile import Profile

__all__ = ["Candidate", "display", "is_microsoft", "protocol_values"]


@record
class Candidate:
    """A proposed finding: which catalogue entry, with which values and evidence."""

    code: str
    variant: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    protocol: str | None = None
    severity: Severity | None = None
    """Overrides the entry's and the variant's severity."""
    extra: list[str] = field(default_factory=list)
    """Sentences (templates) appended to the detail."""
    primary: bool = False
    """Named as the most likely cause, ahead of every other cause."""
    step: Step | None = None
    cause: bool = False
    """It made a step fail (or explains a step that failed); see :mod:`conntest.diagnosis.ranking`.

    Findings that are not causes are context: they never outrank a cause."""

    def merge(self, other: Candidate) -> None:
        """Fold ``other`` (same code) into this one: evidence and sentences add up.

        A variant beats no variant: it was chosen by a rule that knew more (the
        advertised mechanisms explain a bare ``504`` better than the reply does).
        """
        self.evidence.extend(e for e in other.evidence if e not in self.evidence)
        self.extra.extend(x for x in other.extra if x not in self.extra)
        if self.variant is None and other.variant is not None:
            self.variant = other.variant
            self.values.update(other.values)
        for key, value in other.values.items():
            self.values.setdefault(key, value)
        if self.protocol != other.protocol:
            self.protocol = None
        self.primary = self.primary or other.primary
        self.cause = self.cause or other.cause


def display(text: str) -> str:
    """A reply as people should read it: the decisive part, one line, no host trailer."""
    return readable(text)


def protocol_values(
    protocol: str | None,
    profile: Profile | None,
    step: Step | None = None,
    tested: str | None = None,
    tested_port: int | None = None,
) -> dict[str, str]:
    """Template values that depend on the protocol at hand (host, port, settings path).

    ``host`` and ``port`` are the server the step (else the run, ``tested`` and
    ``tested_port``) spoke to, else the profile's: a person who pointed
    ``--imap``/``--smtp`` at their own server reads the address they tested.
    ``client_port`` is the port the client is set to (the profile's), and
    ``expected_port`` the one Microsoft documents: the advice on what the
    client should use names those.  Without a profile (``conntest explain``
    names no client) the client is taken to use Microsoft's documented
    endpoint, as a profile does that does not say otherwise.
    """
    if protocol not in ("imap", "smtp"):
        return {}
    expected_port, expected_security = EXPECTED_ENDPOINTS[protocol][0]
    if profile is None:
        configured, port, security = MICROSOFT_HOSTS[protocol], expected_port, expected_security
    else:
        settings = profile.imap if protocol == "imap" else profile.smtp
        configured, port, security = settings.host, settings.port, settings.security
    host = tested or configured
    if step is not None:
        host = str(step.data.get("host", host))
    return {
        "protocol_name": protocol.upper(),
        "host": host,
        "port": str(tested_port or port),
        "client_port": str(port),
        "security": SECURITY_WORDS.get(security, security),
        "expected_host": configured if is_microsoft(configured) else MICROSOFT_HOSTS[protocol],
        "expected_port": str(expected_port),
        "expected_security": SECURITY_WORDS[expected_security],
    }


def is_microsoft(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host.endswith(suffix) for suffix in MICROSOFT_HOST_SUFFIXES)
