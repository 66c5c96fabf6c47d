"""A hostile identity platform cannot hold conntest past its deadline.

The account lookup (``identity realm``) and the OAuth discovery fetch HTTPS
in a worker thread.  A socket timeout counts from each read, so a server that
drips its headers or body a byte at a time never trips it; and the process's
exit waits for its worker threads.  Found in the field test: with such a
server as ``login.microsoftonline.com`` a ``check --timeout 5`` printed
nothing and never ended.  Here the installed ``conntest`` meets one over real
TLS on loopback (``--authority`` and ``--resolve`` point at it) and must end,
with its report, within the deadline.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from tests.adversarial.conftest import run_cli
from tests.adversarial.hostile import Conn, HostileServer, dns_server
from tests.adversarial.test_hostile_scripts import closed_port

TIMEOUT = 3.0
STARTUP = 10.0
"""Allowance for starting the interpreter and importing conntest on a loaded machine."""


async def _request(conn: Conn) -> None:
    while await conn.line() not in (b"\r\n", b"\n", b""):
        pass


async def drip_body(conn: Conn) -> None:
    """Headers promise a body, which then comes one byte every 0.2 s."""
    await _request(conn)
    await conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    await conn.send(b"Content-Length: 100000\r\n\r\n{")
    while True:
        await conn.send(b" ")
        await asyncio.sleep(0.2)


async def drip_body_then_close(conn: Conn) -> None:
    """As ``drip-body``, saying ``Connection: close``: http.client then closes the
    connection itself and hands the socket to the answer, which goes on reading."""
    await _request(conn)
    await conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    await conn.send(b"Connection: close\r\nContent-Length: 100000\r\n\r\n{")
    while True:
        await conn.send(b" ")
        await asyncio.sleep(0.2)


async def drip_headers(conn: Conn) -> None:
    """The status line, then a header line that never ends, a byte every 0.2 s."""
    await _request(conn)
    await conn.send(b"HTTP/1.1 200 OK\r\nX-Drip: ")
    while True:
        await conn.send(b"x")
        await asyncio.sleep(0.2)


async def silent(conn: Conn) -> None:
    """Accepts and says nothing: the check runs to its deadline."""
    await asyncio.sleep(3600)


SCRIPTS = {
    "drip-body": drip_body,
    "drip-body-then-close": drip_body_then_close,
    "drip-headers": drip_headers,
}
MODES = {
    # the mail servers are silent, the check ends at its deadline, and cancelling the
    # lookup then must end its thread
    "password": [],
    # the OAuth discovery is what the check waits for: its deadline must hold
    "oauth": ["--oauth", "--device-code", "--client-id", "0c1e5a7b-2f3d-4e6a-9b8c-1d2e3f4a5b6c"],
}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_a_dripping_identity_platform_ends_within_the_deadline(
    script: str,
    mode: str,
    server_tls: ssl.SSLContext,
    hostile_ca_file: Path,
    tmp_path: Path,
) -> None:
    with (
        HostileServer(SCRIPTS[script], server_tls) as identity,
        HostileServer(silent) as imap,
        closed_port() as smtp,
        dns_server("silent") as dns,
    ):
        run = run_cli(
            [
                "--imap",
                f"127.0.0.1:{imap.port}",
                "--smtp",
                f"127.0.0.1:{smtp}",
                "--resolve",
                "login.contoso.test:127.0.0.1",
                "--authority",
                f"https://login.contoso.test:{identity.port}",
                "--nameserver",
                f"127.0.0.1:{dns}",
                "--ca-file",
                str(hostile_ca_file),
                "--timeout",
                str(TIMEOUT),
                "--format",
                "text",
                *MODES[mode],
            ],
            "correcthorsebatt",
            tmp_path,
            limit=TIMEOUT + 60,
        )
        reached = bool(identity.connections)
    assert reached, "the identity platform was never asked: the test proves nothing"
    assert "Traceback" not in run.output, run.stderr
    assert run.code in {1, 2, 3}, run.output
    assert run.stdout.startswith(("WARNING: ", "CRITICAL: ", "UNKNOWN: ")), run.output
    assert run.seconds < TIMEOUT + 1.0 + STARTUP, run.seconds
