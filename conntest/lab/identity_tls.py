"""The identity platform's certificate: ``login.microsoftonline.com`` and 127.0.0.1.

Signed by the lab's public CA (the one in ``Lab.ca_file``) with the lab's
server key, so a check that trusts the lab for IMAP and SMTP trusts its
identity platform too.  The IP SAN lets a test reach it as ``https://127.0.0.1``
without a name; MSAL refuses plain ``http://`` authorities, hence HTTPS at all.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conntest.lab.ca import LabCertificates, ServerCertificate, rsa_keys

IDENTITY_HOST = "login.microsoftonline.com"
_DAY = datetime.timedelta(days=1)


def identity_certificate(certificates: LabCertificates) -> ServerCertificate:
    """A leaf for the identity host, issued by the lab's public CA."""
    ca_key, _interceptor_key, server_key = rsa_keys()
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Microsoft Corporation"),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "conntest lab"),
                    x509.NameAttribute(NameOID.COMMON_NAME, IDENTITY_HOST),
                ]
            )
        )
        .issuer_name(certificates.public_ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + 365 * _DAY)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(IDENTITY_HOST),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return ServerCertificate(cert=cert, key=server_key)


def identity_context(certificates: LabCertificates) -> ssl.SSLContext:
    """TLS 1.2 and 1.3, as the real identity platform offers."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    identity_certificate(certificates).configure(context)
    return context
