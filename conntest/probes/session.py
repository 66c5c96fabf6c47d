"""What probes of several profiles share within one run.

:class:`AuthGate` enforces the lockout rule: one authentication per protocol
per run, whatever the number of profiles.  The first profile to reach the
authentication step (the *leader*) authenticates; the others wait for its
outcome and record it as theirs, marked as shared.  Microsoft 365 judges the
credential, not the client, so the leader's answer holds for every profile.

:class:`Endpoint` and :class:`Credentials` are the seams the engine passes in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import unicodedata
from dataclasses import dataclass
from typing import Any

from conntest.model import Step
from conntest.redact import Redactor, bearer_forms, secret_forms


@dataclass(frozen=True)
class Endpoint:
    host: str
    """The name TLS verifies (the real server name)."""
    port: int
    address: str
    """Where to connect (from DNS or ``--resolve``)."""


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str | None = dataclasses.field(repr=False)
    """``None`` for a connectivity-only check: probes stop before authentication."""
    token: str | None = dataclasses.field(default=None, repr=False)
    """An OAuth access token: the probes sign in with XOAUTH2 instead of the password."""
    without: str = "connectivity-only check: no password given"
    """Why there is neither (the skipped sign-in step says it)."""
    redactor: Redactor | None = dataclasses.field(default=None, repr=False, compare=False)
    """The run's redactor of these very secrets, if it has one (one per run, not three)."""

    @functools.cached_property
    def redact(self) -> Redactor:
        """Redacts every form of this run's secrets; probes apply it where a line is recorded."""
        if self.redactor is not None:
            return self.redactor
        forms = secret_forms(self.user, self.password, self.token)
        return Redactor([*forms, *bearer_forms(self.user, self.token or "")])


def unsafe_user(user: str) -> str | None:
    """Why ``user`` must not go on the wire, if it must not (the probes' last line of defence).

    The command line and batch files validate addresses first; this guard keeps
    a CR, LF, NUL or any other control character (or a Unicode line separator)
    from ever reaching a server, where it would end the command and start another.
    """
    for ch in user:
        if unicodedata.category(ch) in {"Cc", "Zl", "Zp"}:
            return (
                f"credentials not sent: the user name contains a control character "
                f"(U+{ord(ch):04X}), which would end the command early"
            )
    return None


class AuthGate:
    """At most one authentication per protocol per run, and what must come before it."""

    def __init__(
        self, protocol: str, hold: asyncio.Future[Any] | None = None, hold_s: float = 0.0
    ) -> None:
        self.protocol = protocol
        self.leader: str | None = None
        self._outcome: asyncio.Future[list[Step]] = asyncio.get_running_loop().create_future()
        self._hold = hold
        self._hold_s = hold_s

    async def cleared(self) -> None:
        """Wait for ``hold`` (the credential-free account lookup), at most ``hold_s`` seconds.

        A probe calls this just before it sends a credential, so the lookup ends
        first; a slower one does not hold the sign-in up beyond the bound (it
        goes on beside it), and a failed one clears at once.
        """
        if self._hold is not None and not self._hold.done():
            await asyncio.wait({self._hold}, timeout=self._hold_s)

    def claim(self, profile_id: str) -> bool:
        """True for the first caller: that profile authenticates."""
        if self.leader is None:
            self.leader = profile_id
            return True
        return False

    def publish(self, steps: list[Step]) -> None:
        if not self._outcome.done():
            self._outcome.set_result(steps)

    async def shared_outcome(self, timeout: float) -> list[Step] | None:
        """The leader's authentication steps, copied and marked as shared.

        The leader publishes when its own steps end, which their deadlines
        bound; ``timeout`` is a backstop and should outlast the run.
        """
        try:
            steps = await asyncio.wait_for(asyncio.shield(self._outcome), timeout)
        except TimeoutError:
            return None
        shared: list[Step] = []
        for step in steps:
            copy = dataclasses.replace(step, data=dict(step.data), transcript=list(step.transcript))
            copy.data["shared_from"] = self.leader
            copy.transcript.insert(
                0,
                f"(shared: {self.leader} authenticated for this run; conntest sends "
                f"credentials once per protocol per run to protect the account from lockout)",
            )
            shared.append(copy)
        return shared
