"""Microsoft's December 2026 change against the lab, at fixed dates.

The date comes in the way a user gives it (``--today``; the suite pins
``$CONNTEST_TODAY`` to a date before the window, see tests/conftest.py), never
from the clock inside a rule.  A password sign-in to SMTP that works gets
``basic-auth-retiring``: info before the 60-day window, a warning inside it and
after the date (then worded as re-enabled).  A ``basic authentication is
disabled`` refusal on or after the date adds "probably Microsoft's default" as
an inference, while the verdict stays what the server said.  Monitoring sees the
dependence per account: ``conntest_basic_auth_in_use`` and the date's timestamp.
"""

from __future__ import annotations

import dataclasses
import json
import ssl
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conntest.batch import run_batch
from conntest.cli import main
from conntest.lab import LAB_PASSWORD, Lab
from conntest.render.nagios import render_nagios
from conntest.render.prometheus import render_prometheus
from tests.integration.dependence import CHANGE, assert_dependence_metrics
from tests.integration.test_batch import PASSWORD_VAR, lab_entry
from tests.integration.test_own_server import PASSWORD as OWN_PASSWORD
from tests.integration.test_own_server import OwnServer, own_ca
from tests.integration.test_own_server import _check as own_check
from tests.integration.test_own_server import _pins as own_pins
from tests.integration.test_serve import Running, get, running, samples

BEFORE, INSIDE, AFTER = "2026-06-01", "2026-11-15", "2027-01-10"
"""213 days before the change, 46 days before it (inside the 60-day window), 10 days after."""
__all__ = ["own_ca", "running"]  # fixtures, imported for the own-server and serve tests

EXIT = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


def check(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
    *args: str,
    profile: str = "thunderbird",
) -> tuple[int, dict[str, Any]]:
    monkeypatch.setenv(PASSWORD_VAR, LAB_PASSWORD)
    code = main(
        [
            "check",
            "--lab",
            scenario,
            "--user",
            "adele.vance@contoso.com",
            "--password-env",
            PASSWORD_VAR,
            "--profile",
            profile,
            "--format",
            "json",
            "--timeout",
            "10",
            *args,
        ]
    )
    out, err = capsys.readouterr()
    assert out, err
    doc = json.loads(out)
    assert code == EXIT[doc["verdict"]]
    return code, doc


def retiring(doc: dict[str, Any]) -> dict[str, Any] | None:
    [result] = doc["profiles"]
    found = [f for f in result["findings"] if f["code"] == "basic-auth-retiring"]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.parametrize("profile", ["outlook-2016", "ios-mail", "thunderbird"])
def test_before_the_window_the_advice_is_information(
    profile: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, doc = check(capsys, monkeypatch, "ok", "--today", BEFORE, profile=profile)
    assert code == 0 and doc["verdict"] == "ok"
    advice = retiring(doc)
    assert advice is not None
    assert advice["severity"] == "info"
    assert advice["protocol"] == "smtp"
    assert "end of December 2026" in advice["title"]
    assert "in 213 days, counted from 2026-06-01" in advice["detail"]
    # Microsoft's words, quoted from the one dated table.
    assert "disabled by default for existing tenants" in advice["detail"]
    assert advice["evidence"].startswith("smtp auth: 235")


def test_inside_the_window_the_advice_is_a_warning_with_this_client_s_way(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, doc = check(capsys, monkeypatch, "ok", "--today", INSIDE, profile="outlook-2016")
    assert code == 1 and doc["verdict"] == "warning"
    advice = retiring(doc)
    assert advice is not None and advice["severity"] == "warning"
    assert "in 46 days" in advice["detail"]
    # Outlook 2016's way forward, from its profile: re-add as Exchange, the registry keys,
    # what conntest does not probe, the end of support.
    assert "Microsoft 365 / Exchange account" in advice["remedy"]
    assert "EnableADAL" in advice["remedy"]
    assert "conntest does not probe it" in advice["remedy"]
    assert "14 October 2025" in advice["remedy"]


def test_the_window_is_configurable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """46 days before the change is outside a 30-day window: information again."""
    code, doc = check(capsys, monkeypatch, "ok", "--today", INSIDE, "--retirement-window", "30")
    assert code == 0
    advice = retiring(doc)
    assert advice is not None and advice["severity"] == "info"


def test_after_the_date_a_working_password_means_it_was_re_enabled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, doc = check(capsys, monkeypatch, "ok", "--today", AFTER, profile="ios-mail")
    assert code == 1
    advice = retiring(doc)
    assert advice is not None and advice["severity"] == "warning"
    assert "after Microsoft's end of December 2026 change" in advice["title"]
    assert "an administrator re-enabled it" in advice["detail"]
    assert "10 days ago" in advice["detail"]
    assert "second half of 2027" in advice["detail"]
    assert "Microsoft Exchange" in advice["remedy"]
    assert "Exchange ActiveSync" in advice["remedy"]


def test_the_date_comes_from_the_environment_when_no_option_is_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNTEST_TODAY", AFTER)
    code, doc = check(capsys, monkeypatch, "ok")
    assert code == 1
    advice = retiring(doc)
    assert advice is not None and "on 2027-01-10" in advice["detail"]


def test_a_malformed_date_is_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_VAR, LAB_PASSWORD)
    monkeypatch.setenv("CONNTEST_TODAY", "31/12/2026")
    argv = ["check", "--lab", "ok", "--user", "a@contoso.com", "--password-env", PASSWORD_VAR]
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "conntest: CONNTEST_TODAY: expected a date YYYY-MM-DD, found '31/12/2026'\n"
    assert main([*argv, "--today", "2026-13-01"]) == 3
    assert "--today: expected a date YYYY-MM-DD, found '2026-13-01'" in capsys.readouterr().err


@pytest.mark.parametrize("today", [INSIDE, AFTER])
def test_basic_auth_disabled_after_the_date_is_probably_the_default(
    today: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, doc = check(capsys, monkeypatch, "basic-auth-disabled", "--today", today)
    # The verdict comes from what the server said, whatever the date.
    assert code == 2 and doc["verdict"] == "critical"
    [result] = doc["profiles"]
    primary = result["findings"][0]
    assert primary["code"] == "basic-auth-disabled"
    assert "smtp auth: 535 5.7.139" in primary["evidence"]
    assert retiring(doc) is None
    inferred = "probably that default (an inference from the date"
    if today == AFTER:
        assert inferred in primary["detail"]
        assert "can still re-enable it until the final removal date" in primary["detail"]
    else:
        assert inferred not in primary["detail"]


def test_the_announced_final_text_is_not_taken_for_the_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab's retired scenario answers 'Basic authentication is not supported for Client
    Submission': the removal, after which no administrator can re-enable anything."""
    code, doc = check(capsys, monkeypatch, "basic-auth-retired", "--today", AFTER)
    assert code == 2
    [result] = doc["profiles"]
    smtp = [f for f in result["findings"] if "client submission" in f["evidence"].lower()]
    assert smtp, result["findings"]
    assert all("probably that default" not in f["detail"] for f in smtp)
    assert all("re-enable it until" not in f["detail"] for f in smtp)


def test_the_matrix_shows_each_client_s_way_to_modern_authentication(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_VAR, LAB_PASSWORD)
    argv = ["check", "--lab", "ok", "--user", "a@contoso.com", "--password-env", PASSWORD_VAR]
    assert main([*argv, "--format", "json"]) == 0
    matrix = {row["profile"]: row for row in json.loads(capsys.readouterr().out)["matrix"]}
    assert set(matrix) == {"outlook-2016", "ios-mail", "thunderbird"}
    assert all(row["receive"] == row["send"] == "works" for row in matrix.values())
    assert matrix["thunderbird"]["modern_auth"]["status"] == "not-verified"
    assert matrix["thunderbird"]["modern_auth"]["note"] == "not verified, run with --oauth"
    assert matrix["outlook-2016"]["modern_auth"]["status"] == "not-probed"
    assert "can never use OAuth" in matrix["outlook-2016"]["modern_auth"]["route"]
    assert "Microsoft Exchange" in matrix["ios-mail"]["modern_auth"]["route"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Modern authentication" in text
    assert "not verified, run with --oauth" in text


# --------------------------------------------------------------------------
# Monitoring the dependence


async def test_monitoring_sees_the_dependence_and_nagios_warns_inside_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_VAR, LAB_PASSWORD)
    scenarios = ("ok", "wrong-password", "basic-auth-disabled", "smtp-auth-disabled-tenant")
    scenario_of = {f"user{i:02d}@contoso.com": scenarios[i % len(scenarios)] for i in range(12)}
    async with Lab(accounts=scenario_of) as lab:
        entries = [
            dataclasses.replace(
                lab_entry(lab, address, scenario, pin=True), today=date.fromisoformat(INSIDE)
            )
            for address, scenario in scenario_of.items()
        ]
        batch = await run_batch(entries, concurrency=12)
    text = render_prometheus(batch)
    assert_dependence_metrics(text, scenario_of)
    findings = {
        (s.labels["account"], s.labels["code"], s.labels["severity"])
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "conntest_finding"
    }
    for address, scenario in scenario_of.items():
        advised = (address, "basic-auth-retiring", "warning") in findings
        assert advised == (scenario == "ok"), address
    # Nagios: the advisory makes a working account WARNING inside the window.
    nagios = render_nagios(batch).splitlines()
    assert nagios[0].startswith("CONNTEST CRITICAL - ")
    assert "3 with warnings" in nagios[0]
    warned = [line for line in nagios[1:] if line.startswith("WARNING ")]
    assert len(warned) == 3
    assert all(scenario_of[line.split()[1].rstrip(":")] == "ok" for line in warned)
    assert all(": basic-auth-retiring (" in line for line in warned)


# --------------------------------------------------------------------------
# A server of the user's own (private CA, names pinned): no flattering by the lab


@pytest.mark.parametrize(
    ("smtp_name", "advised"), [("smtp.office365.com", True), ("mail.example.test", False)]
)
def test_own_server_advice_follows_the_smtp_host(
    smtp_name: str,
    advised: bool,
    own_ca: tuple[ssl.SSLContext, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Microsoft's change is about Microsoft 365's SMTP hosts: pinned to the user's own
    server, the Microsoft name still gets the advice (as the lab), another name does not."""
    server_tls, ca_path = own_ca
    with OwnServer(server_tls, accept=True) as own:
        code, doc = own_check(
            capsys,
            monkeypatch,
            "--profile",
            "thunderbird",
            "--imap",
            f"outlook.office365.com:{own.ports['imaps']}",
            "--smtp",
            f"{smtp_name}:{own.ports['submission']}",
            *own_pins("outlook.office365.com", smtp_name),
            "--ca-file",
            str(ca_path),
            "--nameserver",
            f"127.0.0.1:{own.ports['dns']}",
            "--today",
            INSIDE,
            password=OWN_PASSWORD,
        )
    assert own.seen.credentials_in_clear == 0
    advice = retiring(doc)
    if advised:
        assert code == 1
        assert advice is not None and advice["severity"] == "warning"
    else:
        assert code == 0
        assert advice is None


# --------------------------------------------------------------------------
# conntest serve


async def test_serve_exposes_the_dependence_and_the_advice(running: Running) -> None:
    """A scrape inside the window: alice (the lab's ok) still sends with a password."""
    running.exporter.today = lambda: date.fromisoformat(INSIDE)
    answer = await get(running.base, "/probe?account=alice@contoso.com&profile=thunderbird")
    assert answer.status == 200
    in_use = samples(answer.body, "conntest_basic_auth_in_use")
    key = (("account", "alice@contoso.com"), ("profile", "thunderbird"))
    assert in_use == {(*key, ("protocol", "imap")): 1.0, (*key, ("protocol", "smtp")): 1.0}
    [change] = samples(answer.body, "conntest_basic_auth_default_off_timestamp_seconds").values()
    assert change == CHANGE
    findings = samples(answer.body, "conntest_finding")
    labels = {"account": "alice@contoso.com", "profile": "thunderbird", "protocol": "smtp"}
    advice = tuple(sorted({**labels, "code": "basic-auth-retiring", "severity": "warning"}.items()))
    assert findings.get(advice) == 1.0
