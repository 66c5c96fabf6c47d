"""``conntest explain`` reads as plain sentences, and standard codes mean what their RFC says.

A pasted text names no port, and without ``--profile`` no client: whatever
explain can answer must read whole without them, never with a ``?`` standing
for a value nobody filled, a ``{placeholder}`` or a sentence that starts in
lower case.  Checked two ways: explain over every text the catalogue and
``responses.yaml`` know, and every entry and variant explain can reach,
rendered with the values a pasted text gives, for either protocol or none.

The second half is what the standard codes decide: RFC 5530's IMAP response
codes, POP3's (RFC 2449, RFC 3206) and SMTP's of RFC 3463/4954 say what went
wrong, so ``530 5.7.0 Authentication required`` (sign in first) and
``NO [UNAVAILABLE]`` (a part of the server is down) are not refused passwords.
"""

from __future__ import annotations

import re

import pytest

from conntest.diagnosis import explain
from conntest.diagnosis.catalogue import CATALOGUE, MATCH_ORDER
from conntest.diagnosis.normalise import one_line
from conntest.diagnosis.pasted import pasted_values
from conntest.diagnosis.rules.candidate import Candidate, display
from conntest.diagnosis.templates import render_candidate
from conntest.finding import Finding, Severity
from tests.unit.test_responses_yaml import ENTRIES

KNOWN_TEXTS = sorted(
    {example for entry in CATALOGUE.values() for p in entry.patterns for example in p.examples}
    | {str(e["server_text"]) for e in ENTRIES}
)
"""Every text conntest knows: the catalogue's examples and ``responses.yaml``'s replies."""

REACHABLE = sorted(
    {(code, p.variant) for code in MATCH_ORDER for p in CATALOGUE[code].patterns}
    | {("ok", "explain"), ("login-rejected", None), ("unrecognised", None)}
    | {("unrecognised", "standard-code")},
    key=str,
)
"""Every entry and variant ``explain`` can answer with."""

_LEAKED_QUESTION_MARK = re.compile(r"(?:^|[\s:(/])\?(?=$|[\s.,;:)])")
_SENTENCE_IN_LOWER_CASE = re.compile(r"(?:^|[.!?]\s+)(?:your mail client|the server)\b")


def _unfilled(finding: Finding, *quoted: str) -> list[str]:
    """What reads as a placeholder nobody filled, outside the quoted text itself."""
    problems = []
    parts = {"title": finding.title, "detail": finding.detail, "remedy": finding.remedy}
    parts["admin"] = finding.admin_action or ""
    for name, said in parts.items():
        text = said
        for quote in quoted:
            text = text.replace(quote, "")
        if _LEAKED_QUESTION_MARK.search(text):
            problems.append(f"{name} has a '?' for a value: {text}")
        if "{" in text or "}" in text:
            problems.append(f"{name} has a placeholder: {text}")
        if _SENTENCE_IN_LOWER_CASE.search(text):
            problems.append(f"{name} starts a sentence in lower case: {text}")
    return problems


def test_the_corpus_is_there() -> None:
    assert len(KNOWN_TEXTS) >= 40
    assert ("port-closed", None) in REACHABLE


@pytest.mark.parametrize("text", KNOWN_TEXTS)
def test_explain_leaves_no_placeholder_in_a_known_text(text: str) -> None:
    finding = explain(text)
    assert _unfilled(finding, display(text), one_line(text)) == []


@pytest.mark.parametrize("protocol", [None, "imap", "smtp"])
@pytest.mark.parametrize(("code", "variant"), REACHABLE, ids=str)
def test_every_answer_explain_can_give_reads_whole(
    code: str, variant: str | None, protocol: str | None
) -> None:
    values = pasted_values("SENTENCE", protocol, None)
    values["standard"] = "STANDARD."
    candidate = Candidate(code, variant, values, ["text (pasted): SENTENCE"], protocol=protocol)
    finding = render_candidate(candidate, None, "<user>", kind="unknown")
    assert _unfilled(finding, "SENTENCE") == []
    # A title starts in capitals, unless with a name written its own way (a host, conntest).
    leads = ("conntest ", values.get("host", "conntest "))
    assert finding.title[:1].isupper() or finding.title.startswith(leads), finding.title


def test_a_pasted_refusal_names_no_port() -> None:
    finding = explain("Connection refused")
    assert finding.code == "port-closed"
    assert finding.title == "The server refused the connection"
    assert finding.detail.startswith("The connection to the server was refused.")


def test_a_pasted_timeout_asks_for_both_mail_ports() -> None:
    finding = explain("TimeoutError: timed out")
    assert finding.title == "No answer from the server"
    assert "allow outbound TCP 993 (IMAP) and 587 (SMTP) to the server" in finding.remedy


def test_a_pasted_no_route_does_not_claim_port_443_was_tried() -> None:
    finding = explain("[Errno 113] No route to host")
    assert finding.code == "port-filtered"
    assert "443" not in finding.detail and "No route to host" in finding.detail


def test_a_pasted_resolver_error_is_quoted_as_the_reason() -> None:
    finding = explain("socket.gaierror: [Errno -2] Name or service not known")
    assert finding.code == "dns-failure"
    assert finding.title == "A server name could not be looked up"
    assert "Name or service not known" in finding.detail


# --------------------------------------------------------------------------------------
# Standard codes decide by their standard meaning
# --------------------------------------------------------------------------------------

DEFINED = [
    # RFC 4954 §6, SMTP AUTH
    ("530 5.7.0 Authentication required", "not-authenticated", "rfc"),
    ("535 5.7.8 Authentication credentials invalid", "wrong-credentials", "rfc"),
    ("534 5.7.9 Authentication mechanism is too weak", "auth-mechanism-unsupported", "too-weak"),
    (
        "538 5.7.11 Encryption required for requested authentication mechanism",
        "starttls-required",
        "sign-in",
    ),
    # RFC 5530, IMAP (the RFC's own examples)
    ("a NO [AUTHENTICATIONFAILED] Authentication failed", "login-rejected", None),
    ("d NO [PRIVACYREQUIRED] Connection offers no privacy", "starttls-required", "sign-in"),
    ("n1 NO [OVERQUOTA] Sorry", "mailbox-full", "imap"),
]


@pytest.mark.parametrize(("text", "code", "variant"), DEFINED)
def test_a_standard_code_with_an_entry_is_that_entry(
    text: str, code: str, variant: str | None
) -> None:
    finding = explain(text)
    assert finding.code == code
    entry = CATALOGUE[code]
    wanted = entry.variants[variant].title if variant else None
    if wanted:
        assert finding.title == wanted


NOT_A_PASSWORD_VERDICT = [
    ("a NO [UNAVAILABLE] User's backend down for maintenance", "[UNAVAILABLE]"),
    ("NO [UNAVAILABLE]", "[UNAVAILABLE]"),
    ("c1 NO [AUTHORIZATIONFAILED] No such authorization-ID", "[AUTHORIZATIONFAILED]"),
    ("d NO [EXPIRED] That password isn't valid any more", "[EXPIRED]"),
    ("e NO [CONTACTADMIN]", "[CONTACTADMIN]"),
    ("g NO [INUSE] Mailbox in use", "[INUSE]"),
    ("-ERR [SYS/TEMP] try later", "[SYS/TEMP]"),
    ("-ERR [IN-USE] another session holds the mailbox", "[IN-USE]"),
    ("454 4.7.0 Temporary authentication failure", "454 4.7.0"),
    ("432 4.7.12 A password transition is needed", "432 4.7.12"),
    ("451 4.3.0 Temporary server error, login later", "temporary failure (RFC 5321)"),
]


@pytest.mark.parametrize(("text", "named"), NOT_A_PASSWORD_VERDICT)
def test_a_standard_code_without_an_entry_is_told_honestly(text: str, named: str) -> None:
    finding = explain(text)
    assert (finding.code, finding.severity) == ("unrecognised", Severity.UNKNOWN)
    assert named in finding.detail
    assert "wrong password" not in finding.detail


def test_unavailable_says_it_is_no_verdict_on_the_password() -> None:
    finding = explain("NO [UNAVAILABLE] Temporary failure")
    assert "a part of the server is down; it is not a verdict on the password" in finding.detail
    assert finding.title == "conntest knows only the standard meaning of this answer"


@pytest.mark.parametrize(
    "text",
    [
        "NO LOGIN failed.",  # Microsoft's ambiguous refusal stays ambiguous
        "-ERR [AUTH] Invalid credentials",  # RFC 3206: the credentials were refused
        "535 Authentication failed",
    ],
)
def test_a_refusal_of_the_credentials_stays_one(text: str) -> None:
    assert explain(text).code == "login-rejected"


def test_the_enhanced_code_decides_over_shared_words() -> None:
    """Postfix's 5.7.8 holds "authentication failed", the words of IMAP's generic refusal."""
    text = "535 5.7.8 Error: authentication failed: authentication failure"
    assert explain(text).code == "wrong-credentials"
