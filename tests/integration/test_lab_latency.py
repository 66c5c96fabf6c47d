"""The lab's ``--latency-ms`` is a WAN's: every server flight waits, the TLS handshake's too.

And its record is bounded: a lab that serves for days keeps the newest
connections and counts what it dropped.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time

from conntest.lab import Lab
from conntest.lab.record import Record

LATENCY_MS = 60


def _handshake_then_noop(port: int, ca_file: str) -> tuple[float, float, bytes]:
    """(handshake seconds, greeting seconds, the greeting) of a raw TLS client."""
    context = ssl.create_default_context(cafile=ca_file)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.monotonic()
        with context.wrap_socket(raw, server_hostname="outlook.office365.com") as tls:
            handshake = time.monotonic() - started
            started = time.monotonic()
            greeting = tls.recv(4096)
            waited = time.monotonic() - started
            tls.sendall(b"a1 LOGOUT\r\n")
            while tls.recv(4096):
                pass
    return handshake, waited, greeting


async def test_latency_delays_the_tls_handshake_and_every_reply() -> None:
    async with Lab(latency_ms=LATENCY_MS) as lab:
        port = lab.endpoints("ok").imap[1]
        handshake, waited, greeting = await asyncio.to_thread(
            _handshake_then_noop, port, str(lab.ca_file)
        )
        flights = dict(lab.record.flights)
    assert greeting.startswith(b"* OK"), greeting
    # The handshake's server flight waited (a lower bound: the relay sleeps).
    assert handshake >= 0.9 * LATENCY_MS / 1000, handshake
    # Two round trips to the greeting, whatever the TLS version: TLS 1.3's one
    # handshake flight and the greeting after the client's Finished, or TLS 1.2's
    # two flights with the greeting in the second.  The LOGOUT reply counts no
    # flight: the client only hung up after it.
    assert flights == {"imap": 2}, flights
    assert handshake + waited >= 2 * 0.9 * LATENCY_MS / 1000, (handshake, waited)


async def test_no_latency_means_no_relay_and_no_flights() -> None:
    async with Lab() as lab:
        port = lab.endpoints("ok").imap[1]
        _, _, greeting = await asyncio.to_thread(_handshake_then_noop, port, str(lab.ca_file))
        assert greeting.startswith(b"* OK")
        assert dict(lab.record.flights) == {}


def test_the_record_keeps_the_newest_connections_and_counts_the_rest() -> None:
    record = Record(max_connections=3, max_dns_queries=2, max_commands=4)
    logs = [
        record.open(protocol="imap", listener="imap", scenario="ok", peer=("127.0.0.1", 1000 + i))
        for i in range(5)
    ]
    for i in range(6):
        logs[-1].command("NOOP", str(i))
    kept = record.connections()
    assert [c.peer[1] for c in kept] == [1002, 1003, 1004]
    assert [c.args for c in kept[-1].commands] == ["0", "1", "2", "3"]
    assert record.dropped.connections == 2
    assert record.dropped.commands == 2
    assert record.dropped.total == 4
    record.clear()
    assert record.connections() == [] and record.dropped.total == 0


async def test_closed_connections_leave_no_tls_state_for_the_garbage_collector() -> None:
    """Each TLS connection holds a 128 KiB buffer; a cycle would keep it until a full
    collection, and a lab serving batches grew by hundreds of MiB that way."""
    import asyncio.sslproto
    import gc

    from conntest.engine import CheckRequest, run_check
    from conntest.lab import LAB_PASSWORD
    from conntest.probes.dns_probe import ResolverConfig
    from conntest.profiles import load_profiles

    gc.collect()
    gc.disable()
    try:
        async with Lab() as lab:
            ends = lab.endpoints("ok")
            request = CheckRequest(
                user="gc@contoso.com",
                password=LAB_PASSWORD,
                profiles=[load_profiles().get("thunderbird")],
                imap_server=ends.imap,
                smtp_server=ends.smtp,
                resolver=ResolverConfig(nameserver=ends.nameserver),
                ca_file=lab.ca_file,
                expected_networks=ends.expected_networks,
                timeout=10,
            )
            for _ in range(3):
                assert (await run_check(request)).severity.verdict == "ok"
            for _ in range(100):  # the lab's side closes just after the client's
                if all(c.closed is not None for c in lab.record.connections()):
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)
            servers = [
                o
                for o in gc.get_objects()
                if isinstance(o, asyncio.sslproto.SSLProtocol) and o._server_side
            ]
            assert len(lab.record.connections()) == 6
            assert servers == [], f"{len(servers)} lab TLS connections kept alive by a cycle"
    finally:
        gc.enable()


async def test_the_lab_timer_never_wakes_a_flight_early() -> None:
    """The latency's timer (lab.timer) replaces asyncio's, which wakes 1-2 ms late; it
    must never be early, or the lab would flatter every client measured against it."""
    from conntest.lab.timer import sleep_until

    loop = asyncio.get_running_loop()
    for delay in (0.0, 0.001, 0.004, 0.0123):
        when = loop.time() + delay
        await sleep_until(when)
        assert loop.time() >= when
    # A sleeper cancelled before its time leaves the timer working for the next one.
    cancelled = asyncio.ensure_future(sleep_until(loop.time() + 0.05))
    await asyncio.sleep(0)
    cancelled.cancel()
    when = loop.time() + 0.01
    await sleep_until(when)
    assert loop.time() >= when and cancelled.cancelled()


async def test_latency_delays_dns_answers_too() -> None:
    import dns.message

    async with Lab(latency_ms=LATENCY_MS) as lab:
        nameserver = lab.endpoints("ok").nameserver
        query = dns.message.make_query("outlook.office365.com", "A").to_wire()

        def ask() -> float:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.settimeout(10)
                started = time.monotonic()
                udp.sendto(query, nameserver)
                udp.recv(4096)
                return time.monotonic() - started

        waited = await asyncio.to_thread(ask)
    assert waited >= LATENCY_MS / 1000, waited
