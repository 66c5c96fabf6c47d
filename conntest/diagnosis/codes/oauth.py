"""OAuth2 codes: sign-in with modern authentication (XOAUTH2), token and consent errors.

Decided by :mod:`conntest.diagnosis.rules.oauth` from the numeric ``error_codes``
of the identity platform (oauth.md §3), never from its description, and from
what IMAP and SMTP answered to a valid token.  Causes that already have a code
(Conditional Access, Security Defaults, MFA, a locked account) keep it, with
the OAuth wording in :data:`VARIANTS`, merged into those entries by the
catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping

from conntest.diagnosis.vocabulary import CatalogueEntry, Variant
from conntest.finding import Severity

_SIGNIN_LOG = (
    "Entra admin center → Users → {user} → Sign-in logs shows the failed sign-in "
    "({aadsts}) and its reason."
)

ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="identity-unreachable",
        severity=Severity.CRITICAL,
        layer="connect",
        title="The Microsoft sign-in service cannot be reached from here",
        meaning=(
            "Before signing in, conntest checked {host} the way MSAL will reach it: {why}. "
            "Without it no OAuth2 sign-in can start, whatever the account."
        ),
        evidence=(
            "The identity probe (DNS, TCP 443, verified TLS, the OpenID configuration document) "
            "failed; {why} says at which step."
        ),
        remedy={
            "default": (
                "Let this device reach https://{host} directly: a proxy or firewall must allow "
                "it, and a TLS-inspecting proxy must not re-sign it (or its CA must be trusted "
                "by {client})."
            )
        },
        admin_action=(
            "Exempt login.microsoftonline.com from TLS inspection and allow outbound HTTPS to "
            "it; check the proxy settings of this network."
        ),
        variants={
            "intercepted": Variant(
                title="A TLS-inspecting proxy re-signs the Microsoft sign-in service",
                detail=(
                    "{host} presented a certificate issued by {issuer_name}, which this device "
                    "does not trust ({verify}). Sign-in would fail inside MSAL with a TLS error."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="oauth-consent-required",
        severity=Severity.CRITICAL,
        layer="auth",
        title="Nobody has consented to the app that signs in ({aadsts})",
        meaning=(
            "Microsoft's sign-in service refused the token because the app registration "
            "(client id) has no consent for the Outlook IMAP and SMTP permissions in this "
            "organisation."
        ),
        evidence="error_codes 65001, 90094 or 90095 from the token endpoint.",
        remedy={
            "default": (
                "Sign in again in {client} and accept the consent prompt if one appears; if it "
                "says 'Need admin approval', ask an administrator to grant consent."
            )
        },
        admin_action=(
            "Entra admin center → Enterprise applications → the app → Permissions → Grant admin "
            "consent for IMAP.AccessAsUser.All and SMTP.Send (Office 365 Exchange Online)."
        ),
        variants={
            "admin": Variant(
                title="The app needs an administrator's approval ({aadsts})",
                detail=(
                    "The organisation does not let users consent to this app themselves: an "
                    "administrator must grant consent for the Outlook IMAP and SMTP permissions."
                ),
                remedy={
                    "default": "Ask an administrator to grant consent, then sign in again in "
                    "{client}."
                },
            ),
        },
    ),
    CatalogueEntry(
        code="oauth-app-misconfigured",
        severity=Severity.CRITICAL,
        layer="local",
        title="The app registration used to sign in is wrong ({aadsts})",
        meaning=(
            "The identity platform refused the app itself, before looking at the account: {why}."
        ),
        evidence=(
            "error_codes 700016, 7000218, 7000112, 50011, 500113, 900971, 700022, 70011, 65005, "
            "650056 or 650057."
        ),
        remedy={
            "default": (
                "Check --client-id and --tenant (docs/oauth.md walks through the registration); "
                "{client} signs in with its own app, so this does not affect it."
            )
        },
        admin_action=(
            "Entra admin center → App registrations → the app: {fix}. docs/oauth.md lists every "
            "setting."
        ),
    ),
    CatalogueEntry(
        code="oauth-device-required",
        severity=Severity.CRITICAL,
        layer="auth",
        title="Sign-in needs a compliant or domain-joined device ({aadsts})",
        meaning=(
            "A Conditional Access policy only lets managed devices sign in. A device-code "
            "sign-in can never satisfy it."
        ),
        evidence="error_codes 53000, 53001 or 50097.",
        remedy={
            "default": (
                "Sign in with the browser on a device the organisation manages (enrolled in "
                "Intune or joined to the domain), and use {client} on such a device."
            )
        },
        admin_action=_SIGNIN_LOG,
    ),
    CatalogueEntry(
        code="oauth-wrong-account-type",
        severity=Severity.CRITICAL,
        layer="local",
        title="The account does not belong to the tenant or account type asked for ({aadsts})",
        meaning=(
            "The sign-in was for tenant '{tenant}', and the account {user} is not in it (a "
            "personal account on a work-only app, an external account, or the wrong tenant)."
        ),
        evidence="error_codes 50020, 50034, 500200, 9002332, 50194 or 90072.",
        remedy={
            "default": (
                "Use --tenant organizations for work or school accounts, consumers for "
                "Outlook.com, or the organisation's tenant id or domain; in {client}, sign in "
                "with the account of this mailbox."
            )
        },
    ),
    CatalogueEntry(
        code="oauth-reauth-required",
        severity=Severity.UNKNOWN,
        layer="auth",
        title="Sign in again: the saved sign-in cannot be used ({why})",
        meaning=(
            "The refresh token conntest saved for {user} expired or was revoked (90 days "
            "unused, a password change, a sign-in frequency policy), so it could not get a new "
            "token without the user."
        ),
        evidence="error_codes 700082, 70043, 50173 or 54005 on the refresh.",
        remedy={"default": ("Run: {login_command} (and in {client}, sign in again when it asks).")},
        variants={
            "no-token": Variant(
                title="No saved sign-in for {user}: this headless check did not prompt",
                detail=(
                    "A check without a terminal never opens a browser or asks for a code, and "
                    "no saved sign-in for this account and app was found."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="oauth-token-rejected",
        severity=Severity.CRITICAL,
        layer="auth",
        title="{protocol_name} refused a valid OAuth2 token",
        meaning=(
            "The identity platform issued a token, and {protocol_name} answered '{sentence}'. "
            "Exchange Online does this for a token for the wrong resource (Microsoft Graph "
            "instead of Outlook: the Entra portal lists the IMAP and SMTP permissions under "
            "Microsoft Graph, which misleads), a token without the IMAP or SMTP scope, or a "
            "token of another mailbox than user={user}."
        ),
        evidence="XOAUTH2 refused (NO AUTHENTICATE failed. / 535 5.7.3) after a token was issued.",
        remedy={
            "default": (
                "Request the Outlook scopes (https://outlook.office.com/IMAP.AccessAsUser.All "
                "and SMTP.Send, which conntest does) and sign in as {user}; {client} requests "
                "the right ones itself."
            )
        },
        admin_action=(
            "App registration → API permissions: add IMAP.AccessAsUser.All and SMTP.Send "
            "from 'Office 365 Exchange Online' (APIs my organization uses), not Microsoft Graph."
        ),
    ),
    CatalogueEntry(
        code="account-kind",
        severity=Severity.INFO,
        layer="result",
        title="{user} is a Microsoft 365 work or school account (tenant {tenant_id})",
        meaning=(
            "Microsoft's identity platform knows {domain} as a managed work or school domain: "
            "the password (or OAuth2 sign-in) is checked by Entra ID itself."
        ),
        evidence=(
            "The identity realm step (user realm and OpenID configuration, which carry no "
            "credential; a password or token waits up to half a second for them) and, when the "
            "realm is 'Unknown', the domain's MX answer; informational, it never decides the "
            "verdict."
        ),
        remedy={"default": "Nothing to change for this; {client} signs in against Entra ID."},
        decisive=False,
        variants={
            "federated": Variant(
                title="{user} is a work or school account signed in by {idp_host} (federated)",
                detail=(
                    "{domain} is federated: Entra ID (tenant {tenant_id}) hands the sign-in to "
                    "the organisation's own identity provider at {idp_host}, so a password is "
                    "checked there, and that server's outages or policies apply too."
                ),
                remedy={
                    "default": (
                        "If sign-in fails, the organisation's identity provider ({idp_host}) is "
                        "one more place to look; {client} still connects to Microsoft 365."
                    )
                },
            ),
            "not-work": Variant(
                title="{user} is not a work or school account, though {domain}'s mail goes "
                "to Microsoft",
                detail=(
                    "Microsoft's identity platform answered 'Unknown' for {domain}: it is "
                    "neither a managed nor a federated work or school domain. Its mail goes to "
                    "Microsoft ({exchanges}). The identity platform's documented answers do "
                    "not tell a personal Microsoft account (Outlook.com, Hotmail) from an "
                    "address it does not know, so conntest does not guess which."
                ),
                remedy={
                    "default": (
                        "If this is a personal Microsoft account: Microsoft refuses passwords "
                        "from other apps for those since {timeline[consumer-basic-auth-off]}, "
                        "app passwords included, so {client} needs modern authentication "
                        "(--tenant consumers for --oauth). {modern_auth} If it is a work or "
                        "school mailbox, ask the administrator for the address to sign in "
                        "with."
                    )
                },
            ),
            "unknown": Variant(
                title="{user} is not a work or school account Microsoft's identity platform knows",
                detail=(
                    "Microsoft's identity platform answered 'Unknown' for {domain}: it is "
                    "neither a managed nor a federated work or school domain. With no MX "
                    "answer to compare, conntest cannot tell a personal Microsoft account "
                    "from a domain that is not on Microsoft 365."
                ),
                remedy={
                    "default": (
                        "If {domain} is hosted elsewhere, use its provider's servers in "
                        "{client}; if it is a personal Microsoft account, {client} needs "
                        "modern authentication (--tenant consumers for --oauth)."
                    )
                },
            ),
            "none": Variant(
                title="{domain} is not on Microsoft 365",
                detail=(
                    "Microsoft's identity platform does not know {domain} as a work or school "
                    "domain (user realm 'Unknown'), and its mail does not go to Microsoft "
                    "(MX: {exchanges}): this mailbox is hosted elsewhere, and the Microsoft "
                    "servers are the wrong ones for it."
                ),
                remedy={
                    "default": (
                        "Ask the mail provider for its server names and use them in {client}: "
                        "{imap_settings} and {smtp_settings}."
                    )
                },
            ),
        },
    ),
    CatalogueEntry(
        code="oauth-signin-failed",
        severity=Severity.CRITICAL,
        layer="auth",
        title="The OAuth2 sign-in failed ({aadsts})",
        meaning="The identity platform refused the sign-in: {why}.",
        evidence="Any other error of the sign-in; the error and its codes are quoted.",
        remedy={"default": "Look the code up in the sign-in log, then sign in again in {client}."},
        admin_action=_SIGNIN_LOG,
    ),
)

VARIANTS: Mapping[str, Mapping[str, Variant]] = {
    "conditional-access-blocked": {
        "oauth": Variant(
            title="A Conditional Access policy blocks the OAuth2 sign-in ({aadsts})",
            detail="The identity platform refused the sign-in under a Conditional Access policy.",
            admin_action=_SIGNIN_LOG,
        ),
        "oauth-device-code": Variant(
            title="Your tenant probably blocks device-code sign-in ({aadsts})",
            detail=(
                "The device-code sign-in was refused by Conditional Access. Microsoft rolls out "
                "a managed policy 'Block device code flow' to tenants that have not used device "
                "code recently; browser sign-in is not affected by it."
            ),
            remedy={
                "default": (
                    "Use browser sign-in: run the check without --device-code; {client} "
                    "signs in through the browser too."
                )
            },
            admin_action=_SIGNIN_LOG,
        ),
    },
    "security-defaults": {
        "oauth": Variant(
            title="Security defaults blocked this sign-in ({aadsts})",
            detail="The identity platform refused the sign-in under the security defaults.",
            remedy={"default": "Sign in interactively in {client} and complete the MFA prompt."},
        ),
    },
    "mfa-required": {
        "oauth": Variant(
            title="The account must finish multi-factor sign-in or its registration ({aadsts})",
            detail=(
                "The identity platform needs multi-factor authentication, or the user has not "
                "registered a second factor yet."
            ),
            remedy={
                "default": (
                    "Sign in interactively in {client} (browser) and finish the MFA prompt; if "
                    "asked, register security info first (My Sign-Ins → Security info)."
                )
            },
        ),
    },
    "tls-intercepted": {
        "identity-trusted": Variant(
            severity=Severity.WARNING,
            title="The Microsoft sign-in service is inspected by {issuer_name}",
            detail=(
                "The certificate presented for {host} was issued by {issuer_name} ({issuer}), "
                "not by a public certificate authority that Microsoft uses. This device trusts "
                "it, so sign-in works here, but a device on the way decrypts the sign-in and the "
                "tokens it returns; clients with their own certificate store (Thunderbird) may "
                "refuse it."
            ),
            remedy={
                "default": (
                    "Ask your network administrator to exempt {host} from TLS inspection. Do "
                    "not make {client} accept the certificate: whoever issued it can read the "
                    "sign-in."
                )
            },
            admin_action=(
                "Exempt {host}:443 from TLS/SSL inspection on the device that issues "
                "certificates as '{issuer_name}'."
            ),
        ),
    },
    "imap-disabled": {
        "oauth": Variant(
            title="Signed in with OAuth2, but the mailbox cannot be opened over IMAP",
            detail=(
                "The token was accepted ('OK AUTHENTICATE completed.'), then the first mailbox "
                "command got '{sentence}': IMAP is disabled for the mailbox. The sign-in is not "
                "the problem."
            ),
            remedy={
                "default": (
                    "Ask your administrator to enable IMAP for this mailbox (action below), then "
                    "wait about 30 minutes before trying {client} again."
                )
            },
            admin_action=(
                "`Get-CASMailbox -Identity {user} | Format-List ImapEnabled`; enable with "
                "`Set-CASMailbox -Identity {user} -ImapEnabled $true`, then allow about 30 "
                "minutes for it to take effect (Microsoft's own test script says so)."
            ),
        ),
    },
    "account-locked": {
        "oauth": Variant(
            title="The account is locked or disabled ({aadsts})",
            detail="The identity platform refused the sign-in because the account is locked.",
        ),
    },
}
"""OAuth wording for codes other modules own (merged by the catalogue)."""
