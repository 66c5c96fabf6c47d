"""Policy codes: the tenant or Entra ID refuses a password it may well know (basic auth off,
SMTP AUTH off, security defaults, MFA, Conditional Access).

Data only; :mod:`conntest.diagnosis.catalogue` assembles the modules of this package.
"""

from __future__ import annotations

from conntest.diagnosis.vocabulary import CatalogueEntry, Pattern, Variant, remedies
from conntest.diagnosis.wording import RELAY_REMEDY, SIGNIN_LOG
from conntest.finding import Severity

ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="basic-auth-disabled",
        severity=Severity.CRITICAL,
        layer="auth",
        title="Microsoft refuses password sign-in (basic authentication) for {protocol_name}",
        meaning=(
            "The server said basic authentication is disabled: it refuses a user name and "
            "password before checking them, so neither the account password nor an app password "
            "can work. For IMAP and POP this is Microsoft's rule everywhere: work and school "
            "tenants {timeline[work-basic-auth-permanent]}; personal accounts "
            "{timeline[consumer-basic-auth-off]}. For SMTP an authentication policy of the tenant "
            "(or, for personal accounts, Microsoft) blocks it."
        ),
        evidence=(
            "SMTP 535 5.7.139 'basic authentication is disabled', the announced "
            "'550 5.7.30 Basic authentication is not supported for Client Submission', IMAP "
            "'NO Basic authentication is disabled.', IMAP capability LOGINDISABLED (with no "
            "AUTH=PLAIN or AUTH=LOGIN beside it), or IMAP "
            "'LOGIN failed.' while SMTP accepted the same password (the password is right, IMAP "
            "basic authentication is off)."
        ),
        remedy=remedies("{modern_auth}", none="{modern_auth}"),
        admin_action=(
            "IMAP/POP basic authentication cannot be re-enabled in Microsoft 365: move the client "
            "to OAuth2. For SMTP AUTH, check the user's authentication policy: "
            "`Get-User -Identity {user} | Format-List AuthenticationPolicy` and "
            "`Get-AuthenticationPolicy | Format-List Name,AllowBasicAuthSmtp`; "
            "`Set-AuthenticationPolicy -Identity <policy> -AllowBasicAuthSmtp:$true` allows it "
            "until Microsoft turns SMTP AUTH basic authentication off by default "
            "({timeline[smtp-basic-default-off]}; administrators can still turn it on then)."
        ),
        patterns=(
            Pattern(
                r"basic authentication is disabled",
                source=(
                    "responses.yaml smtp-basic-auth-disabled-*, "
                    "imap-no-basic-auth-disabled-consumer"
                ),
            ),
            Pattern(
                r"basic authentication is not supported for client submission",
                variant="5.7.30",
                source="responses.yaml smtp-5-7-30-announced",
            ),
            Pattern(
                # Only without a password mechanism beside it: LOGINDISABLED alone closes the
                # LOGIN command, not AUTHENTICATE PLAIN (RFC 3501 6.2.3).
                r"^(?!.*\bauth=(?:plain|login)\b).*\blogindisabled\b",
                variant="capability",
                source="responses.yaml imap-capability-logindisabled-consumer",
            ),
            Pattern(
                r"no login methods supported",
                variant="no-login-methods",
                source="Jakarta/Angus Mail when the server advertises LOGINDISABLED",
            ),
        ),
        variants={
            "imap-inferred": Variant(
                title="IMAP refuses password sign-in; the password itself is right",
                detail=(
                    "SMTP accepted the same user name and password, so the password is right. "
                    "IMAP still answered '{sentence}': IMAP and POP no longer accept passwords "
                    "(basic authentication) from Microsoft 365 mailboxes — work and school "
                    "tenants {timeline[work-basic-auth-permanent]}; personal accounts "
                    "{timeline[consumer-basic-auth-off]}. Only OAuth2 opens IMAP now."
                ),
                admin_action=(
                    "Nothing to switch back on: IMAP basic authentication cannot be re-enabled "
                    "in Microsoft 365. Move the client to OAuth2."
                ),
            ),
            "capability": Variant(
                detail=(
                    "The IMAP server announces LOGINDISABLED and no password mechanism: it will "
                    "not accept a user name and password at all, only OAuth2. Microsoft does this "
                    "for mailboxes where basic authentication is gone (personal accounts "
                    "{timeline[consumer-basic-auth-off]})."
                ),
            ),
            "5.7.30": Variant(
                detail=(
                    "The server answered '{sentence}': Microsoft's announced final reply once "
                    "basic authentication for SMTP AUTH is removed for good (Microsoft names "
                    "that date {timeline[smtp-basic-final]}). No tenant setting brings it back."
                ),
                admin_action=(
                    "There is no setting to switch back on: basic authentication for Client "
                    "Submission is retired. Use OAuth2, "
                    "an SMTP relay (connector) or High Volume Email."
                ),
            ),
            "no-login-methods": Variant(
                detail=(
                    "The client found no password sign-in method to use ('{sentence}'). Against "
                    "Microsoft 365 that happens when the server advertises LOGINDISABLED: "
                    "password sign-in (basic authentication) is off for this mailbox."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="smtp-auth-disabled",
        severity=Severity.CRITICAL,
        layer="auth",
        title="Sending is switched off: SMTP AUTH is disabled for this {scope_word}",
        meaning=(
            "The server said SMTP AUTH (authenticated sending through smtp.office365.com) is "
            "disabled for the {scope_word}. That switch blocks sending with any sign-in method, "
            "OAuth2 included, so nothing in {client} can fix it."
        ),
        evidence=(
            "SMTP 535 5.7.139 'SmtpClientAuthentication is disabled for the Tenant' or '… for the "
            "Mailbox' ({scope_word})."
        ),
        remedy=remedies(
            "Ask your administrator to allow SMTP AUTH for your mailbox (action below). Until then "
            "{client} cannot send through {smtp_host}.",
            none=(
                "Ask your administrator to allow SMTP AUTH for your mailbox (action below). "
                + RELAY_REMEDY
            ),
        ),
        admin_action=(
            "For this mailbox only (overrides the tenant setting): "
            "`Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled $false`; for the "
            "whole tenant: `Set-TransportConfig -SmtpClientAuthenticationDisabled $false`. "
            "Portal: Microsoft 365 admin center → Users → Active users → {user} → Mail → Manage "
            "email apps → Authenticated SMTP."
        ),
        patterns=(
            Pattern(
                r"smtpclientauthentication is disabled for the (?P<variant>tenant|mailbox)",
                source="responses.yaml smtp-auth-disabled-*",
            ),
            Pattern(r"aka\.ms/smtp_auth_disabled", source="link in the tenant-level reply"),
        ),
        variants={
            "tenant": Variant(
                detail=(
                    "The server said SMTP AUTH is disabled for the Tenant: authenticated sending "
                    "through smtp.office365.com is switched off for the whole organisation "
                    "(Microsoft turned it off for tenants that did not use it). It blocks OAuth2 "
                    "as well, so nothing in {client} can fix it; an administrator can allow it "
                    "for this mailbox alone."
                ),
            ),
            "mailbox": Variant(
                detail=(
                    "The server said SMTP AUTH is disabled for the Mailbox: this mailbox has "
                    "authenticated sending explicitly switched off, OAuth2 included. Personal "
                    "Outlook.com accounts get the same reply and have no switch to change it."
                ),
                admin_action=(
                    "`Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled $false` "
                    "(or `$null` to follow the tenant setting, shown by "
                    "`Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled`)."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="security-defaults",
        severity=Severity.CRITICAL,
        layer="auth",
        title="Security defaults block password sign-in in this organisation",
        meaning=(
            "The server said the user 'is locked by your organization's security defaults "
            "policy'. That is not an account lockout: Entra ID security defaults block every "
            "password (basic authentication) sign-in from mail clients — IMAP, POP and SMTP "
            "alike — whatever the password, and app passwords do not help."
        ),
        evidence=(
            "SMTP 535 5.7.139 'user is locked by your organization's security defaults policy'."
        ),
        remedy=remedies("{modern_auth}", none="{modern_auth}"),
        admin_action=(
            "Keep security defaults and move clients to OAuth2, or replace them with Conditional "
            "Access policies (Entra ID P1) that allow what is needed: Entra admin center → "
            "Identity → Overview → Properties → Manage security defaults."
        ),
        patterns=(
            Pattern(r"security defaults", source="responses.yaml smtp-security-defaults-full"),
        ),
    ),
    CatalogueEntry(
        code="mfa-required",
        severity=Severity.CRITICAL,
        layer="auth",
        title="The account must use multi-factor sign-in",
        meaning=(
            "Microsoft's sign-in service said this account has to complete multi-factor "
            "authentication ('{sentence}'), which a mail client signing in with a password "
            "cannot do."
        ),
        evidence=(
            "Entra ID errors in pasted texts or sign-in logs: AADSTS50076 / AADSTS50079 / "
            "AADSTS50074, or 'multi-factor authentication' required."
        ),
        remedy=remedies(
            "{modern_auth} Where your organisation still allows password sign-in for mail and "
            "app passwords, an app password entered in {client} ({password_path}) works instead "
            "of your account password."
        ),
        admin_action=(
            "Move the client to OAuth2, or (per-user MFA only) allow app passwords. " + SIGNIN_LOG
        ),
        patterns=(
            Pattern(r"\baadsts500(?:76|79|74)\b", source="Entra ID MFA-required errors"),
            Pattern(r"multi-?factor authentication", source="Entra ID sign-in message"),
        ),
    ),
    CatalogueEntry(
        code="conditional-access-blocked",
        severity=Severity.CRITICAL,
        layer="auth",
        title="A Conditional Access policy blocks this sign-in",
        meaning=(
            "The server said the request 'did not meet the criteria to be authenticated "
            "successfully'. Microsoft applies Conditional Access after checking the password, so "
            "the password is right; an organisation policy (legacy authentication blocked, an "
            "unexpected location or device) refused the sign-in."
        ),
        evidence=(
            "SMTP 535 5.7.139 'the request did not meet the criteria to be authenticated "
            "successfully'; Entra AADSTS53003 in pasted texts."
        ),
        remedy=remedies(
            "{modern_auth} If you are on an unusual network (abroad, a VPN), try from your usual "
            "one; otherwise your administrator must act."
        ),
        admin_action=(
            SIGNIN_LOG + " Exclude this use from the policy, or move the client to OAuth2."
        ),
        patterns=(
            Pattern(
                r"did not meet the criteria to be authenticated",
                source="responses.yaml smtp-criteria-not-met",
            ),
            Pattern(
                r"\baadsts53003\b|blocked by conditional access",
                source="Entra ID BlockedByConditionalAccess",
            ),
        ),
    ),
)
