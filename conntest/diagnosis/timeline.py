"""Microsoft's retirement of basic authentication and old TLS, as dated facts.

Date-dependent facts live in ONE place, :data:`RETIREMENT_TIMELINE`; texts cite it
(``{timeline[KEY]}``), verdicts never depend on today's date.
"""

from __future__ import annotations

from collections.abc import Mapping

from conntest.record import record

TYPE_CHECKING = False  # typing and datetime stay out of ``conntest explain`` (issue 12)
if TYPE_CHECKING:
    from typing import Literal


@record(frozen=True)
class TimelineEntry:
    """One dated fact of Microsoft's retirement of basic authentication and old TLS."""

    key: str
    when: str
    """ISO date, month or range (``2023-01``, ``2026-07-01/2026-12-31``, ``2027-H2``)."""
    label: str
    """The date as people read it."""
    scope: str
    event: str
    status: Literal["done", "announced", "superseded"]
    source: str
    effective: str | None = None
    """The day date-aware advice counts to (:mod:`conntest.diagnosis.retirement`), as an ISO
    date, where the announcement names a month: its last day, so nothing is said to have
    happened early."""
    quote: str = ""
    """Microsoft's own words, where advice quotes them."""


RETIREMENT_TIMELINE: tuple[TimelineEntry, ...] = (
    TimelineEntry(
        key="tls-legacy-unsupported",
        when="2020-10",
        label="October 2020",
        scope="Exchange Online, all protocols",
        event="TLS 1.0 and 1.1 no longer supported",
        status="done",
        source=(
            "https://github.com/MicrosoftDocs/OfficeDocs-Exchange (opt-in endpoint for legacy TLS)"
        ),
    ),
    TimelineEntry(
        key="smtp-tls-legacy-off",
        when="2022-02",
        label="February 2022",
        scope="SMTP AUTH, smtp.office365.com",
        event=(
            "TLS 1.0/1.1 disabled on the default endpoint (reply 421 4.7.66); tenants that opt in "
            "with AllowLegacyTLSClients may use smtp-legacy.office365.com"
        ),
        status="done",
        source=(
            "https://techcommunity.microsoft.com/blog/exchange/new-opt-in-endpoint-available-for-smtp-auth-clients-still-needing-legacy-tls/2659652"
        ),
    ),
    TimelineEntry(
        key="work-basic-auth-off",
        when="2022-10-01",
        label="1 October 2022",
        scope="Work/school tenants: IMAP, POP, EAS, EWS, RPS, MAPI",
        event="basic authentication switched off tenant by tenant",
        status="done",
        source=(
            "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-email-applications-stopped-signing-in-or-keep/ba-p/3641943"
        ),
    ),
    TimelineEntry(
        key="work-basic-auth-permanent",
        when="2023-01",
        label="January 2023",
        scope="Work/school tenants: IMAP, POP, EAS, EWS, RPS, MAPI",
        event=(
            "basic authentication permanently off; re-enabling is not possible, "
            "not even by Microsoft support"
        ),
        status="done",
        source=(
            "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-email-applications-stopped-signing-in-or-keep/ba-p/3641943"
        ),
    ),
    TimelineEntry(
        key="popimap-tls-legacy-off",
        when="2023-02/2023-04-30",
        label="February to April 2023",
        scope="POP/IMAP, outlook.office365.com",
        event="TLS 1.0/1.1 refused on the regular endpoint (legacy opt-in endpoints kept)",
        status="done",
        source=(
            "https://techcommunity.microsoft.com/blog/exchange/new-opt-in-endpoint-for-pop3imap4-clients-that-need-legacy-tls/3710395"
        ),
    ),
    TimelineEntry(
        key="consumer-basic-auth-off",
        when="2024-09-16",
        label="16 September 2024",
        scope="Personal accounts (Outlook.com, Hotmail, Live, MSN)",
        event=(
            "basic authentication, app passwords included, no longer accepted from "
            "non-Microsoft apps; modern authentication required"
        ),
        status="done",
        source=(
            "Microsoft support article 'Modern authentication methods now needed to continue "
            "syncing Outlook email in non-Microsoft email apps'"
        ),
    ),
    TimelineEntry(
        key="smtp-basic-retire-2025",
        when="2025-09",
        label="September 2025",
        scope="SMTP AUTH basic authentication (Client Submission)",
        event="announced removal (April 2024); replaced by later plans",
        status="superseded",
        source=(
            "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-to-retire-basic-auth-for-client-submission-smtp/ba-p/4114750"
        ),
    ),
    TimelineEntry(
        key="smtp-basic-retire-2026",
        when="2026-03-01/2026-04-30",
        label="1 March to 30 April 2026",
        scope="SMTP AUTH basic authentication (Client Submission)",
        event="announced gradual rejection (June 2025 update); replaced by the January 2026 plan",
        status="superseded",
        source=(
            "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-to-retire-basic-auth-for-client-submission-smtp/ba-p/4114750"
        ),
    ),
    TimelineEntry(
        key="popimap-tls-legacy-retired",
        when="2026-07-01/2026-12-31",
        label="1 July to 31 December 2026",
        scope="POP/IMAP, including imap-legacy/pop-legacy.office365.com",
        event="legacy TLS retired entirely (MC1293480)",
        status="announced",
        source="https://mc.merill.net/message/MC1293480",
    ),
    TimelineEntry(
        key="smtp-basic-default-off",
        when="2026-12",
        label="end of December 2026",
        effective="2026-12-31",
        quote=(
            "End of December 2026: disabled by default for existing tenants. Administrators "
            "will still be able to enable it if needed."
        ),
        scope="SMTP AUTH basic authentication",
        event=(
            "disabled by default for existing tenants (administrators can still enable it); "
            "unavailable by default for new tenants"
        ),
        status="announced",
        source=(
            "https://techcommunity.microsoft.com/blog/exchange/updated-exchange-online-smtp-auth-basic-authentication-deprecation-timeline/4489835"
        ),
    ),
    TimelineEntry(
        key="smtp-basic-final",
        when="2027-H2",
        label="the second half of 2027",
        quote="Second half of 2027: Microsoft will announce the final removal date.",
        scope="SMTP AUTH basic authentication",
        event=(
            "Microsoft to announce the final removal date; the announced reply is "
            "'550 5.7.30 Basic authentication is not supported for Client Submission.'"
        ),
        status="announced",
        source=(
            "https://techcommunity.microsoft.com/blog/exchange/updated-exchange-online-smtp-auth-basic-authentication-deprecation-timeline/4489835"
        ),
    ),
)


def cite(key: str) -> str:
    """The date of one timeline entry as a phrase for running text: ``since January 2023``.

    The sentence around it says what happened; the table (and docs/diagnoses.md) holds
    the scope, the event and the source.
    """
    entry = next(e for e in RETIREMENT_TIMELINE if e.key == key)
    when = {"done": "since", "announced": "planned for", "superseded": "once planned for"}
    return f"{when[entry.status]} {entry.label}"


TIMELINE_CITES: Mapping[str, str] = {e.key: cite(e.key) for e in RETIREMENT_TIMELINE}
