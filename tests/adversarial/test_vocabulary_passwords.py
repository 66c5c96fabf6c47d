"""A password that is one of conntest's own words: the output keeps its structure, the echo goes.

A short or common password (``login``, ``code``, ``smtp``) used to be blanked out
of conntest's own output: ``<redacted>-rejected`` in the Nagios headline, a JSON
key ``"<redacted>"``, ``protocol="<redacted>"`` in Prometheus.  Here the engine
runs in-process against servers that echo every byte they receive (real TLS on
loopback), with passwords equal to conntest's vocabulary, and every format is
produced the way the CLI produces it (the report redacted as data, rendered, the
text redacted again).  Each must parse and be exactly what the report renders
to without the safety net (so no code, step name, key, label or perfdata label
was touched), while the servers' echoes of the password are redacted in the
transcripts and replies the report carries.  Then the installed ``conntest``
against the lab, as the field tester ran it.
"""

from __future__ import annotations

import datetime
import json
import re
import ssl
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from conntest.batch.config import AccountEntry, PasswordSource
from conntest.batch.runner import evaluate
from conntest.engine import CheckRequest, run_check
from conntest.model import Report
from conntest.probes.dns_probe import ResolverConfig
from conntest.redact import REDACTED, Redactor
from conntest.render.markdown_report import render_markdown
from conntest.render.redacted_output import redact_output
from conntest.results import AccountResult
from conntest.tui.report_export import save_report
from tests.adversarial.conftest import CONNTEST, USER
from tests.adversarial.hostile import IMAP_SCRIPTS, HostileServer, dns_server
from tests.adversarial.test_redacted_output import (
    FORMAT_OF,
    RENDERERS,
    parses,
    smtp_echo_every_line,
)
from tests.conftest import make_profile

VOCABULARY_PASSWORDS = [
    "login",
    "code",
    "smtp",
    "imap",
    "auth",
    "tls",
    "dns",
    "status",
    "severity",
    "critical",
    "protocol",
    "name",
    "steps",
    "findings",
    "conntest",
]
PROFILE = make_profile("thunderbird")
FORMATS: dict[str, Callable[[AccountResult], str]] = {
    **RENDERERS,
    "markdown": lambda r: render_markdown(r.report, {}) if r.report else "",
}


def word(pw: str) -> re.Pattern[str]:
    """``pw`` standing as a word of its own (not inside ``IMAP4rev1`` or ``imap_auth``)."""
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(pw)}(?![A-Za-z0-9_])")


async def echoed_run(pw: str, server_tls: ssl.SSLContext, ca_file: Path) -> Report:
    with (
        HostileServer(IMAP_SCRIPTS["echo-no"], server_tls) as imap,
        HostileServer(smtp_echo_every_line(server_tls)) as smtp,  # type: ignore[arg-type]
        dns_server("silent") as dns,
    ):
        report = await run_check(
            CheckRequest(
                user=USER,
                password=pw,
                profiles=(PROFILE,),
                imap_server=("127.0.0.1", imap.port),
                smtp_server=("127.0.0.1", smtp.port),
                resolver=ResolverConfig(nameserver=("127.0.0.1", dns)),
                ca_file=ca_file,
                timeout=5.0,
            )
        )
        received = imap.received() + smtp.received()
    assert pw.encode() in received  # the servers got the password (and echoed it)
    return report


def echo_lines(report: Report) -> list[str]:
    texts: list[str] = []
    for step in report.profiles[0].steps:
        texts += step.transcript
        texts += [step.reply.text] if step.reply else []
        texts += [step.failure.message] if step.failure else []
    return [t for t in texts if "echo" in t]


@pytest.mark.parametrize("pw", VOCABULARY_PASSWORDS)
async def test_a_vocabulary_password_leaves_every_format_whole_and_its_echo_redacted(
    pw: str, server_tls: ssl.SSLContext, hostile_ca_file: Path, tmp_path: Path
) -> None:
    report = await echoed_run(pw, server_tls, hostile_ca_file)
    # The servers' echoes: the password is gone from them (redacted at the source).
    echoes = echo_lines(report)
    assert echoes, "the servers must have echoed what they received"
    assert all(REDACTED in line for line in echoes), echoes
    assert not any(word(pw).search(line.partition("echo")[2]) for line in echoes), echoes
    # conntest's own words in the report are intact.
    steps = report.profiles[0].steps
    assert {(s.protocol, s.name) for s in steps} >= {("imap", "login"), ("smtp", "auth")}
    assert all(REDACTED not in f.code for f in report.profiles[0].findings)

    redact = Redactor.for_credentials(USER, pw)
    entry = AccountEntry(USER, (PROFILE,), PasswordSource.given(pw))
    result: AccountResult = evaluate(entry, report)
    held = 0
    for name, render in FORMATS.items():
        fmt = FORMAT_OF.get(name, name)
        plain = render(result)
        held += pw in plain
        # What the CLI writes: the result redacted as data, rendered, the text redacted.
        out = redact_output(fmt, render(redact.value(result)), redact)
        parses(fmt, out)
        assert_own_words_intact(fmt, plain, out, report)
    # The TUI's saved report and clipboard text, against the same report saved unredacted.
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    saved = save_report(report, redact=redact, names={}, directory=tmp_path / "r", now=now)
    bare = save_report(report, redact=Redactor(), names={}, directory=tmp_path / "b", now=now)
    for kind in ("markdown_path", "json_path"):
        fmt = "json" if kind == "json_path" else "markdown"
        out, plain = (getattr(x, kind).read_text(encoding="utf-8") for x in (saved, bare))
        assert_own_words_intact(fmt, plain, out, report)
    assert_own_words_intact("markdown", bare.clipboard_text, saved.clipboard_text, report)
    assert held, f"{pw!r} must be one of the words this report is written in"


ENUMERATED = {"code", "severity", "status", "protocol", "name", "kind", "variant", "verdict"}
ENUMERATED |= {"step", "profile", "schema", "exit_code", "classname"}


def skeleton(value: object) -> object:
    """A JSON document's keys at every level and its enumerated values, the rest blanked."""
    if isinstance(value, dict):
        return {k: v if k in ENUMERATED else skeleton(v) for k, v in value.items()}
    if isinstance(value, list):
        return [skeleton(v) for v in value]
    return type(value).__name__


def assert_own_words_intact(fmt: str, plain: str, out: str, report: Report) -> None:
    """``out`` keeps every structural word of ``plain`` (the report rendered with no net)."""
    if fmt in {"nagios", "prometheus"}:
        # Headline, perfdata labels, metric and label names and values: all conntest's.
        assert out == plain, (fmt, out)
    elif fmt in {"json", "jsonl"}:
        lines = plain.splitlines() if fmt == "jsonl" else [plain]
        outs = out.splitlines() if fmt == "jsonl" else [out]
        assert [skeleton(json.loads(o)) for o in outs] == [skeleton(json.loads(p)) for p in lines]
    elif fmt == "junit":
        decl = '<?xml version="1.0" encoding="UTF-8"?>\n'
        mine = ET.fromstring(out.removeprefix(decl)).iter()
        theirs = ET.fromstring(plain.removeprefix(decl)).iter()
        for a, b in zip(mine, theirs, strict=True):
            assert (a.tag, sorted(a.attrib)) == (b.tag, sorted(b.attrib))
            assert {k: a.attrib[k] for k in a.attrib if k in ENUMERATED} == {
                k: b.attrib[k] for k in b.attrib if k in ENUMERATED
            }
    else:
        # Text and Markdown: a line changes only where it shows a server's certificate
        # names (its words, not conntest's); codes and step names are all still there.
        for line, was in zip(out.splitlines(), plain.splitlines(), strict=True):
            assert line == was or "contoso.test" in was, (fmt, line, was)
        for finding in report.profiles[0].findings:
            assert out.count(finding.code) == plain.count(finding.code), finding.code
        for step in report.profiles[0].steps:
            label = f"{step.protocol} {step.name}"
            assert out.count(step.name) == plain.count(step.name), label


# --------------------------------------------------------------------------------------
# The installed conntest against the lab, as the field tester ran it
# --------------------------------------------------------------------------------------


def lab_check(pw: str, fmt: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["--lab", "wrong-password", "--user", "you@contoso.com", "--password-stdin"]
    return subprocess.run(
        [str(CONNTEST), "check", *args, "--profile", "thunderbird", "--format", fmt, *extra],
        input=pw + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={"XDG_STATE_HOME": str(tmp / "state"), "NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_installed_conntest_keeps_nagios_and_json_whole_for_the_password_login(
    tmp_path: Path,
) -> None:
    nagios = lab_check("login", "nagios", tmp_path)
    assert nagios.returncode == 2, nagios.stdout + nagios.stderr
    headline, _, perfdata = nagios.stdout.splitlines()[0].partition(" | ")
    assert headline.startswith("CONNTEST CRITICAL - you@contoso.com: wrong-credentials")
    labels = [item.partition("=")[0] for item in perfdata.split()]
    assert {"imap_auth", "smtp_auth", "total"} <= set(labels), labels
    assert REDACTED not in nagios.stdout

    report_file = tmp_path / "report.json"
    run = lab_check("login", "json", tmp_path, "--output", str(report_file))
    assert run.returncode == 2, run.stderr
    doc = json.loads(report_file.read_text(encoding="utf-8"))
    (profile,) = doc["profiles"]
    assert "wrong-credentials" in {f["code"] for f in profile["findings"]}
    assert {("imap", "login"), ("smtp", "auth")} <= {
        (s["protocol"], s["name"]) for s in profile["steps"]
    }
    # What conntest sent was redacted where it was recorded: the LOGIN line's password.
    sent = [line for s in profile["steps"] for line in s["transcript"] if line.startswith("C: ")]
    assert sent and not any(word("login").search(line) for line in sent), sent


@pytest.mark.parametrize(
    ("pw", "fmt", "expected"),
    [
        ("wrong", "text", "the user name or password is wrong"),
        ("code", "json", '"code": "wrong-credentials"'),
        ("smtp", "prometheus", 'protocol="smtp"'),
        ("wrong", "junit", 'type="wrong-credentials"'),
        ("auth", "nagios", " smtp_auth="),
    ],
)
def test_installed_conntest_keeps_its_own_words_for_a_vocabulary_password(
    pw: str, fmt: str, expected: str, tmp_path: Path
) -> None:
    run = lab_check(pw, fmt, tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert expected in run.stdout, run.stdout
    if fmt != "json":  # the JSON transcript shows the LOGIN line, its password redacted
        assert REDACTED not in run.stdout
    parses(fmt, run.stdout)
