"""What conntest knows of Microsoft 365's mail endpoints: hosts, ports, certificate issuers.

Facts from ``shared/o365/behaviour.md`` that the rules compare a profile and an
observed connection with; no texts, no decisions.
"""

from __future__ import annotations

from collections.abc import Mapping

KNOWN_ISSUERS: tuple[str, ...] = ("microsoft", "digicert")
"""Organisations whose certificates Microsoft's mail hosts present (Microsoft's TLS issuing
CAs chain to DigiCert roots).  Anything else on a Microsoft host is treated as interception."""

INTERCEPTION_VERIFY_CODES = frozenset({2, 18, 19, 20, 21})
"""OpenSSL verify codes meaning "not issued by a CA this device trusts"."""
NAME_MISMATCH_VERIFY_CODES = frozenset({62, 64})

MICROSOFT_HOST_SUFFIXES: tuple[str, ...] = (".office365.com", ".outlook.com")
M365_MX_SUFFIX = ".mail.protection.outlook.com"
CONSUMER_MX_SUFFIX = ".olc.protection.outlook.com"
"""Outlook.com / Hotmail domains receive through olc.protection.outlook.com."""

EXPECTED_ENDPOINTS: Mapping[str, tuple[tuple[int, str], ...]] = {
    "imap": ((993, "tls"),),
    "smtp": ((587, "starttls"), (25, "starttls")),
}
"""Microsoft 365's documented client endpoints (behaviour.md §1); the first is the advice."""

SECURITY_WORDS: Mapping[str, str] = {"tls": "SSL/TLS", "starttls": "STARTTLS"}

MICROSOFT_HOSTS: Mapping[str, str] = {"imap": "outlook.office365.com", "smtp": "smtp.office365.com"}
"""The documented Microsoft 365 host per protocol, advised when a setting is wrong."""
