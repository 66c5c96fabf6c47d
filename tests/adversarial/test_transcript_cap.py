"""A flood fills no report: at most 200 transcript lines are kept per step, the rest counted.

Two caps hold it, and each has a test that fails without it: the IMAP tap keeps
``LIMITS.kept_lines`` per step (the probe's own steps, before the engine sees
them), and the engine keeps ``MAX_TRANSCRIPT`` of whatever a probe hands it (a
valid SMTP answer of 2,000 lines never meets the IMAP tap).  They check the
figure (200), not the constants, so raising either cap out of reach fails them.
The CLI tier bounds the size of every output besides (``test_cli_hostile``).
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path

from conntest.model import Status
from conntest.probes.clock import RunClock
from conntest.probes.imap_probe import probe_imap
from conntest.probes.session import AuthGate, Credentials, Endpoint
from tests.adversarial.conftest import USER
from tests.adversarial.hostile import (
    IMAP_SCRIPTS,
    Conn,
    HostileServer,
    dns_server,
    smtp_script,
)
from tests.adversarial.test_hostile_scripts import PASSWORD, check, closed_port
from tests.conftest import make_profile

NOT_KEPT = re.compile(r"^… ([\d,]+) more lines not kept$")

# A valid EHLO answer of 2,000 lines (14 KB, inside aiosmtplib's 32 KiB): every line parses,
# so only the engine's cap stands between it and the report.
LONG_EHLO = b"250-hostile\r\n" + b"250-X-PAD\r\n" * 2000 + b"250 STARTTLS\r\n"


def not_kept(transcript: list[str]) -> int:
    """How many lines the step's last line says were not kept (0 without the marker)."""
    m = NOT_KEPT.match(transcript[-1]) if transcript else None
    return int(m[1].replace(",", "")) if m else 0


async def test_the_imap_tap_keeps_at_most_its_lines_of_a_flood(
    server_tls: ssl.SSLContext, hostile_ca_file: Path
) -> None:
    # The probe's steps as the tap made them: the engine's own cap is not involved.
    with HostileServer(IMAP_SCRIPTS["flood-capability"], server_tls) as server:
        steps = await probe_imap(
            RunClock(3.0),
            make_profile(),
            Endpoint("imap.contoso.test", server.port, "127.0.0.1"),
            Credentials(USER, PASSWORD),
            AuthGate("imap"),
            ca_file=hostile_ca_file,
        )
    capability = next(s for s in steps if s.name == "capability")
    assert capability.status is Status.FAIL and capability.data["limit"] == "lines"
    # The figures, not the constants: a cap raised out of reach must fail here.
    assert len(capability.transcript) <= 201, len(capability.transcript)
    # 10,000 lines came before the limit stopped reading; all but the kept ones are counted
    assert not_kept(capability.transcript) >= 10_000 - 200


async def test_the_report_keeps_at_most_200_lines_of_any_step(
    server_tls: ssl.SSLContext, hostile_ca_file: Path
) -> None:
    async def on_auth(conn: Conn, line: bytes) -> bool:
        return False

    with (
        HostileServer(smtp_script(server_tls, on_auth, ehlo=LONG_EHLO)) as smtp,
        closed_port() as imap,
        dns_server("silent") as dns,
    ):
        report = await check(imap, smtp.port, dns, hostile_ca_file, PASSWORD, profiles=1)
    ehlo = next(s for s in report.profiles[0].steps if s.protocol == "smtp" and s.name == "ehlo")
    assert ehlo.status is Status.PASS  # a long answer, but a valid one
    assert len(ehlo.transcript) <= 201, len(ehlo.transcript)
    assert not_kept(ehlo.transcript) >= 2000 + 3 - 200  # EHLO's C: line and 2,002 S: lines
