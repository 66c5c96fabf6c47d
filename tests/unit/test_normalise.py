"""Normalisation strips what varies per connection and per library, and keeps the meaning."""

from __future__ import annotations

import pytest

from conntest.diagnosis.normalise import normalise, one_line, readable

CREDENTIALS = "authentication unsuccessful, the user credentials were incorrect."


@pytest.mark.parametrize(
    "text",
    [
        "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
        "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. "
        "[PH0PR07CA0004.namprd07.prod.outlook.com]",
        "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. "
        "[MN2PR05CA0004.namprd05.prod.outlook.com 2023-09-12T20:59:57.214Z 08DBB276B7E699C4]",
        "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. "
        "[US22278CA0034.US7P278.PROD.OUTLOOK.COM 2024-10-24",  # truncated trailer
        "Invalid login: 535 5.7.139 Authentication unsuccessful, the user credentials were "
        "incorrect.",
        "Invalid login: 535-5.7.139 Authentication unsuccessful, the user\n"
        "535-5.7.139 credentials were incorrect.\n535 5.7.139 "
        "[AM0PR02CA0001.eurprd02.prod.outlook.com]",
        "(535, b'5.7.139 Authentication unsuccessful, the user credentials were incorrect.')",
        "smtplib.SMTPAuthenticationError: (535, b'5.7.139 Authentication unsuccessful, the user "
        "credentials were incorrect. [PH0PR07CA0004.namprd07.prod.outlook.com]')",
        "javax.mail.AuthenticationFailedException: 535 5.7.139 Authentication unsuccessful, the "
        "user credentials were incorrect.",
        "535 5.7.139 AUTHENTICATION UNSUCCESSFUL, THE USER CREDENTIALS WERE INCORRECT.",
        "S: 535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
    ],
)
def test_smtp_variants_reduce_to_one_meaning(text: str) -> None:
    reply = normalise(text)
    assert reply.status == "535"
    assert reply.enhanced == "5.7.139"
    assert reply.text == CREDENTIALS
    assert reply.key == f"5.7.139 {CREDENTIALS}"


@pytest.mark.parametrize(
    "text",
    [
        "5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication "
        "unsuccessful, the user credentials were incorrect. "
        "[CH2PR19CA0002.namprd19.prod.outlook.com "
        "2026-08-28T19:45:50.437Z 08DF04C6D9A404E7]",
        "530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication "
        "unsuccessful, the user credentials were incorrect.",
        "System.Net.Mail.SmtpException: The SMTP server requires a secure connection or the client "
        "was not authenticated. The server response was: 5.7.57 Client not authenticated to send "
        "mail. Error: 535 5.7.139 Authentication unsuccessful, the user credentials were "
        "incorrect.",
    ],
)
def test_wrapped_reply_after_error_decides(text: str) -> None:
    reply = normalise(text)
    assert (reply.status, reply.enhanced, reply.text) == ("535", "5.7.139", CREDENTIALS)
    assert reply.wrapper is not None
    assert "client not authenticated" in reply.wrapper


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("2 NO LOGIN failed.", "NO"),
        ("PEAA1 NO LOGIN failed.", "NO"),
        ("a1 no login failed.", "NO"),
        ("NO LOGIN failed.", "NO"),
        ("b'LOGIN failed.'", None),
        ("[b'LOGIN failed.']", None),
        ("imaplib.IMAP4.error: b'LOGIN failed.'", None),
        ("Can not authenticate to IMAP server: LOGIN failed.", None),
        ("Your IMAP server wants to alert you to the following: LOGIN failed.", None),
    ],
)
def test_imap_tags_and_wrappers(text: str, status: str | None) -> None:
    reply = normalise(text)
    assert reply.text == "login failed."
    assert reply.status == status


def test_greeting_token_and_untagged_star() -> None:
    reply = normalise(
        "* OK The Microsoft Exchange IMAP4 service is ready. "
        "[TABPADQAUAAxADIAMwBDAEEAMAAyADMAMwAuAEcAQgBSAFAAMQAyADMALgBQAFIATwBEAC4ATwBVAFQATABPAE8ASwAuAEMATwBNAA==]"
    )
    assert reply.status == "OK"
    assert reply.text == "the microsoft exchange imap4 service is ready."
    assert normalise("+OK The Microsoft Exchange POP3 service is ready. []").text == (
        "the microsoft exchange pop3 service is ready."
    )
    capability = normalise("* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2")
    assert capability.status == "*"
    assert capability.text.startswith("capability imap4")


def test_smtp_banner_loses_host_date_and_request_id() -> None:
    reply = normalise(
        "220 BE1P281CA0440.outlook.office365.com Microsoft ESMTP MAIL Service ready at "
        "Mon, 4 Aug 2025 11:15:30 +0000 [08DDD30471EE4ED5]"
    )
    assert reply.status == "220"
    assert reply.text == "microsoft esmtp mail service ready at"


def test_words_in_brackets_are_kept() -> None:
    reply = normalise("a1 NO [AUTHENTICATIONFAILED] Authentication failed.")
    assert reply.text == "[authenticationfailed] authentication failed."


def test_pop_status() -> None:
    reply = normalise("-ERR Logon failure: unknown user name or bad password.")
    assert reply.status == "-ERR"
    assert reply.text == "logon failure: unknown user name or bad password."


def test_long_words_are_not_mistaken_for_base64() -> None:
    reply = normalise(
        "554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException."
        "MapiExceptionShutoffQuotaExceeded"
    )
    assert "mapiexceptionshutoffquotaexceeded" in reply.text


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "[", "]]]", "b'", "Error:", "(535, b'')"])
def test_never_raises(text: str) -> None:
    normalise(text)
    readable(text)


def test_readable_keeps_case_and_drops_wrapper_and_trailer() -> None:
    assert (
        readable(
            "Invalid login: 535-5.7.139 Authentication unsuccessful, the user credentials were "
            "incorrect.\n535 5.7.139 [AM0PR02CA0001.eurprd02.prod.outlook.com "
            "2025-01-01T00:00:00.000Z "
            "08DD000000000000]"
        )
        == "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect."
    )
    assert (
        readable(
            "5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication "
            "unsuccessful, account locked. [X1.outlook.com]"
        )
        == "535 5.7.139 Authentication unsuccessful, account locked."
    )
    assert readable("b'LOGIN failed.'") == "LOGIN failed."


def test_one_line_shortens() -> None:
    assert one_line("a\n  b\tc") == "a b c"
    assert len(one_line("x" * 1000, limit=50)) == 50
