"""Every reply text the lab's IMAP and SMTP servers send, in one place.

The lab must replay Microsoft 365 verbatim, so each text cites the
``/work/shared/o365/responses.yaml`` entry it comes from (``# id: …``).  Texts
the file does not have are neutral standard wordings, in blocks marked
``# not in responses.yaml``; the diagnosis must never learn anything from them.

Placeholders filled per connection (see :mod:`conntest.lab.trailers`):
``{tag}`` IMAP command tag, ``{trailer}`` the ``[HOST TIMESTAMP ID]`` trailer of
SMTP replies, ``{frontend}``/``{date}``/``{request_id}``/``{token}`` parts of the
greetings.  Where the cited entry has no trailer the lab sends none either.
"""

from __future__ import annotations

# --- IMAP (outlook.office365.com:993, and 143 with STARTTLS) -------------------------

# id: imap-greeting-standard
IMAP_GREETING = "* OK The Microsoft Exchange IMAP4 service is ready. [{token}]"
# id: imap-capability-preauth-2020s
IMAP_CAPABILITY_PREAUTH = (
    "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT"
    " CHILDREN IDLE NAMESPACE LITERAL+"
)
# id: imap-capability-postauth
IMAP_CAPABILITY_POSTAUTH = (
    "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT"
    " CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN IDLE"
    " NAMESPACE LITERAL+"
)
# id: imap-login-ok
IMAP_LOGIN_OK = "{tag} OK LOGIN completed."
# id: imap-authenticate-ok
IMAP_AUTHENTICATE_OK = "{tag} OK AUTHENTICATE completed."
# id: imap-login-failed-generic (same text: imap-login-failed-basic-disabled-tenant, -mfa)
IMAP_LOGIN_FAILED = "{tag} NO LOGIN failed."
# id: imap-authenticate-failed-generic (same text: imap-authenticate-failed-basic-disabled,
# imap-authenticate-failed-oauth-token)
IMAP_AUTHENTICATE_FAILED = "{tag} NO AUTHENTICATE failed."
# id: imap-no-basic-auth-disabled-consumer
IMAP_BASIC_AUTH_DISABLED = "{tag} NO Basic authentication is disabled."
# id: imap-logout-bye
IMAP_BYE_SIGNING_OFF = "* BYE Microsoft Exchange Server IMAP4 server signing off."
# id: imap-bad-authenticated-not-connected-namespace
IMAP_NOT_CONNECTED = "{tag} BAD User is authenticated but not connected."
# id: imap-no-request-throttled
IMAP_THROTTLED = "{tag} NO Request is throttled. Suggested Backoff Time: {backoff_ms} milliseconds"
# id: imap-bye-connection-closed-14
IMAP_BYE_CLOSED_14 = "* BYE Connection closed. 14"
# id: imap-namespace-ok
IMAP_NAMESPACE = '* NAMESPACE (("" "/")) NIL NIL'
# id: imap-namespace-ok (quoted in its 'meaning')
IMAP_NAMESPACE_OK = "{tag} OK NAMESPACE completed."

# not in responses.yaml (all of this block): neutral RFC 3501 wordings.
IMAP_CAPABILITY_OK = "{tag} OK CAPABILITY completed."  # not in responses.yaml
IMAP_NOOP_OK = "{tag} OK NOOP completed."  # not in responses.yaml
IMAP_LOGOUT_OK = "{tag} OK LOGOUT completed."  # not in responses.yaml
IMAP_ID = "* ID NIL"  # not in responses.yaml
IMAP_ID_OK = "{tag} OK ID completed."  # not in responses.yaml
IMAP_MAILBOX_UNTAGGED = (  # not in responses.yaml; an empty mailbox
    "* 0 EXISTS",
    "* 0 RECENT",
    "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)",
    "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)]"
    " Permanent flags",
    "* OK [UIDVALIDITY 14] UIDVALIDITY value",
    "* OK [UIDNEXT 1] The next unique identifier value",
)
IMAP_EXAMINE_OK = "{tag} OK [READ-ONLY] EXAMINE completed."  # not in responses.yaml
IMAP_SELECT_OK = "{tag} OK [READ-WRITE] SELECT completed."  # not in responses.yaml
IMAP_LIST_INBOX = '* {verb} (\\HasNoChildren) "/" INBOX'  # not in responses.yaml
IMAP_LIST_ROOT = '* {verb} (\\Noselect \\HasChildren) "/" ""'  # not in responses.yaml
IMAP_STATUS = "* STATUS {mailbox} ({items})"  # not in responses.yaml
# LIST, LSUB, STATUS, CLOSE, UNSELECT:
IMAP_COMPLETED = "{tag} OK {verb} completed."  # not in responses.yaml
IMAP_LITERAL_CONTINUE = "+ Ready for additional command text."  # not in responses.yaml
IMAP_AUTHENTICATE_CANCELLED = "{tag} BAD AUTHENTICATE cancelled."  # not in responses.yaml
IMAP_UNSUPPORTED_MECHANISM = "{tag} NO Unsupported authentication mechanism."
# (not in responses.yaml)
IMAP_BAD_COMMAND = "{tag} BAD Unknown command."  # not in responses.yaml
IMAP_BAD_SYNTAX = "{tag} BAD Syntax error in arguments."  # not in responses.yaml
IMAP_BAD_STATE = "{tag} BAD Command not valid in this state."  # not in responses.yaml
IMAP_LINE_TOO_LONG = "* BAD Line too long."  # not in responses.yaml

# IMAP with STARTTLS (port 143).  responses.yaml and behaviour.md document only 993:
# neither the capability list before TLS nor the answer to STARTTLS is known, so these
# are the RFC 3501 wordings (§6.2.1, §7.1), and the diagnosis learns nothing from them.
IMAP_STARTTLS_CAPABILITY = (  # not in responses.yaml: the 993 list plus STARTTLS
    IMAP_CAPABILITY_PREAUTH + " STARTTLS"
)
IMAP_STARTTLS_OK = "{tag} OK Begin TLS negotiation now."  # not in responses.yaml
IMAP_TLS_REQUIRED = "{tag} BAD Command received in invalid state."  # not in responses.yaml

# Protocol syntax, not a text: the empty SASL challenge of RFC 3501.
IMAP_SASL_CONTINUE = "+ "

# --- SMTP submission (smtp.office365.com:587) -----------------------------------------

# id: smtp-greeting-with-request-id
SMTP_GREETING = (
    "220 {frontend}.outlook.office365.com Microsoft ESMTP MAIL Service ready at {date}"
    " [{request_id}]"
)
# ids: smtp-ehlo-before-starttls, smtp-ehlo-after-starttls (their first line)
SMTP_EHLO_HELLO = "{frontend}.outlook.office365.com Hello [{client_ip}]"
# id: smtp-ehlo-before-starttls
SMTP_EHLO_BEFORE_TLS = (
    "SIZE 157286400",
    "PIPELINING",
    "DSN",
    "ENHANCEDSTATUSCODES",
    "STARTTLS",
    "8BITMIME",
    "BINARYMIME",
    "CHUNKING",
    "SMTPUTF8",
)
# id: smtp-ehlo-after-starttls
SMTP_EHLO_AFTER_TLS = (
    "SIZE 157286400",
    "PIPELINING",
    "DSN",
    "ENHANCEDSTATUSCODES",
    "AUTH LOGIN XOAUTH2",
    "8BITMIME",
    "BINARYMIME",
    "CHUNKING",
    "SMTPUTF8",
)
# id: smtp-starttls-ready
SMTP_STARTTLS_READY = "220 2.0.0 SMTP server ready"
# id: smtp-auth-login-prompts
SMTP_AUTH_USERNAME = "334 VXNlcm5hbWU6"
# id: smtp-auth-login-prompts
SMTP_AUTH_PASSWORD = "334 UGFzc3dvcmQ6"  # noqa: S105 (the base64 prompt 'Password:')
# id: smtp-quit
SMTP_QUIT = "221 2.0.0 Service closing transmission channel"
# id: smtp-5-7-139-credentials-incorrect
SMTP_CREDENTIALS_INCORRECT = (
    "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. {trailer}"
)
# id: smtp-5-7-3-generic-bracketed (the answer to XOAUTH2: the lab accepts no token)
SMTP_GENERIC_AUTH_FAILED = "535 5.7.3 Authentication unsuccessful {trailer}"
# id: smtp-basic-auth-disabled-timestamped
SMTP_BASIC_AUTH_DISABLED = (
    "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. {trailer}"
)
# id: smtp-5-7-30-announced
SMTP_BASIC_AUTH_RETIRED = "550 5.7.30 Basic authentication is not supported for Client Submission."
# id: smtp-auth-disabled-tenant-timestamped
SMTP_AUTH_DISABLED_TENANT = (
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the"
    " Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. {trailer}"
)
# id: smtp-auth-disabled-mailbox
SMTP_AUTH_DISABLED_MAILBOX = (
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox."
)
# id: smtp-security-defaults-full
SMTP_SECURITY_DEFAULTS = (
    "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security"
    " defaults policy. Contact your administrator."
)
# id: smtp-criteria-not-met
SMTP_CRITERIA_NOT_MET = (
    "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be"
    " authenticated successfully. Contact your administrator."
)
# id: smtp-account-locked-dotnet (the 535 inside it, with its trailer)
SMTP_ACCOUNT_LOCKED = (
    "535 5.7.139 Authentication unsuccessful, account locked. Contact your administrator. {trailer}"
)
# id: smtp-504-unrecognized-auth-type
SMTP_UNRECOGNIZED_AUTH = "504 5.7.4 Unrecognized authentication type {trailer}"
# id: smtp-421-tls-legacy-doc
SMTP_TLS_LEGACY = (
    "421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to"
    " support TLS 1.2. Visit https://aka.ms/smtp_auth_tls"
)
# id: smtp-451-starttls-required
SMTP_STARTTLS_REQUIRED = "451 5.7.3 STARTTLS is required to send mail {trailer}"
# id: smtp-530-5-7-57-not-authenticated
SMTP_NOT_AUTHENTICATED = "530 5.7.57 Client not authenticated to send mail. {trailer}"
# id: smtp-account-locked-dotnet: the 530 that quotes the earlier AUTH error (.NET
# strips the leading '530 ' in that entry; behaviour.md §3 gives the code)
SMTP_NOT_AUTHENTICATED_AFTER = (
    "530 5.7.57 Client not authenticated to send mail. Error: {error} {trailer}"
)
# id: smtp-500-unrecognized-command-wrong-protocol, with the client's verb in the quotes
# (that entry's trailer was cut by its source; the lab adds the usual one)
SMTP_UNRECOGNIZED_COMMAND = "500 5.3.3 Unrecognized command '{command}' {trailer}"

# not in responses.yaml (all of this block): neutral RFC 5321 / 4954 wordings.
SMTP_AUTH_OK = "235 2.7.0 Authentication successful"  # not in responses.yaml
SMTP_HELO = "250 {hello}"  # not in responses.yaml; HELO: the first EHLO line alone
SMTP_SYNTAX = "501 5.5.4 Invalid arguments"  # not in responses.yaml
SMTP_BAD_SEQUENCE = "503 5.5.2 Bad sequence of commands"  # not in responses.yaml
SMTP_AUTH_ABORTED = "501 5.7.0 Authentication aborted"  # not in responses.yaml
SMTP_BAD_BASE64 = "501 5.5.2 Cannot decode base64 data"  # not in responses.yaml
SMTP_SENDER_OK = "250 2.1.0 Sender OK"  # not in responses.yaml
SMTP_RECIPIENT_OK = "250 2.1.5 Recipient OK"  # not in responses.yaml
SMTP_START_DATA = "354 Start mail input; end with <CRLF>.<CRLF>"  # not in responses.yaml
SMTP_QUEUED = "250 2.6.0 Queued mail for delivery"  # not in responses.yaml
SMTP_RESET = "250 2.0.0 Resetting"  # not in responses.yaml
SMTP_NOOP = "250 2.0.0 OK"  # not in responses.yaml
SMTP_LINE_TOO_LONG = "500 5.5.2 Line too long"  # not in responses.yaml

# Protocol syntax, not a text: the empty SASL challenge of RFC 4954.
SMTP_XOAUTH2_CHALLENGE = "334 "


def without_trailer(template: str) -> str:
    """The reply with its ``{trailer}`` placeholder removed (for embedding in a 530)."""
    return template.replace(" {trailer}", "")
