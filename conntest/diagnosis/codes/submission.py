"""Submission codes: SMTP replies after sign-in (MAIL FROM, Send As), mostly from explain.

Data only; :mod:`conntest.diagnosis.catalogue` assembles the modules of this package.
"""

from __future__ import annotations

from conntest.diagnosis.vocabulary import CatalogueEntry, Pattern, Variant, remedies
from conntest.finding import Severity

ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="not-authenticated",
        severity=Severity.CRITICAL,
        layer="auth",
        title="The client tried to send without being signed in",
        meaning=(
            "The server answered '{sentence}': the client sent MAIL FROM without a successful "
            "sign-in — it was not set to sign in, or its sign-in failed and it carried on. When "
            "the sign-in failed, Microsoft appends the real reason after 'Error:'; this text has "
            "none."
        ),
        evidence=(
            "SMTP '530 5.7.57 Client not authenticated to send mail' without an embedded "
            "'Error: 535 …' (with one, the embedded reply decides)."
        ),
        remedy=remedies(
            "In {smtp_settings}, turn on 'My outgoing server requires authentication' (or the "
            "equivalent) with the same user name and password as for receiving, then look at the "
            "sign-in error the client shows."
        ),
        scope="explain",
        patterns=(
            Pattern(
                r"client not authenticated to send mail|client was not authenticated to send "
                r"anonymous mail",
                source="responses.yaml smtp-530-5-7-57-not-authenticated",
            ),
            Pattern(
                r"requires a secure connection or the client was not authenticated",
                variant="dotnet",
                source="System.Net.Mail's MustIssueStartTlsFirst message",
            ),
            Pattern(
                r"\bauthentication required\b",
                variant="rfc",
                status="530",
                source="RFC 4954 '530 5.7.0 Authentication required' (any server)",
                examples=("530 5.7.0 Authentication required",),
            ),
        ),
        variants={
            "rfc": Variant(
                detail=(
                    "The server answered '{sentence}', SMTP's standard reply (RFC 4954) to a "
                    "command that needs a signed-in session: the client sent mail without a "
                    "successful sign-in. It was not set to sign in, or its sign-in failed and it "
                    "carried on. This is not a refused password."
                ),
            ),
            "dotnet": Variant(
                detail=(
                    "This is .NET's wording ('{sentence}'), which it shows for Microsoft's '530 "
                    "5.7.57 Client not authenticated' and labels MustIssueStartTlsFirst. It "
                    "points at TLS, but the cause is the sign-in: look for the server's own "
                    "text after 'The server response was:'."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="send-as-denied",
        severity=Severity.CRITICAL,
        layer="result",
        title="You may not send as this sender",
        meaning=(
            "The server answered '{sentence}': the sign-in worked, but the From address is not "
            "the signed-in mailbox and the user has no 'Send As' right on it. SMTP AUTH cannot "
            "send for arbitrary senders. Repeated attempts get the mailbox throttled."
        ),
        evidence=(
            "At the end of DATA: 550 5.7.60 'Client does not have permissions to send as this "
            "sender', 554 5.2.0 …SendAsDenied…, 554 5.2.252 SendAsDenied."
        ),
        remedy=remedies(
            "Send with your own address as From ({user}: the address of the account in {client}), "
            "or ask for Send As permission on the other address."
        ),
        admin_action=(
            "`Add-RecipientPermission -Identity <From address> -Trustee {user} -AccessRights "
            "SendAs`"
        ),
        scope="explain",
        patterns=(
            Pattern(
                r"does not have permissions to send as|sendasdenied|not allowed to send as",
                source="responses.yaml smtp-5-7-60-*, smtp-554-sendasdenied-storedrv",
                examples=(
                    "554 5.2.252 SendAsDenied; anna@contoso.com not allowed to send as"
                    " boss@contoso.com;",
                ),
            ),
        ),
    ),
)
