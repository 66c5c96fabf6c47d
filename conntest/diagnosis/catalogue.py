"""The catalogue of diagnoses: the index that assembles the codes, and the matching order.

Each :class:`CatalogueEntry` says what a code means in plain words, what evidence
decides it, how bad it is, what the user of a given client must do (templates
filled from the :class:`~conntest.profile.Profile`) and, where the fix is not the
user's, what an administrator must do.  The entries live by what they speak of in
:mod:`conntest.diagnosis.codes` (network and DNS, TLS, sign-in, policy, mailbox,
submission replies, OAuth, the run's outcome); the shared vocabulary is
:mod:`.vocabulary`, shared sentences :mod:`.wording`, dated facts :mod:`.timeline`,
endpoint facts :mod:`.endpoints`.  This module re-exports them all, so
``from conntest.diagnosis.catalogue import X`` keeps working for every public name
(the type aliases ``ClientKind``, ``Layer`` and ``Scope`` are :mod:`.vocabulary`'s, for
annotations only).

The rule functions in :mod:`conntest.diagnosis.rules` decide *which* entry applies;
``docs/diagnoses.md`` is generated from :data:`CATALOGUE` in :data:`CODE_ORDER`
(``python -m conntest.diagnosis.docs``).

Server texts are matched by meaning: :mod:`conntest.diagnosis.normalise` first
strips what varies (hosts, dates, ids, tags, library prefixes), then the
patterns are tried in :data:`MATCH_ORDER`, most specific first.  Every
pattern is grounded in a reply quoted in ``shared/o365/responses.yaml`` or
``behaviour.md``, or in a documented client or Entra ID message (noted per
pattern).

Template placeholders (``str.format`` syntax) available everywhere:
``{client}``, ``{user}``, ``{imap_settings}``, ``{smtp_settings}``,
``{password_path}``, ``{oauth2_how}``, ``{modern_auth}``, ``{imap_host}``,
``{imap_port}``, ``{smtp_host}``, ``{smtp_port}`` (the profile's), ``{imap_endpoint}`` and
``{smtp_endpoint}`` (host and port joined, an IPv6 literal in brackets), ``{protocol_name}``,
``{settings}`` (the settings path of the protocol at hand), ``{timeline[KEY]}``
(a dated fact from :data:`RETIREMENT_TIMELINE`).  For the protocol at hand,
``{host}`` and ``{port}`` are the server and the port the run tested (``--imap`` and
``--smtp`` may name others than the profile's), ``{endpoint}`` the two joined,
``{client_port}`` the port the client is set to and ``{expected_port}`` Microsoft's.
Rule-specific ones are listed in each entry's ``evidence`` text.
"""

from __future__ import annotations

from collections.abc import Mapping

from conntest.diagnosis.codes import (
    mailbox,
    network,
    oauth,
    outcome,
    policy,
    retirement,
    signin,
    submission,
    tls,
)
from conntest.diagnosis.endpoints import (
    CONSUMER_MX_SUFFIX,
    EXPECTED_ENDPOINTS,
    INTERCEPTION_VERIFY_CODES,
    KNOWN_ISSUERS,
    M365_MX_SUFFIX,
    MICROSOFT_HOST_SUFFIXES,
    MICROSOFT_HOSTS,
    NAME_MISMATCH_VERIFY_CODES,
    SECURITY_WORDS,
)
from conntest.diagnosis.timeline import RETIREMENT_TIMELINE, TIMELINE_CITES, TimelineEntry, cite
from conntest.diagnosis.vocabulary import LAYER_ORDER, CatalogueEntry, Pattern, Variant
from conntest.diagnosis.wording import (
    DECIDE,
    GENERIC_PLACES,
    LOCKOUT,
    MODERN_AUTH,
    NOTES,
    OAUTH2_HOW_FALLBACK,
    RELAY_REMEDY,
    SIGNIN_LOG,
)
from conntest.record import replace

__all__ = [
    "CATALOGUE",
    "CODE_ORDER",
    "CONSUMER_MX_SUFFIX",
    "DECIDE",
    "EXPECTED_ENDPOINTS",
    "GENERIC_PLACES",
    "INTERCEPTION_VERIFY_CODES",
    "KNOWN_ISSUERS",
    "LAYER_ORDER",
    "LOCKOUT",
    "M365_MX_SUFFIX",
    "MATCH_ORDER",
    "MICROSOFT_HOSTS",
    "MICROSOFT_HOST_SUFFIXES",
    "MODERN_AUTH",
    "NAME_MISMATCH_VERIFY_CODES",
    "NOTES",
    "OAUTH2_HOW_FALLBACK",
    "OUTRANKS",
    "RELAY_REMEDY",
    "RETIREMENT_TIMELINE",
    "SECURITY_WORDS",
    "SIGNIN_LOG",
    "SUCCESS_PATTERNS",
    "TIMELINE_CITES",
    "CatalogueEntry",
    "Pattern",
    "TimelineEntry",
    "Variant",
    "cite",
]

CODE_ORDER: tuple[str, ...] = (
    "ok",
    "password-whitespace",
    "password-not-app-password",
    "username-format",
    "wrong-credentials",
    "login-rejected",
    "basic-auth-disabled",
    "basic-auth-retiring",
    "smtp-auth-disabled",
    "security-defaults",
    "mfa-required",
    "conditional-access-blocked",
    "imap-disabled",
    "account-locked",
    "throttled",
    "auth-mechanism-unsupported",
    "tls-version-rejected",
    "tls-legacy-version",
    "tls-intercepted",
    "tls-ca-file",
    "tls-certificate-invalid",
    "tls-handshake-failed",
    "starttls-missing",
    "starttls-required",
    "not-authenticated",
    "send-as-denied",
    "mailbox-full",
    "wrong-protocol",
    "server-garbled",
    "wrong-port",
    "port-filtered",
    "port-closed",
    "connection-reset",
    "server-silent",
    "dns-failure",
    "dns-unexpected-address",
    "dns-pinned",
    "domain-not-m365",
    "credentials-withheld",
)
"""The order the documentation presents codes in (the chain from sign-in outwards);
codes not listed (the OAuth ones, ``unrecognised``, ``internal-error``) follow in the
order of their modules."""

_MODULES = (outcome, signin, policy, retirement, mailbox, tls, submission, network, oauth)


def _assemble() -> Mapping[str, CatalogueEntry]:
    by_code: dict[str, CatalogueEntry] = {}
    for module in _MODULES:
        for entry in module.ENTRIES:
            if entry.code in by_code:
                raise ValueError(f"diagnosis code {entry.code!r} is defined twice")
            by_code[entry.code] = entry
    for code, extra in oauth.VARIANTS.items():  # OAuth wording for codes others own
        entry = by_code[code]
        by_code[code] = replace(entry, variants={**entry.variants, **extra})
    ordered = {code: by_code.pop(code) for code in CODE_ORDER}
    tail_first = [c for c in by_code if c not in ("unrecognised", "internal-error")]
    for code in [*tail_first, "unrecognised", "internal-error"]:
        ordered[code] = by_code[code]
    return ordered


CATALOGUE: Mapping[str, CatalogueEntry] = _assemble()
"""Every code, in :data:`CODE_ORDER`."""

MATCH_ORDER: tuple[str, ...] = (
    # Most specific first: throttling texts mention Send As and quotas, security defaults
    # say "user is locked", 5.7.57 wrappers are unwrapped before matching.
    "tls-version-rejected",
    "throttled",
    "security-defaults",
    "smtp-auth-disabled",
    "basic-auth-disabled",
    "conditional-access-blocked",
    "account-locked",
    "mfa-required",
    "imap-disabled",
    "auth-mechanism-unsupported",
    "starttls-required",
    "send-as-denied",
    "mailbox-full",
    "not-authenticated",
    "wrong-credentials",
    "tls-certificate-invalid",
    "tls-handshake-failed",
    "wrong-protocol",
    "dns-failure",
    "port-closed",
    "connection-reset",
    "port-filtered",
    "login-rejected",
)
"""The order entries are listed in (documentation); which one a text means is decided by
specificity (:data:`OUTRANKS`, fallback patterns, the longest match), not by this order."""

OUTRANKS: Mapping[str, frozenset[str]] = {
    # "554 5.2.252 SendAsDenied; … not allowed to send as …" (behaviour.md §4) shares the
    # enhanced code 5.2.252 with "Sender throttled due to continuous send as denied
    # errors": the sentence naming the refusal is the more specific.
    "send-as-denied": frozenset({"throttled"}),
    # "535 5.7.8 Error: authentication failed: …" (Postfix) holds the words of IMAP's
    # [AUTHENTICATIONFAILED]; the standard code 5.7.8 says more: credentials invalid.
    "wrong-credentials": frozenset({"login-rejected"}),
}
"""Where two entries must share words: the key wins over each code in its value."""

SUCCESS_PATTERNS: tuple[str, ...] = (
    r"^the microsoft exchange (?:imap4|pop3) service is ready",
    r"microsoft esmtp mail service ready",
    r"\b(?:login|authenticate|logout|namespace|select|examine|list|capability) completed\b",
    r"^capability\b",
    r"^namespace\b",
    r"signing off",
    r"smtp server ready",
    r"service closing transmission channel",
    r"authentication successful",
)
"""Normal replies: ``explain`` calls them ``ok`` (they are not errors)."""
