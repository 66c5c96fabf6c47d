"""conntest as a user runs it, against hostile servers: every output format, bounded, no leak.

Each case starts a hostile IMAP server (implicit TLS) and a hostile SMTP
server (STARTTLS) on loopback, then runs the installed ``conntest check``
with ``--imap``/``--smtp``/``--ca-file``/``--nameserver`` and one output
format, for every shipped profile.  It asserts what a user would notice:
an exit code of 0–3, no traceback, a finished run within ``--timeout`` + 1 s
(plus the interpreter's start), under 150 MiB, the credential received at
most once per protocol, no form of the password in stdout or stderr, and an output
of bounded size (a flood's lines are counted, not kept).

The property test (hypothesis) varies the password — quotes, backslashes,
spaces, non-ASCII — against servers that echo every byte they receive, and
checks every view of the report in-process, including the TUI's.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adversarial.conftest import (
    CliRun,
    credentials_received,
    leaked_forms,
    run_cli,
)
from tests.adversarial.hostile import (
    IMAP_SCRIPTS,
    SLOW_IMAP_SCRIPTS,
    SLOW_SMTP_SCRIPTS,
    SMTP_SCRIPTS,
    HostileServer,
    dns_server,
)
from tests.adversarial.test_hostile_scripts import check, everything_shown

PASSWORD = 'Qx "quoted\\ pass{1}" Zy'
TIMEOUT = 3.0
STARTUP = 10.0
"""Allowance for starting the interpreter and importing conntest on a loaded machine (the
deadline itself is checked on the engine's clock, in the JSON report's ``elapsed_ms``)."""
MEMORY_MIB = 150
OUTPUT_BYTES = 256 * 1024

FORMATS = {
    "text": ["--format", "text", "--verbose"],
    "json": ["--format", "json"],
    "jsonl": ["--format", "jsonl"],
    "nagios": ["--format", "nagios"],
    "prometheus": ["--format", "prometheus"],
    "junit": ["--format", "junit"],
}

# (IMAP script, SMTP script, output format): every script and every format at least once.
CASES = [
    ("echo-no", "echo", "text"),
    ("echo-bye", "echo", "json"),
    ("echo-garbage", "echo", "jsonl"),
    ("echo-literal", "echo", "nagios"),
    ("echo-url", "echo", "text"),
    ("flood-capability", "flood", "prometheus"),
    ("flood-after-login", "continuations-forever", "text"),
    ("huge-literal", "invalid-utf8", "json"),
    ("endless-line", "reset-greeting", "nagios"),
    ("continuations-forever", "close-notify-mid-command", "json"),
    ("invalid-utf8-greeting", "reset-auth", "junit"),
    # answers only the deadline ends, on both protocols at once (the engine-level test
    # plays the other pairing): elapsed_ms holds the run to --timeout + 1 s
    ("drip-untagged", "slow-byte", "json"),
]
ALL_IMAP = {**IMAP_SCRIPTS, **SLOW_IMAP_SCRIPTS}
ALL_SMTP = {**SMTP_SCRIPTS, **SLOW_SMTP_SCRIPTS}


def run_against(
    imap_script: str,
    smtp_script: str,
    fmt: str,
    tls: ssl.SSLContext,
    ca_file: Path,
    tmp: Path,
) -> tuple[CliRun, bytes, bytes]:
    with (
        HostileServer(ALL_IMAP[imap_script], tls) as imap,
        HostileServer(ALL_SMTP[smtp_script](tls)) as smtp,
        dns_server("silent") as dns,
    ):
        run = run_cli(
            [
                "--imap",
                f"127.0.0.1:{imap.port}",
                "--smtp",
                f"127.0.0.1:{smtp.port}",
                "--ca-file",
                str(ca_file),
                "--nameserver",
                f"127.0.0.1:{dns}",
                "--timeout",
                str(TIMEOUT),
                *FORMATS[fmt],
            ],
            PASSWORD,
            tmp,
            limit=TIMEOUT + 30,
        )
        return run, imap.received(), smtp.received()


@pytest.mark.parametrize(("imap_script", "smtp_script", "fmt"), CASES)
def test_cli_against_hostile_servers(
    imap_script: str,
    smtp_script: str,
    fmt: str,
    server_tls: ssl.SSLContext,
    hostile_ca_file: Path,
    tmp_path: Path,
) -> None:
    run, imap_received, smtp_received = run_against(
        imap_script, smtp_script, fmt, server_tls, hostile_ca_file, tmp_path
    )
    assert run.code in {0, 1, 2, 3}, run.output
    assert "Traceback" not in run.output, run.stderr
    assert "internal error" not in run.output, run.output
    assert run.stdout.strip(), run.stderr
    assert run.seconds < TIMEOUT + 1.0 + STARTUP, run.seconds
    assert run.peak_mib < MEMORY_MIB, run.peak_mib
    assert credentials_received(PASSWORD, imap_received) <= 1
    assert credentials_received(PASSWORD, smtp_received) <= 1
    assert not leaked_forms(PASSWORD, run.output), leaked_forms(PASSWORD, run.output)
    # A flood fills no report: 200 lines kept per step (about 90 KB of JSON for a flood
    # on every profile; every line of one would be megabytes).
    assert len(run.stdout) < OUTPUT_BYTES, len(run.stdout)
    if "flood" in imap_script and fmt in {"json", "text"}:
        assert "more lines not kept" in run.stdout
    if fmt == "json":
        report = json.loads(run.stdout)
        # The run itself (the engine's clock) ends by the deadline plus one second.
        assert report["elapsed_ms"] < (TIMEOUT + 1.0) * 1000, report["elapsed_ms"]
        codes = {f["code"] for p in report["profiles"] for f in p["findings"]}
        assert "internal-error" not in codes, codes


passwords = st.text(
    alphabet=st.sampled_from(list("aZ9 \"'\\{}%*()é€ß")),
    min_size=8,
    max_size=24,
).filter(lambda p: p.strip() == p and len(set(p)) > 3)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    password=passwords,
    imap_echo=st.sampled_from([n for n in sorted(IMAP_SCRIPTS) if n.startswith("echo-")]),
)
def test_no_password_form_survives_an_echoing_server(
    password: str,
    imap_echo: str,
    server_tls: ssl.SSLContext,
    hostile_ca_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    assert imap_echo.startswith("echo-")
    with (
        HostileServer(IMAP_SCRIPTS[imap_echo], server_tls) as imap,
        HostileServer(SMTP_SCRIPTS["echo"](server_tls)) as smtp,
        dns_server("silent") as dns,
    ):
        report = asyncio.run(check(imap.port, smtp.port, dns, hostile_ca_file, password))
        received = {"imap": imap.received(), "smtp": smtp.received()}
    for protocol, data in received.items():
        assert credentials_received(password, data) <= 1, protocol
    # The echo reached conntest: the server did see the credential on at least one side.
    assert sum(credentials_received(password, d) for d in received.values()) >= 1
    for where, text in everything_shown(report, tmp_path_factory.mktemp("shown")).items():
        assert not leaked_forms(password, text), (where, leaked_forms(password, text))
