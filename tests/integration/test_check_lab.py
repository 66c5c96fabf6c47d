"""``conntest check --lab SCENARIO`` end to end: real sockets, real TLS, the lab's recorded replies.

For every scenario and every shipped profile, the primary finding must be the
expected code, its remedy must speak of that client's own settings, and the
password (in any encoding) must appear nowhere in what conntest printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conntest.cli import main
from conntest.profiles import load_profiles
from tests.conftest import EXPECTED_PRIMARY as EXPECTED
from tests.conftest import SECRET_FORMS, assert_no_secret

LAB_PASSWORD = "correcthorsebatt"
PROFILES = ["outlook-2016", "ios-mail", "thunderbird"]

EXIT = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


def run_check(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    password: str = LAB_PASSWORD,
) -> tuple[int, dict[str, Any], str]:
    monkeypatch.setenv("CONNTEST_TEST_PASSWORD", password)
    code = main(["check", "--password-env", "CONNTEST_TEST_PASSWORD", "--format", "json", *args])
    out, err = capsys.readouterr()
    assert out, err
    return code, json.loads(out), err


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_scenario_gives_expected_primary_code(
    scenario: str, profile: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, doc, err = run_check(
        capsys,
        monkeypatch,
        "--lab",
        scenario,
        "--profile",
        profile,
        "--user",
        "alice@contoso.com",
        "--timeout",
        "3",  # silence and filtering wait it out; 3 s leaves each step its share
    )
    assert err == ""
    assert doc["schema"] == 1
    [result] = doc["profiles"]
    primary = result["findings"][0]
    assert primary["code"] == EXPECTED[scenario], json.dumps(result["findings"], indent=1)
    assert code == EXIT[doc["verdict"]]
    if EXPECTED[scenario] != "ok":
        assert doc["verdict"] in {"critical", "warning"}
        client = load_profiles().get(profile)
        own = [
            client.name,
            client.imap.settings_path,
            client.smtp.settings_path,
            client.password_path,
            client.oauth2.how,
        ]
        assert any(s and s in primary["remedy"] for s in own), primary["remedy"]
        assert primary["evidence"]
    steps = {(s["protocol"], s["name"]): s for s in result["steps"]}
    assert {("imap", "connect"), ("smtp", "connect")} <= set(steps) or scenario == "dns-nxdomain"


def test_ok_scenario_steps_and_timings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, doc, _ = run_check(
        capsys, monkeypatch, "--lab", "ok", "--profile", "thunderbird", "--user", "bob@contoso.com"
    )
    assert code == 0 and doc["verdict"] == "ok"
    steps = {(s["protocol"], s["name"]): s for s in doc["profiles"][0]["steps"]}
    for key in [
        ("dns", "resolve"),
        ("imap", "connect"),
        ("imap", "tls"),
        ("imap", "greeting"),
        ("imap", "capability"),
        ("imap", "login"),
        ("imap", "mailbox"),
        ("imap", "logout"),
        ("smtp", "connect"),
        ("smtp", "greeting"),
        ("smtp", "ehlo"),
        ("smtp", "starttls"),
        ("smtp", "tls"),
        ("smtp", "ehlo-tls"),
        ("smtp", "auth"),
        ("smtp", "quit"),
    ]:
        assert steps[key]["status"] == "pass", key
        assert steps[key]["elapsed_ms"] >= 0
    assert steps[("imap", "greeting")]["reply"]["text"].startswith(
        "OK The Microsoft Exchange IMAP4 service is ready."
    )
    assert steps[("imap", "tls")]["tls"]["version"] == "TLSv1.2"
    assert steps[("imap", "tls")]["tls"]["verified"] is True
    assert "AUTH" in steps[("smtp", "ehlo-tls")]["data"]["capabilities"]
    assert steps[("smtp", "auth")]["reply"]["code"] == "235"
    # Thunderbird: AUTHENTICATE PLAIN, ID after login
    assert steps[("imap", "login")]["data"]["mechanism"].startswith("authenticate-plain")
    assert any("AUTHENTICATE PLAIN" in line for line in steps[("imap", "login")]["transcript"])


def _run_with_lab(scenario: str, password: str, profiles: list[str], **extra: Any) -> Any:
    import asyncio

    from conntest.engine import CheckRequest, run_check
    from conntest.lab import Lab
    from conntest.probes.dns_probe import ResolverConfig

    async def go() -> Any:
        async with Lab(default_scenario=scenario) as lab:
            ends = lab.endpoints(scenario)
            loaded = load_profiles()
            report = await run_check(
                CheckRequest(
                    user="henry@contoso.com",
                    password=password,
                    profiles=[loaded.get(p) for p in profiles],
                    imap_server=ends.imap,
                    smtp_server=ends.smtp,
                    resolver=ResolverConfig(nameserver=ends.nameserver),
                    ca_file=lab.ca_file,
                    expected_networks=ends.expected_networks,
                    timeout=10,
                    **extra,
                )
            )
            return report, lab.record

    return asyncio.run(go())


def test_all_profiles_authenticate_once_per_protocol() -> None:
    """The lab's record: three profiles, one run, one AUTH per protocol."""
    report, record = _run_with_lab("wrong-password", "abcdefghijklmnop", list(PROFILES))
    assert record.auth_attempts(protocol="imap") == 1
    assert record.auth_attempts(protocol="smtp") == 1
    assert len(report.profiles) == 3
    assert [p.findings[0].code for p in report.profiles] == ["wrong-credentials"] * 3


@pytest.mark.parametrize("scenario", ["tls-intercepted", "tls-expired", "starttls-stripped"])
def test_no_credentials_when_tls_is_not_trustworthy(scenario: str) -> None:
    report, record = _run_with_lab(scenario, LAB_PASSWORD, list(PROFILES))
    smtp_auth = record.auth_attempts(protocol="smtp")
    assert smtp_auth == 0
    if scenario != "starttls-stripped":
        assert record.auth_attempts(protocol="imap") == 0
    else:  # STARTTLS was never sent: the EHLO reply did not list it, nothing refused it
        [missing] = [f for f in report.profiles[0].findings if f.code == "starttls-missing"]
        assert "EHLO reply does not list STARTTLS" in missing.detail, missing.detail
        assert "refused" not in missing.detail


def test_a_wrong_password_on_a_working_connection_is_not_cannot_connect(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The headline names the cause (the first finding), not a connection failure."""
    monkeypatch.setenv("PW", LAB_PASSWORD)
    args = ["--lab", "wrong-password", "--profile", "thunderbird", "--user", "w@contoso.com"]
    code = main(["check", *args, "--password-env", "PW"])
    first = capsys.readouterr().out.splitlines()[0]
    assert code == 2
    assert first.startswith("CRITICAL: Microsoft says the user name or password is wrong"), first
    assert "(wrong-credentials;" in first and "connect" not in first


def test_text_output_leads_with_verdict_and_remedy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PW", LAB_PASSWORD)
    code = main(
        [
            "check",
            "--lab",
            "smtp-auth-disabled-mailbox",
            "--profile",
            "thunderbird",
            "--user",
            "erin@contoso.com",
            "--password-env",
            "PW",
        ]
    )
    out = capsys.readouterr().out
    assert code == 2
    lines = out.splitlines()
    assert lines[0].startswith("CRITICAL: Sending is switched off"), lines[0]
    assert "(smtp-auth-disabled; erin@contoso.com, 1 profile(s)," in lines[0]
    assert "smtp-auth-disabled" in out.split("Steps:")[0]
    assert "What to do:" in out
    assert out.index("What to do:") < out.index("Steps:")


def test_secret_never_printed_in_any_format(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import SECRET

    for scenario in ("wrong-password", "ok", "imap-disabled-mailbox"):
        for fmt in ("json", "text"):
            monkeypatch.setenv("PW", SECRET)
            main(
                [
                    "check",
                    "--lab",
                    scenario,
                    "--user",
                    "frank@contoso.com",
                    "--password-env",
                    "PW",
                    "--format",
                    fmt,
                    "--verbose",
                ]
            )
            out, err = capsys.readouterr()
            assert_no_secret(out + err)


def test_cli_subprocess_exit_codes_and_stdin_password() -> None:
    """The real console entry point, as a user or Nagios runs it."""
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "conntest",
            "check",
            "--lab",
            "ok",
            "--user",
            "g@contoso.com",
            "--password-stdin",
        ],
        input=LAB_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK")
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "conntest",
            "check",
            "--lab",
            "no-such-scenario",
            "--user",
            "g@c.com",
            "--password-stdin",
        ],
        input="x\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 3
    assert bad.stderr.count("\n") == 1 and "no-such-scenario" in bad.stderr
    nopw = subprocess.run(
        [sys.executable, "-m", "conntest", "check", "--lab", "ok", "--user", "g@c.com"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert nopw.returncode == 3 and "no password" in nopw.stderr
    assert all(form not in ok.stdout + bad.stderr for form in SECRET_FORMS)


def test_non_ascii_password_is_not_sent_by_imap_login_nor_quoted() -> None:
    """imaplib cannot send it; its error text would have quoted a character of it."""
    from conntest.render.json_report import render_json

    report, record = _run_with_lab("wrong-password", "pässwörd-Secret", ["outlook-2016"])
    out = render_json(report)
    assert "ä" not in out and "\\u00e4" not in out and "xe4" not in out
    assert record.auth_attempts(protocol="imap") == 0
    login = next(s for s in report.profiles[0].steps if s.name == "login")
    assert login.failure is not None and "non-ASCII" in login.failure.message


def test_stripped_retry_is_not_made_when_it_would_resend_the_same_password() -> None:
    """Inner spaces of a long password are kept by the retry: resending it would burn an attempt."""
    report, record = _run_with_lab(
        "wrong-password", "correct horse battery", ["thunderbird"], try_stripped=True
    )
    assert record.auth_attempts(protocol="smtp") == 1
    assert not any(s.name.endswith("-stripped") for s in report.profiles[0].steps)


def test_stripped_retry_is_one_more_attempt_and_confirms_the_cause() -> None:
    report, record = _run_with_lab(
        "ok", " " + LAB_PASSWORD + "\u200b", ["thunderbird"], try_stripped=True
    )
    assert record.auth_attempts(protocol="smtp") == 2  # the refused one and the consented one
    assert record.auth_attempts(protocol="imap") == 1
    primary = report.profiles[0].findings[0]
    assert primary.code == "password-whitespace"
    assert primary.title.startswith("Confirmed")


def _modes_profile(tmp_path: Any, imap: tuple[int, str], smtp: tuple[int, str]) -> Any:
    """Thunderbird's profile with other ports and security modes, as a profile file."""
    from conntest.profiles import builtin_dir

    source = builtin_dir().joinpath("thunderbird.yaml").read_text(encoding="utf-8")
    text = source.replace("id: thunderbird", "id: tb-modes")
    text = text.replace("  port: 993\n  security: tls", f"  port: {imap[0]}\n  security: {imap[1]}")
    text = text.replace(
        "  port: 587\n  security: starttls", f"  port: {smtp[0]}\n  security: {smtp[1]}"
    )
    path = tmp_path / "tb-modes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _run_modes(path: Any, *, imap_starttls: bool) -> Any:
    import asyncio

    from conntest.engine import CheckRequest, run_check
    from conntest.lab import Lab
    from conntest.probes.dns_probe import ResolverConfig

    async def go() -> Any:
        async with Lab() as lab:
            ends = lab.endpoints("ok")
            profile = load_profiles([path]).get("tb-modes")
            report = await run_check(
                CheckRequest(
                    user="ida@contoso.com",
                    password=LAB_PASSWORD,
                    profiles=[profile],
                    imap_server=ends.imap_starttls if imap_starttls else ends.imap,
                    smtp_server=ends.smtp,
                    resolver=ResolverConfig(nameserver=ends.nameserver),
                    ca_file=lab.ca_file,
                    expected_networks=ends.expected_networks,
                    timeout=6,
                )
            )
            return report, lab.record

    return asyncio.run(go())


def test_smtp_on_465_with_implicit_tls_gets_the_true_wrong_port(tmp_path: Any) -> None:
    """Microsoft: a device that defaults to 465 does not support SMTP AUTH client submission.

    The lab serves submission the 587 way (behaviour.md documents nothing for 465): an
    implicit-TLS client meets the plain-text banner, and no credential is ever sent.
    """
    report, record = _run_modes(
        _modes_profile(tmp_path, (993, "tls"), (465, "tls")), imap_starttls=False
    )
    [result] = report.profiles
    primary = result.findings[0]
    assert primary.code == "wrong-port", [f.code for f in result.findings]
    assert report.severity.exit_code == 2
    assert "port 465" in primary.title and "587" in primary.remedy
    smtp = [s.name for s in result.steps if s.protocol == "smtp"]
    assert smtp[:2] == ["connect", "tls"] and "starttls" not in smtp
    tls = next(s for s in result.steps if s.protocol == "smtp" and s.name == "tls")
    assert tls.data["mode"] == "implicit"
    [connection] = [c for c in record.connections() if c.protocol == "smtp"]
    assert connection.tls_version is None and connection.auth == ()


def test_imap_on_143_with_starttls_is_probed_that_way(tmp_path: Any) -> None:
    report, record = _run_modes(
        _modes_profile(tmp_path, (143, "starttls"), (587, "starttls")), imap_starttls=True
    )
    [result] = report.profiles
    imap = [s.name for s in result.steps if s.protocol == "imap"]
    assert imap[:5] == ["connect", "greeting", "starttls", "tls", "capability"]
    # it works, and the advice is Microsoft's documented port (a warning leads, then ok)
    assert [f.code for f in result.findings][:2] == ["wrong-port", "ok"]
    assert report.severity.exit_code == 1
    [connection] = [c for c in record.connections() if c.protocol == "imap"]
    assert connection.listener == "imap-starttls"
    verbs = [c.verb for c in connection.commands]
    assert verbs.index("STARTTLS") < verbs.index("AUTHENTICATE")
    assert connection.tls_version == "TLSv1.2"
    assert all(not a.in_clear for a in connection.auth) and len(connection.auth) == 1


@pytest.mark.parametrize("fmt", ["json", "nagios"])
def test_check_lab_serves_a_143_starttls_profile_on_port_143s_listener(
    fmt: str, tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``check --lab ok`` with a 143/STARTTLS profile meets the lab's STARTTLS listener.

    It used to meet the implicit-TLS one, wait the whole timeout and say server-silent.
    ``nagios`` goes through the batch runner, ``json`` through the single check.
    """
    path = _modes_profile(tmp_path, (143, "starttls"), (587, "starttls"))
    monkeypatch.setenv("PW", LAB_PASSWORD)
    args = ["--lab", "ok", "--profile-file", str(path), "--profile", "tb-modes", "--timeout", "10"]
    args += ["--user", "t@contoso.com", "--password-env", "PW", "--format", fmt]
    code = main(["check", *args])
    out = capsys.readouterr().out
    assert code == 1, out
    if fmt == "nagios":
        # WARNING, not CRITICAL: IMAP was answered (a silent server would be critical)
        assert out.startswith("CONNTEST WARNING - t@contoso.com: wrong-port"), out
        assert "imap_auth=" in out, out
        return
    [result] = json.loads(out)["profiles"]
    assert [(f["code"], f["severity"]) for f in result["findings"]][:2] == [
        ("wrong-port", "warning"),
        ("ok", "ok"),
    ]
    imap = [s["name"] for s in result["steps"] if s["protocol"] == "imap"]
    assert imap[:5] == ["connect", "greeting", "starttls", "tls", "capability"]
    assert all(s["status"] == "pass" for s in result["steps"] if s["protocol"] == "imap")


@pytest.mark.parametrize("fmt", ["json", "text", "nagios"])
def test_one_cause_is_one_finding_in_every_output(
    fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interceptor seen on IMAP and SMTP: one finding, one evidence line per protocol."""
    monkeypatch.setenv("PW", LAB_PASSWORD)
    args = ["--lab", "tls-intercepted", "--profile", "thunderbird", "--user", "j@contoso.com"]
    code = main(["check", *args, "--password-env", "PW", "--format", fmt])
    out = capsys.readouterr().out
    assert code == 2
    if fmt == "json":
        findings = json.loads(out)["profiles"][0]["findings"]
        [found] = [f for f in findings if f["code"] == "tls-intercepted"]
        assert [line.split(" ", 1)[0] for line in found["evidence"].splitlines()] == [
            "imap",
            "smtp",
        ]
    elif fmt == "text":
        assert out.count("(tls-intercepted)") == 1
        assert "imap tls:" in out and "smtp tls:" in out
    else:
        assert out.splitlines()[0].startswith("CONNTEST CRITICAL")
        assert "tls-intercepted" in out.splitlines()[0] or "tls-intercepted" in out
        assert out.count("tls-intercepted") <= 2  # the status line and the profile line


def test_one_authenticate_plain_shows_its_credential_once() -> None:
    """The lab received one credential; the transcript shows one ``C: <redacted>`` for it.

    imaplib sends the SASL response and its line end in two writes: the bare line end
    once read as a second credential line (issue 8).
    """
    from conntest.redact import REDACTED

    report, record = _run_with_lab("ok", "correct horse battery", ["thunderbird"])
    attempts = [
        a for c in record.connections(protocol="imap") for a in c.auth if a.credential_received
    ]
    assert len(attempts) == 1 and attempts[0].mechanism == "PLAIN"
    login = next(s for s in report.profiles[0].steps if s.protocol == "imap" and s.name == "login")
    assert login.data["mechanism"] == "authenticate-plain"
    sent = [line for line in login.transcript if line.startswith("C: ")]
    assert [line for line in sent if REDACTED in line] == [f"C: {REDACTED}"], login.transcript
    assert sent[0].endswith("AUTHENTICATE PLAIN") and len(sent) == 2, sent


def test_the_labs_ports_stand_in_for_the_profiles_and_a_chosen_one_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab plays outlook.office365.com:993 on a loopback port of its own: its findings
    say 993.  ``--imap HOST:PORT`` beside ``--lab`` is the user's own: they read that port."""
    import socket

    args = ["--lab", "port-closed", "--profile", "thunderbird", "--user", "alice@contoso.com"]
    _, doc, _ = run_check(capsys, monkeypatch, *args)
    closed = {
        f["protocol"]: f for f in doc["profiles"][0]["findings"] if f["code"] == "port-closed"
    }
    assert closed["imap"]["title"] == "outlook.office365.com refused the connection on port 993"
    assert closed["smtp"]["title"] == "smtp.office365.com refused the connection on port 587"
    assert closed["imap"]["detail"].startswith("The connection to outlook.office365.com:993 ")

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]  # closed again when the check connects
    _, doc, _ = run_check(capsys, monkeypatch, *args, "--imap", f"127.0.0.1:{port}")
    closed = {
        f["protocol"]: f for f in doc["profiles"][0]["findings"] if f["code"] == "port-closed"
    }
    assert closed["imap"]["title"] == f"127.0.0.1 refused the connection on port {port}"
    assert closed["smtp"]["title"] == "smtp.office365.com refused the connection on port 587"


def test_a_lab_refusal_is_not_remembered_against_the_address(tmp_path: Path) -> None:
    """The monitoring formats keep the lockout state; the lab's made-up refusals must not
    go into the real one. Field test: after ``--lab basic-auth-disabled --format nagios``
    for you@contoso.com, every later check of that address, the lab's ``ok`` and a real
    one alike, was ``auth-skipped`` for 15 minutes."""
    state = tmp_path / "xdg-state" / "conntest" / "auth-state.json"

    def lab(scenario: str) -> subprocess.CompletedProcess[str]:
        argv = ["check", "--lab", scenario, "--user", "you@contoso.com", "--password-stdin"]
        argv += ["--profile", "thunderbird", "--format", "nagios"]
        return subprocess.run(
            [sys.executable, "-m", "conntest", *argv],
            input=f"{LAB_PASSWORD}\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    refused = lab("wrong-password")
    assert refused.returncode == 2 and "wrong-credentials" in refused.stdout, refused.stdout
    assert not state.exists() or "you@contoso.com" not in state.read_text()
    after = lab("ok")
    assert "auth-skipped" not in after.stdout, after.stdout
    assert after.returncode in {0, 1} and after.stdout.startswith("CONNTEST "), after.stdout
