"""Mailbox codes: the mailbox itself (IMAP switched off for it, quota full).

Data only; :mod:`conntest.diagnosis.catalogue` assembles the modules of this package.
"""

from __future__ import annotations

from conntest.diagnosis.vocabulary import CatalogueEntry, Pattern, Variant, remedies
from conntest.finding import Severity

ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="imap-disabled",
        severity=Severity.CRITICAL,
        layer="mailbox",
        title="Signed in, but the mailbox cannot be opened over IMAP",
        meaning=(
            "The sign-in succeeded (so the password is right), then the first mailbox command got "
            "'{sentence}'. Exchange Online answers this way when IMAP is switched off for the "
            "mailbox (or the Outlook.com setting 'Let devices and apps use IMAP' is off), when a "
            "Client Access Rule does not allow IMAP4, when the account has no Exchange Online "
            "licence, when a shared mailbox is addressed the wrong way, and sometimes during a "
            "backend problem."
        ),
        evidence=(
            "IMAP 'BAD User is authenticated but not connected.' on the first mailbox command "
            "(NAMESPACE, LIST, SELECT, EXAMINE) after 'OK LOGIN completed.'."
        ),
        remedy=remedies(
            "Personal Outlook.com account: Outlook.com → Settings → Mail → Forwarding and IMAP → "
            "allow devices and apps to use IMAP. Shared mailbox: the IMAP user name is "
            "you@example.com\\shared@example.com with your own password ({imap_settings}). Work "
            "account: ask your administrator (action below)."
        ),
        admin_action=(
            "`Get-CASMailbox -Identity {user} | Format-List ImapEnabled`; enable with "
            "`Set-CASMailbox -Identity {user} -ImapEnabled $true`. Check `Get-ClientAccessRule` "
            "for "
            "rules that do not allow IMAP4, that the user has an Exchange Online licence, and for "
            "shared mailboxes the user@domain\\shared@domain syntax."
        ),
        patterns=(
            Pattern(
                r"user is authenticated but not connected",
                source="responses.yaml imap-bad-authenticated-not-connected-*",
            ),
        ),
    ),
    CatalogueEntry(
        code="mailbox-full",
        severity=Severity.CRITICAL,
        layer="result",
        title="The mailbox is full",
        meaning=(
            "The server answered '{sentence}': the sending mailbox is over its quota. Mail sent "
            "through SMTP AUTH is stored in Sent Items, so a full mailbox cannot send; repeated "
            "attempts get it throttled."
        ),
        evidence="554 5.2.2 'mailbox full; …QuotaExceededException…' at the end of DATA.",
        remedy=remedies(
            "Delete or archive mail (empty Deleted Items and Sent Items), then let {client} send "
            "again."
        ),
        admin_action=(
            "`Get-MailboxStatistics -Identity {user}` shows the size; raise the quota or enable "
            "the archive (`Enable-Mailbox -Identity {user} -Archive`)."
        ),
        scope="explain",
        patterns=(
            Pattern(
                # SubmissionQuotaExceeded is the daily recipient limit (throttled), not a
                # full mailbox.
                r"mailbox full|(?<!submission)quotaexceeded",
                source="responses.yaml smtp-554-mailbox-full",
            ),
            Pattern(
                r"^\[overquota\]",
                variant="imap",
                source="IMAP [OVERQUOTA] (RFC 5530)",
                examples=("n1 NO [OVERQUOTA] Sorry",),
            ),
        ),
        variants={
            "imap": Variant(
                detail=(
                    "The server answered '{sentence}'. [OVERQUOTA] is IMAP's standard code "
                    "(RFC 5530) for an operation that would take the mailbox over its quota."
                ),
                remedy=remedies(
                    "Delete or archive mail (empty Deleted Items), then let {client} try again."
                ),
            ),
        },
    ),
)
