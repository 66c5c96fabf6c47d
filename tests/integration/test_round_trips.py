"""A check waits for no round trip the protocol and the emulated client do not need.

Counted by the lab (its record of commands per connection, and of the server
flights its latency held back), not by conntest: a check is one connection
per protocol, the client's own commands in order and nothing else, and the
lab's count of delayed flights stays within the round trips those commands
need.  The count only depends on who speaks after whom, not on timing: the
lab counts a flight once the client speaks after it arrived, so it is at most
the number of times the client waited for an answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from conntest.engine import CheckRequest, run_check
from conntest.lab import LAB_PASSWORD, Connection, Lab
from conntest.probes.dns_probe import ResolverConfig
from conntest.profiles import load_profiles

TLS12_FLIGHTS = 2
"""A full TLS 1.2 handshake (the lab's, like Microsoft's): two server flights; the
IMAP greeting rides in the second."""

# What each profile sends, and the extra waits inside a command (SASL continuations).
IMAP = {
    # AUTHENTICATE PLAIN in two steps (no SASL-IR): one "+" to wait for.  The second
    # CAPABILITY is the post-authentication one (behaviour.md §3), before ID.
    "thunderbird": (["CAPABILITY", "AUTHENTICATE", "CAPABILITY", "ID", "EXAMINE", "LOGOUT"], 1),
    "ios-mail": (["CAPABILITY", "ID", "LOGIN", "EXAMINE", "LOGOUT"], 0),
    "outlook-2016": (["CAPABILITY", "LOGIN", "EXAMINE", "LOGOUT"], 0),
}
# EHLO twice (RFC 3207: again after STARTTLS); AUTH LOGIN: user name and password
# each answer a 334.
SMTP = (["EHLO", "STARTTLS", "EHLO", "AUTH", "QUIT"], 2)


@pytest.mark.parametrize("profile_id", sorted(IMAP))
def test_one_check_makes_only_the_round_trips_its_dialogue_needs(profile_id: str) -> None:
    async def go() -> None:
        async with Lab(default_scenario="ok", latency_ms=2) as lab:
            ends = lab.endpoints("ok")
            report = await run_check(
                CheckRequest(
                    user="henry@contoso.com",
                    password=LAB_PASSWORD,
                    profiles=[load_profiles().get(profile_id)],
                    imap_server=ends.imap,
                    smtp_server=ends.smtp,
                    resolver=ResolverConfig(nameserver=ends.nameserver),
                    ca_file=Path(lab.ca_file),
                    expected_networks=ends.expected_networks,
                    timeout=20,
                )
            )
            assert report.severity.verdict in {"ok", "warning"}, report
            connections: dict[str, list[Connection]] = {"imap": [], "smtp": []}
            for connection in lab.record.connections():
                connections[connection.protocol].append(connection)
            flights = dict(lab.record.flights)
            for protocol, (verbs, continuations) in (("imap", IMAP[profile_id]), ("smtp", SMTP)):
                [connection] = connections[protocol]  # one connection per protocol
                assert [c.verb for c in connection.commands] == verbs, protocol
                assert len(connection.auth) == 1, connection.auth  # one authentication
                greeting = 1 if protocol == "smtp" else 0  # IMAP's rides on the handshake
                needed = greeting + TLS12_FLIGHTS + len(verbs) + continuations
                assert 0 < flights[protocol] <= needed, (protocol, flights, needed)

    asyncio.run(go())
