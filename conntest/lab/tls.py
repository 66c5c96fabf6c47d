"""Server TLS settings of the lab, shaped like Microsoft 365's.

No source shows TLS 1.3 on the mail endpoints, so every context stops at 1.2
and offers ECDHE-RSA AES-GCM suites.  They differ below 1.2:

* IMAP accepts only TLS 1.2: an old client fails in the handshake, which is
  what it sees on outlook.office365.com:993 now that legacy TLS is retired;
* SMTP also completes a TLS 1.0/1.1 handshake after STARTTLS, because the
  real service does and then answers ``421 4.7.66`` to the next command.  On
  OpenSSL 3 that needs ``@SECLEVEL=0`` (TLS 1.0/1.1 sign the handshake with
  SHA-1) and CBC suites, on this context only.
"""

from __future__ import annotations

import ssl
import warnings

from conntest.lab.ca import ServerCertificate

_GCM_SUITES = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"
_LEGACY_SUITES = "ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA"

LEGACY_VERSIONS = frozenset({"TLSv1", "TLSv1.1"})
"""``SSLObject.version()`` values the SMTP server answers with 421 4.7.66."""


def imap_context(leaf: ServerCertificate) -> ssl.SSLContext:
    """TLS 1.2 only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(_GCM_SUITES)
    leaf.configure(context)
    return context


def smtp_context(leaf: ServerCertificate) -> ssl.SSLContext:
    """TLS 1.0 to 1.2, so that a legacy client gets as far as the 421 4.7.66."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        # Python deprecates naming TLS 1.0; accepting it is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(f"{_GCM_SUITES}:{_LEGACY_SUITES}:@SECLEVEL=0")
    leaf.configure(context)
    return context
