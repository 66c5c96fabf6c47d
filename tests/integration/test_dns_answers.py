"""Host lookups against a scripted DNS server: the quick UDP path and dnspython's full one.

A host lookup asks one UDP question per type and reads the common answers
itself (records, none of the type, NXDOMAIN); anything else is asked again
through dnspython's resolver, so a truncated answer still ends up over TCP and
a SERVFAIL still reads as before.  The server is real: a UDP and a TCP socket
on one loopback port, answering what each test scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from conntest.model import FailureKind, Status
from conntest.probes.clock import RunClock
from conntest.probes.dns_probe import ResolverConfig, resolve_host

HOST = "mail.contoso.test"
Answer = Callable[[dns.message.Message], dns.message.Message]


def _records(query: dns.message.Message) -> dns.message.Message:
    response = dns.message.make_response(query)
    question = query.question[0]
    if question.rdtype == dns.rdatatype.A:
        response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", "127.0.0.9"))
    return response  # AAAA: no records of the type (NOERROR, empty)


@contextlib.contextmanager
def dns_server(udp: Answer, tcp: Answer = _records) -> Iterator[tuple[int, list[str]]]:
    """(port, the transports asked, in order) of a server answering with ``udp``/``tcp``."""
    tcp_sock = socket.create_server(("127.0.0.1", 0))
    port = tcp_sock.getsockname()[1]
    udp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp_sock.bind(("127.0.0.1", port))
    udp_sock.settimeout(0.1)
    tcp_sock.settimeout(0.1)
    asked: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                data, peer = udp_sock.recvfrom(4096)
                asked.append("udp")
                udp_sock.sendto(udp(dns.message.from_wire(data)).to_wire(), peer)
            with contextlib.suppress(TimeoutError):
                conn, _ = tcp_sock.accept()
                with conn:
                    conn.settimeout(2)
                    (size,) = struct.unpack("!H", conn.recv(2))
                    asked.append("tcp")
                    wire = tcp(dns.message.from_wire(conn.recv(size))).to_wire()
                    conn.sendall(struct.pack("!H", len(wire)) + wire)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port, asked
    finally:
        stop.set()
        thread.join(2)
        udp_sock.close()
        tcp_sock.close()


async def _resolve(port: int) -> tuple[Status, list[str], FailureKind | None]:
    step = await resolve_host(RunClock(5), HOST, ResolverConfig(nameserver=("127.0.0.1", port)))
    return step.status, step.data["addresses"], step.failure.kind if step.failure else None


async def test_records_and_no_records_of_a_type_are_read_from_one_question_each() -> None:
    with dns_server(_records) as (port, asked):
        status, addresses, _ = await _resolve(port)
    assert (status, addresses) == (Status.PASS, ["127.0.0.9"])
    assert asked == ["udp", "udp"]  # A and AAAA, nothing asked twice


async def test_a_truncated_answer_is_asked_again_over_tcp() -> None:
    def truncated(query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.TC
        return response

    with dns_server(truncated) as (port, asked):
        status, addresses, _ = await asyncio.wait_for(_resolve(port), 10)
    assert (status, addresses) == (Status.PASS, ["127.0.0.9"])
    assert "tcp" in asked


async def test_nxdomain_and_servfail_read_as_they_did() -> None:
    def rcode(code: dns.rcode.Rcode) -> Answer:
        def answer(query: dns.message.Message) -> dns.message.Message:
            response = dns.message.make_response(query)
            response.set_rcode(code)
            return response

        return answer

    with dns_server(rcode(dns.rcode.NXDOMAIN)) as (port, asked):
        assert (await _resolve(port))[::2] == (Status.FAIL, FailureKind.DNS_NXDOMAIN)
    assert asked == ["udp", "udp"]  # NXDOMAIN is an answer: not asked again
    with dns_server(rcode(dns.rcode.SERVFAIL)) as (port, asked):
        status, _, kind = await asyncio.wait_for(_resolve(port), 10)
    assert (status, kind) == (Status.FAIL, FailureKind.DNS_ERROR)
    assert asked.count("udp") > 2  # left to dnspython, which asked again


def test_an_answer_of_thousands_of_addresses_keeps_the_status_line_short(tmp_path: Path) -> None:
    """A 64 KiB answer (field test: 2000 A records) made a 25 KB Nagios status line and
    text verdict, every address in the title: now the first few, then how many more."""

    def many(query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        if question.rdtype == dns.rdatatype.A and "office365" in question.name.to_text():
            addresses = [f"127.0.{i // 250}.{i % 250 + 1}" for i in range(2000)]
            response.answer.append(
                dns.rrset.from_text_list(question.name, 60, "IN", "A", addresses)
            )
        return response

    def truncated(query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.TC
        return response

    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "CI": ""}
    check = ["check", "--user", "a@contoso.test", "--no-password", "--profile", "thunderbird"]
    check += ["--format", "nagios", "--expected-network", "40.96.0.0/13"]
    with dns_server(truncated, many) as (port, _asked):
        done = subprocess.run(
            [sys.executable, "-m", "conntest", *check, "--nameserver", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    status = done.stdout.splitlines()[0]
    assert done.returncode == 2, done.stdout + done.stderr
    assert "dns-unexpected-address" in status, status
    # four of them (a record set has no order), then the count of the rest
    assert re.search(r"\((?:127\.0\.\d+\.\d+, ){3}127\.0\.\d+\.\d+ and 1996 more\)", status), status
    assert len(status) < 1000, len(status)
