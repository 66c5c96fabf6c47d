"""The last line of defence: every output format passes the run's redactor, syntax intact.

The engine redacts every step before anything is rendered; here the report
itself holds the password (in a finding's words, a reply, a transcript line,
a result's error: as if some rule had quoted a form the engine did not know),
and each format must still come out without it in any spelling (raw, quoted,
repr, JSON-escaped, XML-escaped, Prometheus-escaped, cut across a wrapped
line) and still parse: a JSON document, JSON Lines, JUnit XML, a Prometheus
exposition.  The password has ``"``, ``\\``, ``&``, ``<``, spaces and
non-ASCII letters.  Then the installed ``conntest`` against servers that echo
every byte they receive, in every format and in a ``--output`` file.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conntest.batch.config import AccountEntry, PasswordSource
from conntest.batch.runner import BatchResult, evaluate
from conntest.model import (
    Failure,
    FailureKind,
    Finding,
    ProfileResult,
    Reply,
    Report,
    Severity,
    Status,
    Step,
)
from conntest.redact import Redactor
from conntest.render.json_report import render_json
from conntest.render.jsonl import render_batch_json, render_jsonl_line
from conntest.render.junit import render_junit
from conntest.render.nagios import render_nagios
from conntest.render.prometheus import render_prometheus
from conntest.render.redacted_output import redact_output
from conntest.render.text_report import render_text
from conntest.results import AccountResult
from tests.adversarial.conftest import USER, leaked_forms, run_cli
from tests.adversarial.hostile import IMAP_SCRIPTS, Conn, HostileServer, dns_server, smtp_script
from tests.conftest import make_profile

PASSWORDS = ['Ab"c\\d é€ <&x> ß', "pa ss wo rd with many words in it", "x'y\"z\\\\w&amp;"]


def spellings(password: str) -> list[str]:
    """Every form a reader could turn back into the password (the tier's list, and escapes)."""
    forms = {
        html.escape(password),
        html.escape(password, quote=False),
        password.replace("\\", "\\\\").replace('"', '\\"'),
    }
    found = [f for f in forms if len(f) >= 3]
    return found


def leaks(password: str, text: str) -> list[str]:
    # The cut-short base64 of AUTH PLAIN's blob starts with the user name's: that part
    # is the (public) address, which AUTH LOGIN sends as its own line and a server echoes.
    user = base64.b64encode(USER.encode()).decode()
    found = [f for f in leaked_forms(password, text) if f not in user]
    return found + [f for f in spellings(password) if f in text]


def secret_result(password: str) -> AccountResult:
    """An account whose report holds ``password`` everywhere a server's words can end up."""
    said = f"NO [ALERT] you sent {password!r} / {json.dumps(password)} / {password}"
    steps = [
        Step(
            "imap",
            "login",
            Status.FAIL,
            0,
            40.0,
            reply=Reply("NO", said),
            failure=Failure(FailureKind.REJECTED, said),
            transcript=[f"S: {said}", f"C: {password}"],
            data={"echo": password},
        )
    ]
    findings = [
        Finding(
            "login-rejected",
            Severity.CRITICAL,
            f"refused {password}",
            f"The server answered {said!r}. " * 3,
            f"Re-enter {password}",
            f"imap login: {said}",
            None,
            "imap",
        ),
        Finding(f"code-{password}", Severity.WARNING, "t", "d", "r", "e", None, "imap"),
    ]
    entry = AccountEntry(USER, (make_profile("thunderbird"),), PasswordSource.given(password))
    report = Report(USER, 1500.0, [ProfileResult("thunderbird", steps, findings)])
    return evaluate(entry, report)


def batch_of(result: AccountResult) -> BatchResult:
    return BatchResult(results=[result], elapsed_ms=1500.0, started=1_700_000_000.0)


RENDERERS: dict[str, Callable[[AccountResult], str]] = {
    "text": lambda r: render_text(r.report, verbose=True) if r.report else "",
    "json": lambda r: render_json(r.report) + "\n" if r.report else "",
    "jsonl": lambda r: render_jsonl_line(r) + "\n",
    "batch-json": lambda r: render_batch_json(batch_of(r)) + "\n",
    "nagios": lambda r: render_nagios(batch_of(r), single=True),
    "prometheus": lambda r: render_prometheus(batch_of(r)),
    "junit": lambda r: render_junit(batch_of(r)),
}
FORMAT_OF = {"batch-json": "json"}


def parses(fmt: str, text: str) -> None:
    if fmt == "json":
        json.loads(text)
    elif fmt == "jsonl":
        for line in text.splitlines():
            json.loads(line)
    elif fmt == "junit":
        ET.fromstring(text.removeprefix('<?xml version="1.0" encoding="UTF-8"?>\n'))
    elif fmt == "prometheus":
        list(text_string_to_metric_families(text))


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_every_format_comes_out_without_the_secret_and_still_parses(
    name: str, password: str
) -> None:
    fmt = FORMAT_OF.get(name, name)
    redact = Redactor.for_credentials(USER, password)
    result = secret_result(password)
    assert leaks(password, RENDERERS[name](result)), "the test's report must hold the secret"
    # What the CLI does: the result redacted before rendering, the text after it.
    safe = dataclass_redacted(redact, result)
    text = redact_output(fmt, RENDERERS[name](safe), redact)
    assert not leaks(password, text), (name, leaks(password, text))
    assert "redacted" in text
    parses(fmt, text)


def dataclass_redacted(redact: Redactor, result: AccountResult) -> AccountResult:
    clean = redact.value(result)
    assert clean is not result and result.report is not None
    assert clean.report is not None and clean.report is not result.report
    return clean


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("name", ["json", "jsonl", "batch-json", "prometheus", "junit"])
def test_the_last_pass_alone_finds_escaped_secrets_without_breaking_the_syntax(
    name: str, password: str
) -> None:
    """Even with nothing redacted before rendering, escaping does not hide the secret."""
    fmt = FORMAT_OF.get(name, name)
    redact = Redactor.for_credentials(USER, password)
    text = redact_output(fmt, RENDERERS[name](secret_result(password)), redact)
    assert not leaks(password, text), (name, leaks(password, text))
    parses(fmt, text)


def test_a_text_without_a_secret_is_returned_as_it_was() -> None:
    redact = Redactor.for_credentials(USER, "correcthorsebatt")
    result = secret_result("unrelated password")
    for name, render in RENDERERS.items():
        text = render(result)
        assert redact_output(FORMAT_OF.get(name, name), text, redact) == text, name
    assert redact.value(result) is result


# --------------------------------------------------------------------------------------
# The installed conntest against servers that echo every byte they receive
# --------------------------------------------------------------------------------------


def _decoded(line: bytes) -> bytes:
    out = []
    for part in line.split():
        with contextlib.suppress(ValueError):
            out.append(base64.b64decode(part + b"=" * (-len(part) % 4), validate=True))
    return b" ".join(out)


def smtp_echo_every_line(tls: ssl.SSLContext) -> Callable[[Conn], object]:
    """AUTH answered line by line; the refusal echoes every line, raw and base64-decoded."""

    async def on_auth(conn: Conn, line: bytes) -> bool:
        got = [line]
        if line.upper().startswith(b"AUTH LOGIN"):
            for prompt in (b"334 VXNlcm5hbWU6\r\n", b"334 UGFzc3dvcmQ6\r\n"):
                await conn.send(prompt)
                got.append(await conn.line())
        said = b" ".join(g.strip() + b" " + _decoded(g) for g in got)
        said = said.replace(b"\r", b" ").replace(b"\n", b" ").replace(b"\0", b" ")
        await conn.send(b"535-echo " + said + b"\r\n535 5.7.8 echo " + said + b"\r\n")
        return True

    return smtp_script(tls, on_auth)


FORMATS = ["text", "json", "jsonl", "nagios", "prometheus", "junit"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_installed_conntest_against_echoing_servers_in_every_format(
    fmt: str, server_tls: ssl.SSLContext, hostile_ca_file: Path, tmp_path: Path
) -> None:
    password = PASSWORDS[0]
    report_file = tmp_path / "report.out"
    with (
        HostileServer(IMAP_SCRIPTS["echo-garbage"], server_tls) as imap,
        HostileServer(smtp_echo_every_line(server_tls)) as smtp,  # type: ignore[arg-type]
        dns_server("silent") as dns,
    ):
        base = [
            "--imap",
            f"127.0.0.1:{imap.port}",
            "--smtp",
            f"127.0.0.1:{smtp.port}",
            "--ca-file",
            str(hostile_ca_file),
            "--nameserver",
            f"127.0.0.1:{dns}",
            "--profile",
            "thunderbird",
            "--timeout",
            "5",
            "--format",
            fmt,
            *(["--verbose"] if fmt == "text" else []),
        ]
        run = run_cli(base, password, tmp_path / "stdout-run")
        to_file = run_cli([*base, "--output", str(report_file)], password, tmp_path / "file-run")
        received = imap.received() + smtp.received()
    assert run.code in {1, 2}, run.output
    assert "Traceback" not in run.output
    # The servers did get the credential and echoed it back.
    assert base64.b64encode(password.encode()) in received or b"AUTHENTICATE" in received
    for what, text in (
        ("stdout", run.stdout),
        ("stderr", run.stderr),
        ("--output", report_file.read_text(encoding="utf-8")),
        ("stderr with --output", to_file.stderr),
    ):
        assert not leaks(password, text), (what, leaks(password, text))
    parses(fmt, run.stdout)
    parses(fmt, report_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("password", [*PASSWORDS, "pipe|and`tick  two  spaces"])
def test_the_screens_saved_report_and_clipboard_hold_no_secret(
    password: str, tmp_path: Path
) -> None:
    """The TUI's Markdown escapes pipes, drops backticks and collapses spaces in table cells:
    the report is redacted before that, so no altered spelling of the password survives."""
    from conntest.tui.report_export import save_report

    result = secret_result(password)
    assert result.report is not None
    saved = save_report(
        result.report,
        redact=Redactor.for_credentials(USER, password),
        names={"thunderbird": "Thunderbird"},
        directory=tmp_path,
    )
    cell = " ".join(password.split()).replace("|", "\\|")
    for what, text in (
        ("markdown", saved.markdown_path.read_text(encoding="utf-8")),
        ("json", saved.json_path.read_text(encoding="utf-8")),
        ("clipboard", saved.clipboard_text),
    ):
        assert not leaks(password, text), (what, leaks(password, text))
        assert cell not in text and password.replace("`", "'") not in text, what
    json.loads(saved.json_path.read_text(encoding="utf-8"))
