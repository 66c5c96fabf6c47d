"""Sentences shared by several codes: how each kind of client reaches modern
authentication, what would decide an ambiguous refusal, cross-protocol notes.

Texts only (templates, ``str.format`` syntax); the codes in
:mod:`conntest.diagnosis.codes` and the rules fill them.
"""

from __future__ import annotations

from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from conntest.diagnosis.vocabulary import ClientKind

# --------------------------------------------------------------------------------------
# How each kind of client reaches modern authentication.  {modern_auth} in remedies.
# --------------------------------------------------------------------------------------

MODERN_AUTH: Mapping[ClientKind, str] = {
    "oauth2": (
        "{client} can sign in to Microsoft 365 with OAuth2 (modern authentication): "
        "{oauth2_how}. Then sign in once in the Microsoft window that opens."
    ),
    "switch": (
        "{client} cannot use OAuth2 for an IMAP/SMTP account, so a password will not work "
        "any more. Re-add the mailbox as an account type that uses modern authentication: "
        "{oauth2_how}."
    ),
    "none": (
        "{client} cannot sign in to Microsoft 365 with modern authentication. Read mail with a "
        "client that can (for example Thunderbird with OAuth2); for sending from this device, an "
        "administrator can set up an SMTP relay through a connector, or High Volume Email, "
        "which do not need SMTP AUTH."
    ),
    "unknown": (
        "Switch the mail client to OAuth2 (modern authentication) if it offers it (Thunderbird: "
        "Account Settings → Server Settings → Authentication method → OAuth2). Outlook 2016 "
        "with an IMAP account and iOS Mail 'Other' accounts cannot: re-add the mailbox as a "
        "Microsoft 365 / Microsoft Exchange account. Devices that cannot do OAuth2 at all need "
        "an SMTP relay (connector) or High Volume Email for sending."
    ),
}

OAUTH2_HOW_FALLBACK = "choose OAuth2 as the authentication method in the account's server settings"

GENERIC_PLACES: Mapping[str, str] = {
    "client": "your mail client",
    "imap_settings": "the incoming-server (IMAP) settings",
    "smtp_settings": "the outgoing-server (SMTP) settings",
    "password_path": "the place where the client stores the password",
}
"""Wording used when no profile is given or a profile leaves a path empty."""

RELAY_REMEDY = (
    "If {client} cannot use SMTP AUTH at all, an administrator can let it send through "
    "an SMTP relay (an inbound connector for your public IP address) or High Volume Email."
)

DECIDE: Mapping[str, str] = {
    "no-smtp": (
        "An SMTP AUTH result for the same credentials would tell a wrong password from a policy "
        "block: run the check with SMTP included. Microsoft 365 mailboxes no longer accept "
        "passwords over IMAP at all: work and school tenants "
        "{timeline[work-basic-auth-permanent]}, personal accounts "
        "{timeline[consumer-basic-auth-off]}."
    ),
    "smtp-undecided": (
        "SMTP could not confirm the password either ({smtp_said}). Signing in with OAuth2, or "
        "the user's Entra sign-in log, would tell a wrong password from a policy block. "
        "Microsoft 365 mailboxes no longer accept passwords over IMAP at all: work and school "
        "tenants {timeline[work-basic-auth-permanent]}, personal accounts "
        "{timeline[consumer-basic-auth-off]}."
    ),
    "smtp": "The user's Entra sign-in log shows the reason.",
    "explain": (
        "An SMTP AUTH result for the same credentials would tell a wrong password from a policy "
        "block: `conntest check` tries both."
    ),
}
"""What would decide an ambiguous refusal (``{decide}`` in ``login-rejected``), by situation."""

NOTES: Mapping[str, str] = {
    "imap-explained-by-credentials": (
        "IMAP's bare refusal ('{imap_sentence}') is explained by it. Even with the right "
        "password, IMAP will not accept a password from a Microsoft 365 work or school mailbox "
        "(basic authentication off {timeline[work-basic-auth-permanent]})."
    ),
    "imap-same-cause": "IMAP's bare refusal ('{imap_sentence}') has the same cause.",
    "imap-accepted": (
        "IMAP accepted the same user name and password, so check the SMTP user name in "
        "{smtp_settings}."
    ),
    "app-password-shape": (
        "The password has the shape of an app password; it may have been revoked, mistyped, or "
        "created for another account."
    ),
}
"""Sentences the cross-protocol rules append to a finding's detail."""

LOCKOUT = (
    "Do not retry again and again: after 10 failed sign-ins Entra ID locks the account "
    "for a while, and a client retrying an old password keeps it locked."
)
"""The advice not to retry a refused password (Entra ID's smart lockout)."""

SIGNIN_LOG = (
    "Entra admin center → Users → {user} → Sign-in logs: the failed sign-in shows the reason "
    "and, for Conditional Access, the policy."
)
"""Where an administrator reads why a sign-in failed."""
