"""Peak memory and wall time of a check against a 100 MB flood and a 100 MB literal.

Prints figures; asserts nothing.  Run: ``.venv/bin/python benchmarks/flood_benchmark.py``.

A hostile IMAP server (implicit TLS, loopback) answers CAPABILITY with
100 MB of untagged lines, or announces a 100 MB literal and starts sending
it; the installed ``conntest check`` runs against it as a subprocess with
``--timeout 10`` (one profile, connectivity only, so no credential is at
stake) and its peak RSS comes from ``os.wait4``.  The probe's read limits
(``conntest.probes.imap_wire.LIMITS``) should end both runs long before
the server is done, at a few MiB read and well under the deadline.
"""

from __future__ import annotations

import argparse
import os
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trustme

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json

from tests.adversarial.hostile import Conn, HostileServer, dns_server, imap_session

TOTAL = 100 * 1024 * 1024
CONNTEST = Path(sys.executable).with_name("conntest")


async def untagged_flood(conn: Conn) -> None:
    async def caps(conn: Conn, tag: bytes) -> None:
        line = b"* OK " + b"f" * 90 + b"\r\n"
        chunk = line * (65536 // len(line))
        for _ in range(TOTAL // len(chunk)):
            await conn.send(chunk)

    await imap_session(conn, caps=caps)


async def huge_literal(conn: Conn) -> None:
    async def caps(conn: Conn, tag: bytes) -> None:
        await conn.send(b"* CAPABILITY {%d}\r\n" % TOTAL)
        chunk = b"x" * 65536
        for _ in range(TOTAL // len(chunk)):
            await conn.send(chunk)

    await imap_session(conn, caps=caps)


def measure(script: object, ctx: ssl.SSLContext, ca_file: Path) -> tuple[float, float, int, str]:
    # A DNS server on loopback that never answers: the user's domain is never looked up outside.
    with HostileServer(script, ctx) as server, dns_server("silent") as dns:  # type: ignore[arg-type]
        start = time.monotonic()
        proc = subprocess.Popen(
            [
                str(CONNTEST),
                "check",
                "--user",
                "alice@contoso.test",
                "--no-password",
                "--profile",
                "thunderbird",
                "--imap",
                f"127.0.0.1:{server.port}",
                "--smtp",
                "127.0.0.1:9",
                "--nameserver",
                f"127.0.0.1:{dns}",
                "--ca-file",
                str(ca_file),
                "--timeout",
                "10",
                "--format",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
    steps = json.loads(out)["profiles"][0]["steps"]
    failed = next(s for s in steps if s["protocol"] == "imap" and s["status"] == "fail")
    failure = f"imap {failed['name']}: {failed['failure']['message']}"
    return seconds, usage.ru_maxrss / 1024, proc.returncode, failure


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0],
        epilog="Runs two checks of about 2 s each against a hostile server on loopback.",
    )
    parser.parse_args(argv)  # no options: --help describes it and runs nothing
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    with tempfile.TemporaryDirectory() as tmp:
        ca_file = Path(tmp) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        for name, script in (
            ("100 MB untagged flood", untagged_flood),
            ("100 MB literal", huge_literal),
        ):
            seconds, mib, code, failure = measure(script, ctx, ca_file)
            print(f"{name:<24} wall {seconds:5.2f} s  peak RSS {mib:6.1f} MiB  exit {code}")
            print(f"{'':<24} {failure}")


if __name__ == "__main__":
    main()
