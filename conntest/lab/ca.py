"""Throwaway certificate authorities and server certificates for the lab.

Two CAs, because the lab must show both a trusted and an intercepted chain:

* the *public* CA, named like a commercial CA (its PEM is ``Lab.ca_file``, the
  file a check is given as ``--ca-file``), issues the normal certificate and an
  expired one;
* the *interceptor* CA, organisation "Corp Interception Proxy", which the check
  does not trust, issues what a TLS-inspecting proxy would present: the same
  subject and names, another issuer.

Every key is RSA-2048 like the real service's, which also keeps the TLS 1.0
path (ECDHE-RSA CBC suites) possible.  Generating an RSA key takes 10–250 ms
on a busy 2-core machine, so this module does not use trustme's ``CA`` and
``issue_cert`` (each makes a fresh key): it makes three keys once per process,
in parallel threads (OpenSSL releases the GIL), and every lab signs fresh
certificates with them in a few milliseconds.
"""

from __future__ import annotations

import datetime
import functools
import os
import ssl
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conntest.lab.scenarios import Certificate

SERVER_NAMES = ("outlook.office365.com", "smtp.office365.com", "*.office365.com")
"""The names on every server certificate (one serves IMAP and SMTP, as in Microsoft 365)."""

PUBLIC_CA_ORGANIZATION = "DigiCert Inc"
PUBLIC_CA_UNIT = "conntest lab CA (not a real DigiCert CA)"
INTERCEPTOR_ORGANIZATION = "Corp Interception Proxy"
INTERCEPTOR_UNIT = "Testing CA"
_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Microsoft Corporation"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "conntest lab"),
        x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAMES[0]),
    ]
)
_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class ServerCertificate:
    """A server certificate with its key, ready to load into an ``SSLContext``."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    def configure(self, context: ssl.SSLContext) -> None:
        """Present this certificate (``load_cert_chain`` only reads files, hence the tempfile)."""
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ) + self.cert.public_bytes(serialization.Encoding.PEM)
        fd, path = tempfile.mkstemp(prefix="conntest-lab-", suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            context.load_cert_chain(path)
        finally:
            os.unlink(path)


@dataclass(frozen=True)
class LabCertificates:
    """The two CAs and the three server certificates of one lab."""

    public_ca: x509.Certificate
    interceptor_ca: x509.Certificate
    good: ServerCertificate
    interceptor: ServerCertificate
    expired: ServerCertificate

    @classmethod
    def create(cls) -> LabCertificates:
        """Sign a fresh set (blocking: the first call in a process also makes the keys)."""
        public_key, interceptor_key, server_key = rsa_keys()
        now = datetime.datetime.now(datetime.UTC)
        public = _ca(public_key, PUBLIC_CA_ORGANIZATION, PUBLIC_CA_UNIT, now)
        interceptor = _ca(interceptor_key, INTERCEPTOR_ORGANIZATION, INTERCEPTOR_UNIT, now)
        return cls(
            public_ca=public,
            interceptor_ca=interceptor,
            good=_server(server_key, public, public_key, now - _DAY, now + 365 * _DAY),
            interceptor=_server(
                server_key, interceptor, interceptor_key, now - _DAY, now + 365 * _DAY
            ),
            expired=_server(server_key, public, public_key, now - 395 * _DAY, now - 30 * _DAY),
        )

    def leaf(self, which: Certificate) -> ServerCertificate:
        """The server certificate a listener of this kind presents."""
        return {
            Certificate.GOOD: self.good,
            Certificate.INTERCEPTOR: self.interceptor,
            Certificate.EXPIRED: self.expired,
        }[which]

    def write_public_ca(self, path: Path) -> Path:
        """Write the public CA's PEM (what a check trusts) and return its path."""
        path.write_bytes(self.public_ca.public_bytes(serialization.Encoding.PEM))
        return path


@functools.cache
def rsa_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    """Public CA, interceptor CA and server keys: made once per process, in parallel."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        first, second, third = pool.map(
            lambda _: rsa.generate_private_key(public_exponent=65537, key_size=2048), range(3)
        )
    return first, second, third


def _ca(
    key: rsa.RSAPrivateKey, organization: str, unit: str, now: datetime.datetime
) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            # A serial in the unit keeps each lab's CA distinct, as trustme does.
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{unit} #{os.urandom(4).hex()}"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + 3650 * _DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server(
    key: rsa.RSAPrivateKey,
    ca: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
) -> ServerCertificate:
    cert = (
        x509.CertificateBuilder()
        .subject_name(_SUBJECT)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in SERVER_NAMES]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return ServerCertificate(cert=cert, key=key)
