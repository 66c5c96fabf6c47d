"""Sign-in codes: the password and user name as typed, credential refusals, lockout, throttling,
and SASL mechanisms.

Data only; :mod:`conntest.diagnosis.catalogue` assembles the modules of this package.
"""

from __future__ import annotations

from conntest.diagnosis.vocabulary import CatalogueEntry, Pattern, Variant, remedies
from conntest.diagnosis.wording import LOCKOUT, SIGNIN_LOG
from conntest.finding import Severity

ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="password-whitespace",
        severity=Severity.WARNING,
        layer="local",
        title="The password contains {shape}",
        meaning=(
            "The password as entered contains {shape}. Microsoft's servers never report this: to "
            "them a password with an extra space or an invisible character is simply a different, "
            "wrong password. Copying a password from an email, a PDF or a password manager often "
            "adds such characters."
        ),
        evidence=(
            "Found locally before anything is sent ({shape}). Critical and first when a sign-in "
            "was "
            "then refused as a credential failure, or when a retry without them succeeded "
            "(confirmed); a warning otherwise."
        ),
        remedy=remedies(
            "If these characters are not part of your password, re-enter it in {client} without "
            "them (type it rather than paste it): {password_path}."
        ),
        variants={
            "likely": Variant(
                title="Likely cause: the password contains {shape}",
                severity=Severity.CRITICAL,
                detail=(
                    "The password as entered contains {shape}, and the sign-in was refused as a "
                    "credential failure. Microsoft never says 'extra space': a password with one "
                    "is "
                    "a wrong password to it. Copying a password often adds a trailing space or "
                    "line break."
                ),
            ),
            "confirmed": Variant(
                title="Confirmed: the stored password contains {shape}",
                severity=Severity.CRITICAL,
                detail=(
                    "The password as entered contains {shape}. With them removed, the same "
                    "password was accepted, so the password {client} holds is wrong only because "
                    "of these characters."
                ),
                remedy=remedies(
                    "Fix the stored password in {client}: {password_path}. Type it rather than "
                    "paste it, without the extra characters."
                ),
            ),
            "retry-failed": Variant(
                detail=(
                    "The password as entered contains {shape}. A retry without them was refused "
                    "too, so they are not the (only) reason the sign-in fails; they may still be "
                    "a mistake."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="password-not-app-password",
        severity=Severity.WARNING,
        layer="local",
        title="The password does not look like a Microsoft app password",
        meaning=(
            "Microsoft refused the credentials, and this password ({length} characters) does not "
            "have the shape of a Microsoft app password (16 lowercase letters, the documented "
            "format for personal accounts). If the account uses multi-factor sign-in, a mail "
            "client that signs in with a password needs an app password, not the account "
            "password. This is a hint, not a verdict: for work accounts Microsoft does not "
            "document the format, administrators must allow app passwords, and they do not work "
            "at all where Security Defaults or Conditional Access demand modern authentication."
        ),
        evidence=(
            "Local shape check (whitespace removed, not ^[a-z]{16}$) together with an SMTP "
            "credential refusal (5.7.139 'credentials were incorrect' or bare 5.7.3)."
        ),
        remedy=remedies(
            "If your account uses multi-factor sign-in and your organisation allows app "
            "passwords, create one (work account: My Sign-Ins → Security info → Add sign-in "
            "method → App password; personal account: account.microsoft.com → Security) and enter "
            "it in {client}: {password_path}. The lasting fix is modern authentication: "
            "{modern_auth}"
        ),
        admin_action=(
            "App passwords exist only with per-user MFA and when allowed: Entra admin center → "
            "per-user MFA → service settings → 'Allow users to create app passwords'. They stop "
            "working under Security Defaults or a Conditional Access policy blocking legacy "
            "authentication."
        ),
    ),
    CatalogueEntry(
        code="username-format",
        severity=Severity.WARNING,
        layer="local",
        title="The user name is not a full email address",
        meaning=(
            "Microsoft 365 signs IMAP and SMTP in with the full sign-in address (the UPN, "
            "name@example.com); {problem}. For a shared mailbox over IMAP the form is "
            "you@example.com\\shared@example.com with your own password."
        ),
        evidence=(
            "Local check of the user name ({problem}); critical and first when the sign-in was "
            "then refused as a credential failure."
        ),
        remedy=remedies(
            "Set the user name to your full email address in {client}: {imap_settings} "
            "(incoming) and {smtp_settings} (outgoing)."
        ),
        variants={
            "likely": Variant(
                title="Likely cause: the user name is not a full email address",
                severity=Severity.CRITICAL,
            ),
        },
    ),
    CatalogueEntry(
        code="wrong-credentials",
        severity=Severity.CRITICAL,
        layer="auth",
        title="Microsoft says the user name or password is wrong",
        meaning=(
            "The SMTP server checked the user name and password and refused them: "
            "'{sentence}'. Of all of Microsoft's refusals this is the only one that blames the "
            "credentials themselves; blocks by policy use other sentences."
        ),
        evidence=(
            "SMTP AUTH: 535 5.7.139 'the user credentials were incorrect', or the bare "
            "'535 5.7.3 Authentication unsuccessful'; Entra AADSTS50126 in pasted texts. "
            "Decides an ambiguous IMAP 'LOGIN failed.' for the same credentials."
        ),
        remedy=remedies(
            "Check the user name ({user}) and re-enter the password in {client}: {password_path}. "
            "If you changed the password recently, the client may still hold the old one; if "
            "your account uses multi-factor sign-in, the password must be an app password. "
            + LOCKOUT
        ),
        admin_action=SIGNIN_LOG + " Reset the password if needed.",
        patterns=(
            Pattern(
                r"user credentials were incorrect",
                source="responses.yaml smtp-5-7-139-credentials-incorrect",
            ),
            Pattern(
                r"^(?:5\.7\.3 )?authentication unsuccessful\.?$",
                variant="5.7.3",
                enhanced="5.7.3",
                source="responses.yaml smtp-5-7-3-*",
            ),
            Pattern(
                r"^authentication unsuccessful\.?$",
                variant="5.7.3",
                enhanced="",
                status="535",
                source="535 without an enhanced code (older relays)",
            ),
            Pattern(r"\baadsts50126\b", source="Entra ID error InvalidUserNameOrPassword"),
            Pattern(r"invalid username or password", source="Entra ID sign-in message"),
            Pattern(
                r"^5\.7\.8\b",
                variant="rfc",
                enhanced="5.7.8",
                source="RFC 4954 '535 5.7.8 Authentication credentials invalid' (any server)",
                examples=(
                    "535 5.7.8 Authentication credentials invalid",
                    "535 5.7.8 Error: authentication failed: authentication failure",
                ),
            ),
        ),
        variants={
            "rfc": Variant(
                title="The server says the user name or password is wrong",
                detail=(
                    "The server answered '{sentence}'. 5.7.8 is SMTP's standard code (RFC 4954) "
                    "for credentials the server checked and refused: the user name or the "
                    "password is wrong."
                ),
            ),
            "5.7.3": Variant(
                detail=(
                    "The SMTP server refused the sign-in with its generic reply '{sentence}'. "
                    "Since Microsoft gives every policy block its own sentence, this bare form "
                    "today points at the credentials (wrong password or user name, or a token for "
                    "another account); Microsoft's own troubleshooting also lists SMTP AUTH "
                    "switched off, MFA without an app password and Conditional Access as causes."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="login-rejected",
        severity=Severity.CRITICAL,
        layer="auth",
        title="{protocol_name} refused the sign-in without saying why",
        meaning=(
            "The server answered '{sentence}'. Microsoft gives this same answer for a wrong "
            "password, for an account that needs multi-factor sign-in, and for password sign-in "
            "(basic authentication) being switched off, so on its own it does not tell which. "
            "{decide}"
        ),
        evidence=(
            "IMAP 'NO LOGIN failed.' / 'NO AUTHENTICATE failed.', POP '-ERR Logon failure', or any "
            "refusal of a sign-in that conntest does not know, when no other evidence (the SMTP "
            "result for the same credentials) decides it. {decide} names what would."
        ),
        remedy=remedies(
            "{modern_auth} If you sign in with a password, check it in {client}: "
            "{password_path}. " + LOCKOUT
        ),
        admin_action=SIGNIN_LOG,
        decisive=False,
        patterns=(
            Pattern(r"\blogin failed\b", source="responses.yaml imap-login-failed-*"),
            Pattern(r"\bauthenticate failed\b", source="responses.yaml imap-authenticate-failed-*"),
            Pattern(r"\blogon failure\b", source="responses.yaml pop-logon-failure"),
            Pattern(
                r"\bauthentication failure\b.*unknown user name",
                source="responses.yaml pop-auth-failure",
            ),
            Pattern(
                r"\bauthenticationfailed\b|\bauthentication failed\b",
                source="IMAP [AUTHENTICATIONFAILED] (RFC 5530)",
                examples=("b NO [AUTHENTICATIONFAILED] Authentication failed",),
            ),
            Pattern(
                r"^\[auth\]",
                status="-ERR",
                source="POP3 [AUTH] (RFC 3206): the credentials were refused",
            ),
            Pattern(
                r"login to server .* failed",
                variant="client-message",
                source="Thunderbird's login failure dialog",
            ),
            Pattern(
                r"user ?name or password for .* is incorrect",
                variant="client-message",
                source="iOS Mail's sign-in dialog",
            ),
            Pattern(
                r"\b0x800ccc9[02]\b|\b0x800ccc18\b",
                variant="client-message",
                source="Outlook: 'Your e-mail server rejected your login' / logon attempt failed",
            ),
            Pattern(
                r"^authentication unsuccessful\b",
                variant="unknown-sentence",
                source="5.7.139 with a sentence conntest does not know",
                fallback=True,
            ),
        ),
        variants={
            "no-smtp": Variant(),  # {decide} = DECIDE["no-smtp"]
            "smtp-undecided": Variant(),  # {decide} = DECIDE["smtp-undecided"]
            "unknown-sentence": Variant(
                title="Microsoft refused the sign-in for a reason conntest does not know",
                detail=(
                    "The server answered '{sentence}'. Microsoft gives each policy block its own "
                    "sentence after 'Authentication unsuccessful'; this one is not in conntest's "
                    "catalogue yet. Read it: it usually says who must act."
                ),
            ),
            "unknown-refusal": Variant(
                title="{protocol_name} refused the sign-in with an answer conntest does not know",
                detail=(
                    "The server answered '{sentence}'. That answer is not in conntest's "
                    "catalogue, so conntest cannot tell whether the password, the account or a "
                    "policy of the server is the cause. Read it: servers often say who must act. "
                    "{decide}"
                ),
            ),
            "client-message": Variant(
                detail=(
                    "This is the client's own wording for any refused sign-in ('{sentence}'): "
                    "clients show it for a wrong password, an account that needs multi-factor "
                    "sign-in, and for password sign-in being switched off alike. {decide}"
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="account-locked",
        severity=Severity.CRITICAL,
        layer="auth",
        title="The account is locked",
        meaning=(
            "The server said the account is locked. Entra ID smart lockout locks an account "
            "after 10 failed sign-ins (3 in US Government clouds) for at least a minute, longer "
            "each time; a phone or program that keeps retrying an old password keeps it locked. "
            "Sign-ins from a suspicious IP address can be blocked the same way whatever the "
            "password."
        ),
        evidence=(
            "SMTP 535 5.7.139 'account locked' or 'account has an issue' (also inside "
            "'530 5.7.57 … Error: 535 …'); Entra AADSTS50053 (IdsLocked) or AADSTS50057 "
            "(account disabled) in pasted texts."
        ),
        remedy=remedies(
            "Stop every device and program that signs in as {user} with an old password (phones, "
            "other computers, scanners), wait a few minutes, then fix the password in {client}: "
            "{password_path}. 'Forgot my password' also clears the lock. conntest makes one "
            "attempt per protocol and never retries."
        ),
        admin_action=(
            SIGNIN_LOG + " It shows where the failed attempts come from; unlock the account or "
            "reset the password there."
        ),
        patterns=(
            Pattern(
                r"\baccount locked\b|\baccount is locked\b",
                source="responses.yaml smtp-account-locked-*",
            ),
            Pattern(
                r"account has an issue",
                variant="issue",
                source="behaviour.md §4",
                examples=(
                    "535 5.7.139 Authentication unsuccessful, account has an issue."
                    " Contact your administrator.",
                ),
            ),
            Pattern(r"\baadsts50053\b|\bidslocked\b", source="Entra ID IdsLocked"),
            Pattern(
                r"\baadsts50057\b|user account is disabled",
                variant="disabled",
                source="Entra ID UserDisabled",
            ),
            Pattern(
                r"^5\.7\.13\b",
                variant="disabled",
                enhanced="5.7.13",
                source="RFC 5248 X.7.13 'User Account Disabled' (any server)",
            ),
        ),
        variants={
            "issue": Variant(
                title="Microsoft reports a problem with the account",
                detail=(
                    "The server said the account 'has an issue': Entra ID will not sign it in "
                    "(locked, disabled, or needing attention such as a password change)."
                ),
            ),
            "disabled": Variant(
                title="The account is disabled",
                detail="The server said the account is disabled ('{sentence}').",
            ),
        },
    ),
    CatalogueEntry(
        code="throttled",
        severity=Severity.CRITICAL,
        layer="session",
        title="Microsoft is limiting this mailbox for now",
        meaning=(
            "The server refused because of a limit, not a setting: '{sentence}'. It passes by "
            "itself."
        ),
        evidence=(
            "IMAP 'Request is throttled. Suggested Backoff Time: …'; SMTP 432 4.3.2 (concurrent "
            "connections), 554 5.2.0 SubmissionQuotaExceeded (10,000 recipients a day), 550 "
            "5.2.251–5.2.255 (continuous-error throttling)."
        ),
        remedy=remedies(
            "Nothing is wrong with {client}'s settings. Wait before trying again, and close other "
            "programs and devices that use this mailbox at the same time (SMTP allows at most 3 "
            "simultaneous sending connections per mailbox, IMAP has a per-mailbox budget)."
        ),
        admin_action=(
            "No tenant setting lifts these limits: SMTP AUTH allows 3 concurrent connections, 30 "
            "messages a minute and 10,000 recipients a day per mailbox; continuous-error "
            "throttling cannot be lifted by Microsoft support."
        ),
        patterns=(
            Pattern(
                r"(?:request is throttled.*?)?suggested backoff time: (?P<backoff>\d+)"
                r"|request is throttled",
                variant="imap",
                source="responses.yaml imap-no-request-throttled",
            ),
            Pattern(
                r"sender thread limit exceeded|concurrent connections limit exceeded",
                variant="concurrency",
                source="responses.yaml smtp-432-sender-thread-limit",
            ),
            Pattern(
                r"submissionquotaexceeded",
                variant="quota",
                source="responses.yaml smtp-554-submission-quota",
            ),
            Pattern(
                r"sender throttled due to continuous|^5\.2\.25[1-5]\b",
                variant="continuous",
                source="responses.yaml smtp-550-continuous-send-as-throttle",
            ),
        ),
        variants={
            "imap": Variant(
                detail=(
                    "IMAP refused with '{sentence}': the mailbox used up its IMAP budget, usually "
                    "because several programs sync it at once. Microsoft suggests waiting "
                    "{backoff_text}."
                ),
                remedy=remedies(
                    "Wait {backoff_text}, then let {client} try once. Close other programs and "
                    "devices that sync this mailbox over IMAP."
                ),
            ),
            "concurrency": Variant(
                detail=(
                    "SMTP refused with '{sentence}': more than 3 connections were sending for this "
                    "mailbox at the same time."
                ),
            ),
            "quota": Variant(
                detail=(
                    "SMTP refused with '{sentence}': the mailbox reached its daily limit of "
                    "10,000 recipients for SMTP AUTH."
                ),
                remedy=remedies(
                    "Wait until the 24-hour window has passed before {client} sends again; send "
                    "bulk mail another way."
                ),
            ),
            "continuous": Variant(
                detail=(
                    "SMTP refused with '{sentence}': after repeated errors (Send As denied, "
                    "mailbox full, invalid recipients or licence) Microsoft blocks SMTP AUTH for "
                    "this mailbox for a while. Fix the errors that led to it; the block ends by "
                    "itself and support cannot lift it."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="auth-mechanism-unsupported",
        severity=Severity.CRITICAL,
        layer="session",
        title="{client} uses a sign-in method the server does not offer",
        meaning=(
            "The server refused the sign-in method ('{sentence}'). Microsoft 365 offers AUTH LOGIN "
            "and XOAUTH2 for SMTP (not PLAIN), and AUTHENTICATE PLAIN, XOAUTH2 or the LOGIN "
            "command for IMAP; AUTH PLAIN, or AUTH before STARTTLS, gets this answer."
        ),
        evidence=(
            "SMTP '504 5.7.4 Unrecognized authentication type'; the post-STARTTLS EHLO or the IMAP "
            "CAPABILITY without the mechanism the profile uses ({offered}, {mechanism}); a login "
            "step failed as not offered."
        ),
        remedy=remedies(
            "In {settings}, choose a sign-in method the server offers: 'Normal password' / "
            "'Password' (AUTH LOGIN), or OAuth2 where {client} has it. If the client insists on "
            "PLAIN for SMTP, it cannot send through Microsoft 365 with a password."
        ),
        patterns=(
            Pattern(
                r"unrecognized authentication type",
                source="responses.yaml smtp-504-unrecognized-auth-type",
            ),
            Pattern(
                r"^5\.7\.9\b",
                variant="too-weak",
                enhanced="5.7.9",
                source="RFC 4954 '534 5.7.9 Authentication mechanism is too weak' (any server)",
                examples=("534 5.7.9 Authentication mechanism is too weak",),
            ),
        ),
        variants={
            "smtp-offer": Variant(
                detail=(
                    "After STARTTLS the server offered AUTH {offered}; {client} signs in with "
                    "{mechanism}, which is not among them. Microsoft 365 offers AUTH LOGIN and "
                    "XOAUTH2 for SMTP, not PLAIN."
                ),
            ),
            "no-auth": Variant(
                title="The SMTP server offered no sign-in at all after STARTTLS",
                detail=(
                    "After STARTTLS the server's EHLO reply listed no AUTH ({offered}). "
                    "Microsoft's {smtp_host} always lists AUTH LOGIN XOAUTH2 there, even when "
                    "SMTP AUTH is switched off, so this is another server or a device on the way."
                ),
                remedy=remedies(
                    "Check the outgoing server name in {smtp_settings} ({smtp_host}) and try from "
                    "another network."
                ),
            ),
            "imap-offer": Variant(
                detail=(
                    "The IMAP server offers {offered}; {client} signs in with {mechanism}, which "
                    "is not among them."
                ),
                remedy=remedies(
                    "In {settings}, choose a sign-in method the server offers ({offered}), or "
                    "OAuth2 where {client} has it."
                ),
            ),
            "too-weak": Variant(
                detail=(
                    "The server answered '{sentence}'. 5.7.9 is SMTP's standard code (RFC 4954) "
                    "for a sign-in method weaker than the server allows for this user. Microsoft "
                    "365 offers AUTH LOGIN and XOAUTH2 for SMTP (not PLAIN)."
                ),
            ),
            "not-offered": Variant(
                detail=(
                    "{client}'s sign-in method was not offered by the server ('{sentence}'). "
                    "Microsoft 365 offers AUTH LOGIN and XOAUTH2 for SMTP (not PLAIN), and "
                    "AUTHENTICATE PLAIN, XOAUTH2 or the LOGIN command for IMAP."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="credentials-withheld",
        severity=Severity.CRITICAL,
        layer="session",
        title="conntest held the password back",
        meaning=(
            "conntest stopped before signing in rather than send the password where it would be "
            "exposed or mangled: {message}."
        ),
        evidence=(
            "A step skipped or failed as unsafe (no verified TLS, or a password the client's "
            "command cannot carry), with no other finding explaining it."
        ),
        remedy=remedies(
            "Fix the connection problem first and never let {client} send the password "
            "unencrypted. If the reason is the password itself (a line break, or characters "
            "outside ASCII that IMAP LOGIN cannot carry), set a password without them or use "
            "{client}'s other sign-in method."
        ),
    ),
)
