"""The December 2026 change: a password sign-in to SMTP that still works, and what comes next.

``basic-auth-retiring`` is advice, not a failure: SMTP AUTH accepted the password,
and Microsoft disables SMTP AUTH basic authentication by default for existing
tenants at the end of December 2026.  Its variants follow today's date (the
diagnosis context's, never the clock): ``before`` (info), ``window`` and ``after``
(warning); see :mod:`conntest.diagnosis.retirement`.  The dates and Microsoft's
words come from the timeline, filled in by :mod:`conntest.diagnosis.rules.retirement`.

``client-cannot-use-oauth`` keeps an ``--oauth`` run honest for a client that has no
OAuth2 for IMAP and SMTP (Outlook 2016, iOS Mail "Other → IMAP"): conntest's own
XOAUTH2 sign-in proves the mailbox accepts modern authentication, not that the
client can use it.

Data only; :mod:`conntest.diagnosis.catalogue` assembles the modules of this package.
"""

from __future__ import annotations

from collections.abc import Mapping

from conntest.diagnosis.vocabulary import CatalogueEntry, Variant, remedies
from conntest.finding import Severity

_MOVE = remedies(
    "{modern_auth}",
    oauth2=("Move {client} to OAuth2 while the password still works: {way_steps} {way_check}"),
    switch="{client} cannot use OAuth2 for this account. {way_summary}: {way_steps} {way_extra}",
    none=(
        "{client} cannot sign in with modern authentication. Before the change, an "
        "administrator moves its sending to High Volume Email, Direct Send or an SMTP relay "
        "connector (each has its limits: internal recipients only, your own tenant only, or a "
        "static IP address; see docs/migration.md)."
    ),
)

DEFAULT_VALUES: Mapping[str, str] = {
    "change_label": "end of December 2026",
    "change_quote": "",
    "final_label": "the second half of 2027",
    "final_quote": "",
    "today": "today",
    "days_left": "?",
    "days_since": "?",
    "window": "60",
    "way_summary": "Move to modern authentication",
    "way_steps": "",
    "way_check": "",
    "way_extra": "",
    "way_then": "",
    "signed_in": "the mail servers",
}
"""Neutral words for this module's placeholders (the rule fills them from the timeline and
the profile)."""

_WAY = remedies(
    "{modern_auth}",
    switch="{client}, the way forward: {way_summary}: {way_steps}{way_then}",
    none=(
        "{client} cannot sign in with modern authentication: an administrator moves its "
        "sending to High Volume Email, Direct Send or an SMTP relay connector (each has its "
        "limits: internal recipients only, your own tenant only, or a static IP address; see "
        "docs/migration.md), and mail is read with a client that can use OAuth2."
    ),
)

ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="basic-auth-retiring",
        severity=Severity.WARNING,
        layer="auth",
        title="{client} still sends with a password, which Microsoft turns off by default at the "
        "{change_label}",
        meaning=(
            "SMTP AUTH accepted {client}'s user name and password: sending depends on basic "
            "authentication. Microsoft disables SMTP AUTH basic authentication by default for "
            "existing tenants at the {change_label}: in {days_left} days, counted from "
            '{today}. Microsoft (27 January 2026): "{change_quote}" "{final_quote}" Then '
            "{client} stops sending with this password unless an administrator re-enables it."
        ),
        evidence=(
            "A password sign-in (AUTH LOGIN or PLAIN, not XOAUTH2) to a Microsoft 365 SMTP host "
            "(…office365.com, …outlook.com) succeeded. The severity follows today's date, which "
            "the front end sets (`--today`, `$CONNTEST_TODAY`, else the local date): info more "
            "than `--retirement-window` days (default 60) before the date, warning within them "
            "and on or after it. Without a date the advice is not given."
        ),
        remedy=_MOVE,
        admin_action=(
            "Find every account and device that still sends with a password before the change: "
            '`conntest_basic_auth_in_use{{protocol="smtp"}}` in conntest\'s Prometheus output '
            "(docs/monitoring.md, 'Finding what breaks at the end of December 2026'). Devices "
            "that cannot do OAuth2 need High Volume Email, Direct Send or an SMTP relay "
            "connector (docs/migration.md)."
        ),
        variants={
            "before": Variant(
                severity=Severity.INFO,
                title="{client} sends with a password (basic authentication), which Microsoft "
                "turns off by default at the {change_label}",
            ),
            "window": Variant(severity=Severity.WARNING),
            "after": Variant(
                severity=Severity.WARNING,
                title="{client} still sends with a password after Microsoft's "
                "{change_label} change",
                detail=(
                    "SMTP AUTH accepted {client}'s user name and password on {today}, although "
                    "Microsoft has disabled SMTP AUTH basic authentication by default for "
                    "existing tenants since the {change_label} ({days_since} days ago): an "
                    "administrator re-enabled it, or the change has not reached this tenant yet. "
                    "Microsoft announces the final removal date in {final_label}; after it, no "
                    "setting brings basic authentication back."
                ),
            ),
        },
        decisive=False,
    ),
    CatalogueEntry(
        code="client-cannot-use-oauth",
        severity=Severity.WARNING,
        layer="auth",
        title="The mailbox accepts OAuth2, but {client} cannot use it",
        meaning=(
            "conntest signed in to {signed_in} as {user} with OAuth2 (XOAUTH2): the mailbox "
            "accepts modern authentication. {client} cannot sign in that way: over IMAP and "
            "SMTP it sends a user name and password, which Microsoft 365 no longer accepts on "
            "IMAP (work and school tenants {timeline[work-basic-auth-permanent]}) and disables "
            "by default on SMTP at the {change_label}. These were conntest's own sign-ins: "
            "they do not show that {client}, as set up, works."
        ),
        evidence=(
            "An `--oauth` run (conntest signs in with XOAUTH2 itself) for a profile whose "
            "`oauth2.supported` is false. Warning, not OK: the client as configured is "
            "broken for receiving and breaks for sending; the verdict says so instead of "
            "reporting conntest's own sign-in as the client's. Placeholder: `{signed_in}`."
        ),
        remedy=_WAY,
        variants={
            "unproven": Variant(
                title="{client} cannot use OAuth2, and conntest's own OAuth2 sign-in did not "
                "get through either",
                detail=(
                    "conntest's OAuth2 (XOAUTH2) sign-in as {user} did not succeed (see the "
                    "other findings), so this run does not show whether the mailbox accepts "
                    "modern authentication. Either way {client} cannot sign in that way: over "
                    "IMAP and SMTP it sends a user name and password."
                ),
            ),
        },
        decisive=False,
    ),
)

NOTES: Mapping[str, str] = {
    "basic-auth-disabled-after-change": (
        "Today ({today}) is on or after the {change_label}, when Microsoft disables SMTP AUTH "
        "basic authentication by default for existing tenants, so this is probably that "
        "default (an inference from the date: the reply does not say which setting refused "
        "it). An administrator can still re-enable it until the final removal date, which "
        "Microsoft announces in {final_label}."
    ),
}
"""Sentences :mod:`conntest.diagnosis.rules.retirement` appends to other findings."""
