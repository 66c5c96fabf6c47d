"""``TCP_NODELAY`` on both ends of every connection of a real check against the lab.

Without it a check pays Nagle stalls: imaplib writes an AUTHENTICATE response
and its CRLF as two TLS records, and the second waits for the server's
delayed ACK.  The sockets are inspected while the lab holds a command and the
client waits for the reply, through the process's own file descriptors, so
what is asserted is the kernel's view of the real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path

from conntest.engine import CheckRequest, run_check
from conntest.lab import Lab
from conntest.lab.record import Command, ConnectionLog
from conntest.probes.dns_probe import ResolverConfig
from conntest.profiles import load_profiles


def _tcp_sockets() -> list[tuple[tuple[str, int], tuple[str, int] | None, int]]:
    """(local, peer, TCP_NODELAY) of every TCP socket this process holds."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError, ValueError):
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            sock = socket.fromfd(int(name), socket.AF_INET, socket.SOCK_STREAM)
            with sock:
                if sock.type != socket.SOCK_STREAM or sock.family != socket.AF_INET:
                    continue
                local = sock.getsockname()
                try:
                    peer = sock.getpeername()
                except OSError:
                    peer = None
                found.append((local, peer, sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
    return found


def test_every_socket_of_a_check_sets_nodelay_on_both_ends() -> None:
    seen: dict[tuple[str, str], tuple[int, int]] = {}

    def inspect(log: ConnectionLog, command: Command) -> None:
        if (log.protocol, command.verb) in seen:
            return
        sockets = _tcp_sockets()
        client = [nd for local, _, nd in sockets if local == log.peer]
        server = [nd for _, peer, nd in sockets if peer == log.peer]
        assert len(client) == 1, (log.peer, sockets)
        assert len(server) == 1, (log.peer, sockets)
        seen[(log.protocol, command.verb)] = (client[0], server[0])

    async def go() -> None:
        async with Lab(default_scenario="ok") as lab:
            lab.record.watchers.append(inspect)
            ends = lab.endpoints("ok")
            profiles = load_profiles()
            report = await run_check(
                CheckRequest(
                    user="henry@contoso.com",
                    password="correcthorsebatt",
                    profiles=[profiles.get("thunderbird"), profiles.get("outlook-2016")],
                    imap_server=ends.imap,
                    smtp_server=ends.smtp,
                    resolver=ResolverConfig(nameserver=ends.nameserver),
                    ca_file=Path(lab.ca_file),
                    expected_networks=ends.expected_networks,
                    timeout=10,
                )
            )
            assert report.severity.verdict == "ok", report

    asyncio.run(go())
    verbs = {key for key in seen}
    # Both protocols, and the commands the Nagle stall hit (AUTHENTICATE / AUTH).
    assert ("imap", "AUTHENTICATE") in verbs or ("imap", "LOGIN") in verbs, verbs
    assert any(protocol == "smtp" for protocol, _ in verbs), verbs
    for key, (client, server) in seen.items():
        assert client, f"{key}: the client socket has TCP_NODELAY off"
        assert server, f"{key}: the lab's accepted socket has TCP_NODELAY off"
