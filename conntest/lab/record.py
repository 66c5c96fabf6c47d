"""What the lab's servers received, for tests that assert what a client sent.

Each accepted connection gets a :class:`ConnectionLog` that its server fills
in; readers get frozen :class:`Connection` snapshots.  Credentials are never
stored: a LOGIN keeps its user name and ``<redacted>`` for the password, AUTH
and AUTHENTICATE keep the mechanism and ``<redacted>`` for any payload.  What
*is* kept is the fact that a secret arrived, and whether it arrived in clear,
because "did the check send a password to this listener?" is what tests ask.

Listener names: the shared servers are ``"imap"`` and ``"smtp"``; a scenario
with listeners of its own uses ``"<scenario>/imap"`` and ``"<scenario>/smtp"``.

All mutation happens on the lab's event loop; a lock makes reads from other
threads (an imapclient test running in ``to_thread``) see whole snapshots.

The record is bounded, so a lab that serves for days stays flat in memory:
it keeps the newest :data:`MAX_CONNECTIONS` connections and
:data:`MAX_DNS_QUERIES` DNS questions, and the first :data:`MAX_COMMANDS`
commands of each connection (authentication attempts are all kept: tests
count them);
:class:`Dropped` counts what was left out, so a test (or a reader of
``/status``) can tell a quiet client from a record that overflowed.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

MAX_CONNECTIONS = 4096
"""Connections kept (the newest); older ones are dropped and counted."""
MAX_DNS_QUERIES = 4096
"""DNS questions kept (the newest)."""
MAX_COMMANDS = 256
"""Commands kept per connection (the first ones: a client's dialogue starts there)."""

REDACTED = "<redacted>"
UNKNOWN_VERB = "<unknown>"
"""Recorded instead of a verb the server does not know: a client out of step in an
AUTH exchange sends its base64 password as a "command"."""


class Command(NamedTuple):
    """One command as received: verb upper-cased, arguments with secrets redacted."""

    verb: str
    args: str


@dataclass(frozen=True)
class AuthAttempt:
    """One LOGIN / AUTHENTICATE / AUTH command and what came of it."""

    mechanism: str
    """``"LOGIN"`` for IMAP LOGIN, else the SASL mechanism (``"PLAIN"``, ``"XOAUTH2"``, …)."""
    user: str | None
    credential_received: bool
    """A password or SASL payload reached the server (not just the command)."""
    in_clear: bool
    """The credential (if any) arrived without TLS."""
    accepted: bool


@dataclass(frozen=True)
class Connection:
    """A snapshot of one accepted connection."""

    id: int
    protocol: str
    """``"imap"`` or ``"smtp"``."""
    listener: str
    scenario: str
    """The listener's scenario, or (shared listeners) the scenario of the user who logged in."""
    peer: tuple[str, int]
    tls_version: str | None
    """``"TLSv1.2"`` once a handshake completed, else ``None``."""
    user: str | None
    """The last user name the client sent."""
    commands: tuple[Command, ...]
    auth: tuple[AuthAttempt, ...]
    opened: float
    closed: float | None


@dataclass(frozen=True)
class DnsQuery:
    """One DNS question a view received."""

    view: str
    transport: str
    """``"udp"`` or ``"tcp"``."""
    name: str
    """Lower-case, without the trailing dot."""
    rdtype: str
    rcode: str


@dataclass
class Dropped:
    """What the bounded record left out since it was created (or last cleared)."""

    connections: int = 0
    dns_queries: int = 0
    commands: int = 0

    @property
    def total(self) -> int:
        return self.connections + self.dns_queries + self.commands


@dataclass
class ConnectionLog:
    """The mutable record of one connection, written by its server."""

    record: Record
    id: int
    protocol: str
    listener: str
    scenario: str
    peer: tuple[str, int]
    tls_version: str | None = None
    user: str | None = None
    commands: list[Command] = field(default_factory=list)
    auth: list[AuthAttempt] = field(default_factory=list)
    opened: float = field(default_factory=time.monotonic)
    closed: float | None = None

    def command(self, verb: str, args: str = "", *, known: frozenset[str] | None = None) -> None:
        """Append a command; with ``known``, any other verb is kept only as UNKNOWN_VERB."""
        if known is not None and verb.upper() not in known:
            verb, args = UNKNOWN_VERB, REDACTED if args else ""
        command = Command(verb.upper() if verb != UNKNOWN_VERB else verb, args)
        with self.record.lock:
            if len(self.commands) >= self.record.max_commands:
                self.record.dropped.commands += 1
            else:
                self.commands.append(command)
            watchers = tuple(self.record.watchers)
        for watch in watchers:
            watch(self, command)

    def begin_auth(self, mechanism: str, *, in_clear: bool) -> None:
        """Note an authentication command as soon as it arrives (it counts even if cut short)."""
        with self.record.lock:
            self.auth.append(
                AuthAttempt(
                    mechanism=mechanism.upper(),
                    user=None,
                    credential_received=False,
                    in_clear=in_clear,
                    accepted=False,
                )
            )

    def update_auth(
        self,
        *,
        user: str | None = None,
        credential_received: bool | None = None,
        accepted: bool | None = None,
    ) -> None:
        """Fill in the current attempt as its exchange goes on."""
        with self.record.lock:
            attempt = self.auth[-1]
            self.auth[-1] = dataclasses.replace(
                attempt,
                user=attempt.user if user is None else user,
                credential_received=attempt.credential_received
                if credential_received is None
                else credential_received,
                accepted=attempt.accepted if accepted is None else accepted,
            )

    def set_tls(self, version: str | None) -> None:
        with self.record.lock:
            self.tls_version = version

    def set_user(self, user: str, scenario: str) -> None:
        """The client named a user; on a shared listener that also picks the scenario."""
        with self.record.lock:
            self.user = user
            self.scenario = scenario

    def close(self) -> None:
        with self.record.lock:
            if self.closed is None:
                self.closed = time.monotonic()

    def snapshot(self) -> Connection:
        with self.record.lock:
            return Connection(
                id=self.id,
                protocol=self.protocol,
                listener=self.listener,
                scenario=self.scenario,
                peer=self.peer,
                tls_version=self.tls_version,
                user=self.user,
                commands=tuple(self.commands),
                auth=tuple(self.auth),
                opened=self.opened,
                closed=self.closed,
            )


class Record:
    """Everything the lab's servers received since the last :meth:`clear`."""

    def __init__(
        self,
        *,
        max_connections: int = MAX_CONNECTIONS,
        max_dns_queries: int = MAX_DNS_QUERIES,
        max_commands: int = MAX_COMMANDS,
    ) -> None:
        self.lock = threading.RLock()
        self.max_commands = max_commands
        self._logs: collections.deque[ConnectionLog] = collections.deque(maxlen=max_connections)
        self._dns: collections.deque[DnsQuery] = collections.deque(maxlen=max_dns_queries)
        self._ids = itertools.count(1)
        self.dropped = Dropped()
        """What was left out to keep the record bounded."""
        self.watchers: list[Callable[[ConnectionLog, Command], None]] = []
        """Called on the lab's loop with each command as it arrives, while the
        client waits for the reply (tests inspect the live connection there)."""
        self.flights: collections.Counter[str] = collections.Counter()
        """Server flights (greetings, replies, TLS handshake flights) the lab's
        latency delayed, per listener name (DNS answers: ``"dns"``): the round
        trips a client paid for, counted by the lab."""

    def open(
        self, *, protocol: str, listener: str, scenario: str, peer: tuple[str, int]
    ) -> ConnectionLog:
        """Start the log of a newly accepted connection."""
        with self.lock:
            log = ConnectionLog(
                record=self,
                id=next(self._ids),
                protocol=protocol,
                listener=listener,
                scenario=scenario,
                peer=peer,
            )
            if len(self._logs) == self._logs.maxlen:
                self.dropped.connections += 1
            self._logs.append(log)
            return log

    def dns_query(self, query: DnsQuery) -> None:
        with self.lock:
            if len(self._dns) == self._dns.maxlen:
                self.dropped.dns_queries += 1
            self._dns.append(query)

    def delayed_flight(self, listener: str) -> None:
        """Count one server flight held back by the lab's latency."""
        with self.lock:
            self.flights[listener] += 1

    def clear(self) -> None:
        with self.lock:
            self._logs.clear()
            self._dns.clear()
            self.dropped = Dropped()
            self.flights.clear()

    def connections(
        self,
        *,
        protocol: str | None = None,
        listener: str | None = None,
        scenario: str | None = None,
        user: str | None = None,
    ) -> list[Connection]:
        """Snapshots of the matching connections, oldest first (``None`` matches anything)."""
        with self.lock:
            snapshots = [log.snapshot() for log in self._logs]
        return [
            c
            for c in snapshots
            if (protocol is None or c.protocol == protocol)
            and (listener is None or c.listener == listener)
            and (scenario is None or c.scenario == scenario)
            and (user is None or (c.user or "").lower() == user.lower())
        ]

    def auth_attempts(
        self,
        protocol: str | None = None,
        user: str | None = None,
        *,
        listener: str | None = None,
    ) -> int:
        """How many LOGIN, AUTHENTICATE and AUTH commands were received.

        Every such command counts, also one refused before any credential was
        sent (``504`` before STARTTLS) or cut short by a disconnect.  ``user``
        matches the user name sent with the attempt, or else the connection's.
        """
        return sum(
            1
            for conn in self.connections(protocol=protocol, listener=listener)
            for attempt in conn.auth
            if user is None or (attempt.user or conn.user or "").lower() == user.lower()
        )

    def credentials_received(
        self,
        *,
        listener: str | None = None,
        protocol: str | None = None,
        scenario: str | None = None,
        in_clear: bool | None = None,
    ) -> int:
        """How many times a password or SASL payload reached a matching listener."""
        return sum(
            1
            for conn in self.connections(protocol=protocol, listener=listener, scenario=scenario)
            for attempt in conn.auth
            if attempt.credential_received and (in_clear is None or attempt.in_clear == in_clear)
        )

    def dns_queries(self, *, view: str | None = None, name: str | None = None) -> list[DnsQuery]:
        """The DNS questions received, oldest first (``view`` is the scenario name of the view)."""
        with self.lock:
            queries = list(self._dns)
        return [
            q
            for q in queries
            if (view is None or q.view == view)
            and (name is None or q.name == name.lower().rstrip("."))
        ]
