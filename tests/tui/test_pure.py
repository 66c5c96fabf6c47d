"""The TUI's pure parts: hints, settings, verdict words, checklist rows, Markdown, theme."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from conntest.model import Finding, ProfileResult, Report, Severity, Status
from conntest.probes.dns_probe import ResolverConfig
from conntest.redact import Redactor
from conntest.render.markdown_report import render_markdown
from conntest.tui.outcome import (
    banner,
    client_outcomes,
    ellipsize,
    matrix_cells,
    offers_stripped_retry,
    protocol_works,
    row_views,
    short_name,
    split_steps,
)
from conntest.tui.report_export import report_stem, save_report
from conntest.tui.settings import (
    LabFields,
    RunSettings,
    build_request,
    parse_ca_file,
    parse_host_port,
    parse_timeout,
)
from conntest.tui.setup_screen import password_hints
from conntest.tui.terminal_theme import (
    DARK,
    LIGHT,
    light_from_colorfgbg,
    light_from_osc11,
    pick_theme,
)
from tests.conftest import SECRET, assert_no_secret
from tests.tui.conftest import builtin_profiles
from tests.tui.fixtures import (
    USER,
    all_clients_report,
    dns_steps,
    imap_ok,
    single_client_report,
    smtp_refused,
    step,
)

NAMES = {p.id: p.name for p in builtin_profiles()}


# --------------------------------------------------------------------------- hints


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("abcd efgh ijkl mnop ", "20 characters: 1 trailing space, 3 spaces inside"),
        ("abcdefgh\u200bijklmnop", "17 characters: a zero-width character at position 9"),
        ("abcdefghijklmnop", "16 characters: no spaces or invisible characters"),
    ],
)
def test_password_hint_describes_the_shape_not_the_characters(password: str, expected: str) -> None:
    first, second, warn = password_hints(password)
    assert first == expected
    assert warn == (password != "abcdefghijklmnop")
    assert "Shaped like a Microsoft app password" in second
    for chunk in ("abcd", "efgh", "mnop"):
        assert chunk not in first + second


def test_password_hint_for_no_password_and_account_password() -> None:
    assert password_hints("")[0].startswith("No password")
    first, second, warn = password_hints(SECRET)
    assert first == "22 characters: 2 spaces inside"
    assert second.startswith("Not shaped like a Microsoft app password")
    assert warn
    assert_no_secret(first + second)


# --------------------------------------------------------------------------- settings


def test_parse_fields() -> None:
    assert parse_host_port("") is None
    assert parse_host_port(" outlook.office365.com:993 ") == ("outlook.office365.com", 993)
    assert parse_host_port("[::1]:587") == ("::1", 587)
    with pytest.raises(ValueError, match=r"in brackets: \[::1\]:993"):
        parse_host_port("::1:587")  # port 587 of ::1, or the address ::1:587?
    for bad in ("outlook.office365.com", "host:0", "host:99999", "a b:25", ":25"):
        with pytest.raises(ValueError, match=r"HOST:PORT|no spaces"):
            parse_host_port(bad)
    assert parse_timeout("") == 60
    assert parse_timeout("7.5") == 7.5
    with pytest.raises(ValueError, match="between 1 and 600"):
        parse_timeout("0")
    with pytest.raises(ValueError, match="seconds"):
        parse_timeout("soon")
    assert parse_ca_file("") is None
    with pytest.raises(ValueError, match="no such file"):
        parse_ca_file("/nonexistent/ca.pem")


def test_build_request_lab_fields_yield_to_overrides(tmp_path: Path) -> None:
    profiles = {p.id: p for p in builtin_profiles()}
    lab = LabFields(
        imap_server=("outlook.office365.com", 1143),
        smtp_server=("smtp.office365.com", 1587),
        resolver=ResolverConfig(nameserver=("127.0.0.1", 5353)),
        ca_file=tmp_path / "lab.pem",
        tls_max="1.0",
        expected_networks=("127.0.0.1/32",),
    )
    settings = RunSettings(
        USER, "pw", ("ios-mail",), scenario="ok", smtp_server=("relay.example", 25)
    )
    request = build_request(settings, profiles, lab)
    assert request.imap_server == ("outlook.office365.com", 1143)
    assert request.smtp_server == ("relay.example", 25)
    assert request.ca_file == tmp_path / "lab.pem"
    assert request.tls_max == "1.0"
    assert [p.id for p in request.profiles] == ["ios-mail"]
    plain = build_request(settings, profiles)
    assert plain.imap_server is None
    assert plain.ca_file is None
    assert "pw" not in repr(settings)


# --------------------------------------------------------------------------- verdict


def test_banner_single_client_partly() -> None:
    report = single_client_report()
    verdict = banner(report, NAMES)
    assert verdict.kind == "partly"
    assert verdict.headline == "Partly works: Thunderbird can receive mail but not send"
    assert verdict.detail.startswith("Sending is switched off")


def test_banner_and_matrix_all_clients() -> None:
    report = all_clients_report()
    verdict = banner(report, NAMES)
    assert verdict.kind == "partly"
    assert verdict.headline == "Partly works: 2 of 3 clients can receive, 0 of 3 can send"
    cells = [matrix_cells(o) for o in client_outcomes(report, NAMES)]
    assert cells[0][:3] == ("Outlook 2016", "✘ fails", "✘ fails")
    assert cells[1][:3] == ("iOS Mail", "✔ works", "✘ fails")
    assert cells[2][3].startswith("Sending is switched off")


def test_banner_works_fails_and_untested() -> None:
    ok = Report(USER, 1.0, [ProfileResult("ios-mail", [*dns_steps(), *imap_ok()], [])])
    ok.profiles[0].steps += [
        step("smtp", "connect", 1),
        step("smtp", "auth", 1, reply=("235", "2.7.0 Authentication successful")),
    ]
    assert banner(ok, NAMES).headline == "Works: iOS Mail can receive and send mail"
    untested = Report(
        USER,
        1.0,
        [
            ProfileResult(
                "ios-mail",
                [
                    step("imap", "connect", 1),
                    step("imap", "login", 0, Status.SKIP, reason="no password"),
                    step("smtp", "connect", 1),
                    step("smtp", "auth", 0, Status.SKIP, reason="no password"),
                ],
                [],
            )
        ],
    )
    assert protocol_works(untested.profiles[0], "imap") is None
    assert banner(untested, NAMES).headline.startswith("Reachable")
    dead = Report(
        USER,
        1.0,
        [
            ProfileResult(
                p,
                [step("imap", "connect", 1, Status.FAIL), step("smtp", "connect", 1, Status.FAIL)],
                [Finding("port-closed", Severity.CRITICAL, "Refused", "", "", "")],
            )
            for p in ("ios-mail", "thunderbird")
        ],
    )
    verdict = banner(dead, NAMES)
    assert verdict.kind == "fails"
    assert verdict.headline == "Does not work: none of the 2 clients can receive or send mail"


def test_stripped_retry_offered_once() -> None:
    whitespace = Finding(
        "password-whitespace", Severity.CRITICAL, "Likely cause: spaces", "", "", ""
    )
    report = Report(USER, 1.0, [ProfileResult("ios-mail", smtp_refused(), [whitespace])])
    assert offers_stripped_retry(report)
    report.profiles[0].steps.append(step("smtp", "auth-stripped", 5))
    assert not offers_stripped_retry(report)
    mild = Finding("password-whitespace", Severity.WARNING, "Spaces", "", "", "")
    assert not offers_stripped_retry(
        Report(USER, 1.0, [ProfileResult("ios-mail", imap_ok(), [mild])])
    )


def test_checklist_rows_spin_on_the_next_step() -> None:
    steps = {s.name: s for s in smtp_refused()[:3]}
    rows = row_views("smtp", steps, running=True)
    states = {r.key: r.state for r in rows}
    assert states["connect"] == states["greeting"] == states["ehlo"] == "pass"
    assert states["resolve"] == "running"  # DNS comes with the report; the view infers it
    assert states["starttls"] == "pending"
    assert [r.label for r in rows] == [
        "DNS",
        "connect",
        "greeting",
        "capabilities",
        "TLS",
        "caps after TLS",
        "login",
    ]
    done = row_views("smtp", {s.name: s for s in smtp_refused()}, running=False)
    auth = next(r for r in done if r.key == "auth")
    assert auth.state == "fail"
    assert auth.detail.startswith("535 5.7.139")
    tls = next(r for r in done if r.key == "starttls")
    assert tls.elapsed_ms == 33 + 58  # STARTTLS + handshake
    assert tls.detail == "TLSv1.2"


def test_split_steps_places_dns_and_extras() -> None:
    steps = [*dns_steps(), *imap_ok(), step("imap", "login-stripped", 9), step("imap", "x", 1)]
    split = split_steps(steps, {"imap": "outlook.office365.com", "smtp": "smtp.office365.com"})
    imap_seen, imap_extra = split["imap"]
    assert imap_seen["resolve"].data["host"] == "outlook.office365.com"
    assert [s.name for s in imap_extra] == ["login-stripped", "x"]
    rows = row_views("imap", imap_seen, running=False, extra=imap_extra)
    assert rows[-2].label == "login (spaces removed)"
    assert split["smtp"][0]["resolve"].data["host"] == "smtp.office365.com"


def test_short_name() -> None:
    assert short_name("Outlook 2016 (IMAP account)") == "Outlook 2016"
    assert short_name("Thunderbird") == "Thunderbird"


# --------------------------------------------------------------------------- reports


def test_markdown_report_for_a_ticket() -> None:
    text = render_markdown(all_clients_report(), NAMES, [("Lab scenario", "x")])
    # the headline names the cause: the worst profile's first finding
    assert text.startswith(
        "# conntest: CRITICAL: The server refuses Outlook 2016's old TLS version"
        " (tls-version-rejected)\n"
    )
    assert "- **Mailbox:** adele.vance@contoso.com" in text
    assert "- **Lab scenario:** x" in text
    assert "## Outlook 2016 (IMAP account): CRITICAL" in text
    assert "### Most likely cause: Sending is switched off" in text
    assert "**Administrator:** For this mailbox only" in text
    assert "| smtp | auth | **FAIL** | 412 ms | 535 5.7.139" in text
    assert "<details><summary>Transcript" in text
    assert "C: <redacted>" in text
    assert "<details>" not in render_markdown(all_clients_report(), NAMES, transcript=False)


def test_saved_files_are_redacted_again(tmp_path: Path) -> None:
    report = single_client_report()
    # A renderer quoting the password by mistake must still not leak it.
    report.profiles[0].findings.append(Finding("x", Severity.INFO, f"oops {SECRET}", "", "", ""))
    when = datetime.datetime(2026, 11, 22, 14, 30, 5, tzinfo=datetime.UTC)
    saved = save_report(
        report,
        redact=Redactor.for_credentials(USER, SECRET),
        names=NAMES,
        directory=tmp_path,
        scenario="smtp-auth-disabled-tenant",
        now=when,
    )
    assert saved.markdown_path.name == "conntest-report-20261122-143005.md"
    assert report_stem(when) == "conntest-report-20261122-143005"
    for text in (
        saved.markdown_path.read_text(encoding="utf-8"),
        saved.json_path.read_text(encoding="utf-8"),
        saved.clipboard_text,
    ):
        assert_no_secret(text)
        assert "oops <redacted>" in text
    assert json.loads(saved.json_path.read_text(encoding="utf-8"))["schema"] == 1
    again = save_report(report, redact=Redactor(), names=NAMES, directory=tmp_path, now=when)
    assert again.markdown_path.name == "conntest-report-20261122-143005-2.md"


# --------------------------------------------------------------------------- theme


def test_terminal_theme_detection() -> None:
    assert light_from_colorfgbg("0;15") is True
    assert light_from_colorfgbg("15;0") is False
    assert light_from_colorfgbg("12;default;7") is True
    assert light_from_colorfgbg("default") is None
    assert light_from_osc11("\x1b]11;rgb:ffff/ffff/ffff\x1b\\") is True
    assert light_from_osc11("\x1b]11;rgb:1e1e/1e1e/1e1e\x07") is False
    assert light_from_osc11("\x1b[?62;c") is None
    never = lambda: None  # noqa: E731
    assert pick_theme({"CONNTEST_THEME": "light"}, never) == LIGHT
    assert pick_theme({"COLORFGBG": "0;15"}, never) == LIGHT
    assert pick_theme({}, lambda: "\x1b]11;rgb:fafa/fafa/fafa\x1b\\") == LIGHT
    assert pick_theme({}, never) == DARK
    assert pick_theme({"CONNTEST_THEME": "nord"}, never) == "nord"


def test_ca_file_that_cannot_be_looked_at_is_a_field_error_not_a_crash() -> None:
    """A crash there used to reach Textual's traceback, which shows local variables."""
    import pytest

    from conntest.tui.settings import parse_ca_file

    with pytest.raises(ValueError):
        parse_ca_file("~no-such-user-here/ca.pem")


@pytest.mark.parametrize(
    ("text", "width", "shown"),
    [
        ("Sending is switched off", 30, "Sending is switched off"),
        ("Sending is switched off: SMTP AUTH", 29, "Sending is switched off…"),
        ("The server refuses Outlook 2016's old TLS version", 29, "The server refuses Outlook…"),
        ("Unbreakable-token-without-spaces", 10, "Unbreakab…"),
    ],
)
def test_ellipsize_marks_what_it_cuts(text: str, width: int, shown: str) -> None:
    assert ellipsize(text, width) == shown
    assert len(ellipsize(text, width)) <= width
