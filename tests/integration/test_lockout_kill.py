"""A real ``conntest`` stopped in the middle of an authentication: the next run holds back.

The IMAP server here is a small scripted one on loopback (real TLS, a private
CA, the name pinned with ``resolve:``, as a user's own server would be): it
answers like Microsoft 365 up to authentication, then takes the credential
and never replies.  While conntest waits for the answer the test kills it
(SIGKILL, SIGTERM), interrupts it (Ctrl-C: SIGINT) or stops ``serve``
(SIGTERM); the next run must not send the credential again, and must say
why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import ssl
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from conntest.lockout import INTERRUPTED
from tests.conftest import SECRET

HOST = "mail.example.test"
ACCOUNT = "alice@example.test"
PASSWORD_VAR = "CONNTEST_KILL_TEST_PASSWORD"
GREETING = b"* OK The Microsoft Exchange IMAP4 service is ready.\r\n"
CAPABILITY = (
    b"* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT "
    b"CHILDREN IDLE NAMESPACE LITERAL+\r\n"
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")


@dataclass
class StallingImap:
    """Speaks IMAP up to authentication, counts the credentials it receives, never answers them."""

    credentials: int = 0
    received: asyncio.Event = field(default_factory=asyncio.Event)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            writer.write(GREETING)
            while line := await reader.readline():
                tag, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
                command = rest.split(" ", 1)[0].upper()
                if command == "CAPABILITY":
                    writer.write(CAPABILITY + f"{tag} OK CAPABILITY completed.\r\n".encode())
                elif command == "ID":
                    writer.write(b"* ID NIL\r\n" + f"{tag} OK ID completed.\r\n".encode())
                elif command == "LOGIN" or (command == "AUTHENTICATE" and rest.count(" ") >= 2):
                    self._got_credential()
                elif command == "AUTHENTICATE":
                    writer.write(b"+ \r\n")
                    await writer.drain()
                    if await reader.readline():
                        self._got_credential()
                elif command == "LOGOUT":
                    writer.write(b"* BYE\r\n" + f"{tag} OK LOGOUT completed.\r\n".encode())
                    break
                else:
                    writer.write(f"{tag} BAD Command Error. 12\r\n".encode())
                await writer.drain()
        writer.close()

    def _got_credential(self) -> None:
        self.credentials += 1
        self.received.set()

    def hang_up(self) -> None:
        for writer in self.writers:
            writer.close()


@contextlib.asynccontextmanager
async def stalling_server(tls: ssl.SSLContext) -> AsyncIterator[tuple[StallingImap, int]]:
    imap = StallingImap()
    server = await asyncio.start_server(imap.handle, "127.0.0.1", 0, ssl=tls)
    try:
        yield imap, server.sockets[0].getsockname()[1]
    finally:
        imap.hang_up()
        server.close()


@pytest.fixture
def server_tls(test_ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert(HOST).configure_cert(ctx)
    return ctx


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (SMTP refused, DNS answered by ICMP at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def batch_file(tmp_path: Path, imap_port: int, closed: int, ca_file: Path, timeout: int) -> Path:
    entry: dict[str, Any] = {
        "address": ACCOUNT,
        "profile": "thunderbird",
        "password_env": PASSWORD_VAR,
        "imap": f"{HOST}:{imap_port}",
        "smtp": f"127.0.0.1:{closed}",
        "resolve": [f"{HOST}:127.0.0.1"],
        "nameserver": f"127.0.0.1:{closed}",
        "ca_file": str(ca_file),
        "expected_networks": ["127.0.0.0/8"],
        "timeout": timeout,
    }
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump({"accounts": [entry]}))
    return path


async def conntest(*argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conntest",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, PASSWORD_VAR: SECRET, "CI": "1"},
    )


async def second_run(batch: Path, state: Path) -> dict[str, Any]:
    """Run the batch again; the account's JSON result."""
    process = await conntest(
        "check", "--batch", str(batch), "--state-file", str(state), "--format", "json"
    )
    out, err = await asyncio.wait_for(process.communicate(), 90)
    assert process.returncode in {1, 2}, err.decode()
    assert b"Traceback" not in err
    [account] = json.loads(out)["accounts"]
    assert isinstance(account, dict)
    return account


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
async def test_a_batch_killed_mid_authentication_holds_the_next_run_back(
    signum: int, tmp_path: Path, server_tls: ssl.SSLContext, ca_file: Path, closed_port: int
) -> None:
    state = tmp_path / "state" / "auth-state.json"
    state.parent.mkdir()  # an explicit --state-file's directory must exist (docs/files.md)
    async with stalling_server(server_tls) as (imap, port):
        batch = batch_file(tmp_path, port, closed_port, ca_file, timeout=60)
        first = await conntest(
            "check", "--batch", str(batch), "--state-file", str(state), "--format", "nagios"
        )
        try:
            await asyncio.wait_for(imap.received.wait(), 60)
            # The claim was on disk before the credential was sent.
            claim = json.loads(state.read_text())["accounts"][ACCOUNT]
            assert claim["claimed_by"].startswith(f"{first.pid}-")
        finally:
            first.send_signal(signum)
            await first.communicate()
        assert first.returncode == -signum

        result = await second_run(batch, state)
        assert imap.credentials == 1, "the next run authenticated again"
    assert result["authentication"] == "skipped"
    assert "was stopped" in result["skip_reason"] and INTERRUPTED in result["skip_reason"]
    record = json.loads(state.read_text())["accounts"][ACCOUNT]
    assert record["code"] == INTERRUPTED
    assert SECRET not in state.read_text()


async def test_ctrl_c_mid_authentication_ends_the_batch_cleanly_and_records_it(
    tmp_path: Path, server_tls: ssl.SSLContext, ca_file: Path, closed_port: int
) -> None:
    state = tmp_path / "auth-state.json"
    async with stalling_server(server_tls) as (imap, port):
        batch = batch_file(tmp_path, port, closed_port, ca_file, timeout=60)
        first = await conntest(
            "check", "--batch", str(batch), "--state-file", str(state), "--format", "nagios"
        )
        try:
            await asyncio.wait_for(imap.received.wait(), 60)
            first.send_signal(signal.SIGINT)
            # The run itself records the interrupted attempt as it stops...
            await asyncio.wait_for(until_recorded(state), 60)
        finally:
            imap.hang_up()  # ...and its IMAP worker, blocked on the socket, may now end.
            if first.returncode is None and not imap.received.is_set():
                first.kill()
            _, err = await asyncio.wait_for(first.communicate(), 60)
        assert first.returncode == 3
        assert err.decode().strip().splitlines()[-1] == "conntest: interrupted"
        assert b"Traceback" not in err

        result = await second_run(batch, state)
        assert imap.credentials == 1, "the next run authenticated again"
    assert result["authentication"] == "skipped" and INTERRUPTED in result["skip_reason"]


async def test_serve_stopped_mid_authentication_records_the_attempt(
    tmp_path: Path, server_tls: ssl.SSLContext, ca_file: Path, closed_port: int
) -> None:
    state = tmp_path / "auth-state.json"
    async with stalling_server(server_tls) as (imap, port):
        config = batch_file(tmp_path, port, closed_port, ca_file, timeout=60)
        serve = await conntest(
            "serve", "--listen", "127.0.0.1:0", "--config", str(config), "--state-file", str(state)
        )
        assert serve.stderr is not None
        scrape: asyncio.Task[bytes] | None = None
        try:
            line = (await asyncio.wait_for(serve.stderr.readline(), 30)).decode()
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            assert match, line
            scrape = asyncio.ensure_future(probe(int(match[1])))
            await asyncio.wait_for(imap.received.wait(), 60)
            serve.send_signal(signal.SIGTERM)
            # The interrupted attempt is recorded while serve shuts down...
            await asyncio.wait_for(until_recorded(state), 60)
        finally:
            imap.hang_up()  # ...and the IMAP worker blocked on its socket may now end.
            if serve.returncode is None:
                # serve does not wait for a blocked worker thread: it may be exiting already,
                # and a second SIGTERM during its shutdown would kill it.
                try:
                    await asyncio.wait_for(serve.wait(), 30)
                except TimeoutError:
                    serve.send_signal(signal.SIGTERM)
            await asyncio.wait_for(serve.communicate(), 60)
            if scrape is not None:
                scrape.cancel()
                with contextlib.suppress(BaseException):
                    await scrape
        assert serve.returncode == 0

        result = await second_run(config, state)
        assert imap.credentials == 1, "the next run authenticated again"
    assert result["authentication"] == "skipped"
    assert "while authenticating" in result["skip_reason"]


async def probe(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /probe?account={ACCOUNT} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    try:
        return await reader.read()
    finally:
        writer.close()


async def until_recorded(state: Path) -> None:
    while True:
        with contextlib.suppress(OSError, ValueError, KeyError):
            if json.loads(state.read_text())["accounts"][ACCOUNT].get("code") == INTERRUPTED:
                return
        await asyncio.sleep(0.05)
