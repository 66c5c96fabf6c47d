"""TLS codes: protocol versions, certificates, interception, handshakes and STARTTLS.

Data only; :mod:`conntest.diagnosis.catalogue` assembles the modules of this package.
"""

from __future__ import annotations

from conntest.diagnosis.vocabulary import CatalogueEntry, Pattern, Variant, remedies
from conntest.finding import Severity

ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="tls-version-rejected",
        severity=Severity.CRITICAL,
        layer="tls",
        title="The server refuses {client}'s old TLS version",
        meaning=(
            "Microsoft 365 accepts only TLS 1.2 and later, and this connection did not get there "
            "('{sentence}'). Old Windows (Windows 7 without the TLS 1.1/1.2 updates and registry "
            "settings), old Outlook builds and old devices offer only TLS 1.0."
        ),
        evidence=(
            "SMTP '421 4.7.66 TLS 1.0 and 1.1 are not supported' after the STARTTLS handshake; "
            "the POP/IMAP text pointing at aka.ms/popimap_tls; a handshake that failed with a "
            "protocol-version alert, or while the profile's TLS range ends below 1.2."
        ),
        remedy=remedies(
            "Update the system so {client} can use TLS 1.2: on Windows 7 install the TLS 1.1/1.2 "
            "updates and set the registry keys that enable them (Microsoft: 'Enabling TLS 1.1 and "
            "1.2 in Outlook on Windows 7'); Windows 8.1 and later have it built in; old iPhones "
            "and devices need a system update or replacement."
        ),
        admin_action=(
            "For SMTP AUTH only, a tenant can opt in to the legacy endpoint "
            "(`Set-TransportConfig -AllowLegacyTLSClients $true`, clients then use "
            "smtp-legacy.office365.com; not in GCC). Legacy TLS for POP/IMAP, legacy endpoints "
            "included, is retired in a rollout {timeline[popimap-tls-legacy-retired]}."
        ),
        patterns=(
            Pattern(
                r"tls 1\.0 and 1\.1 are not supported|aka\.ms/(?:smtp_auth_tls|popimap_tls)",
                variant="server-said",
                source="responses.yaml smtp-421-tls-legacy-doc, popimap-tls-legacy-announced",
            ),
            Pattern(
                r"alert protocol version|unsupported protocol|no protocols available",
                source="OpenSSL handshake errors for a version mismatch",
            ),
        ),
        variants={
            "server-said": Variant(
                detail=(
                    "The server answered '{sentence}'{after_version}. Microsoft 365 accepts only "
                    "TLS 1.2 and later; old Windows (Windows 7 without the TLS 1.1/1.2 updates and "
                    "registry settings), old Outlook builds and old devices offer only TLS 1.0."
                ),
            ),
            "client-max": Variant(
                detail=(
                    "The TLS handshake failed ('{sentence}'), and {client} can use at most TLS "
                    "{tls_max} here. Microsoft 365 accepts only TLS 1.2 and later; on IMAP it "
                    "ends an older handshake without a readable answer."
                ),
            ),
            "other-protocol": Variant(
                detail=(
                    "The TLS handshake failed ('{sentence}'), while {client}'s other connection "
                    "negotiated only {version}. Microsoft 365 accepts only TLS 1.2 and later; on "
                    "IMAP it ends an older handshake without a readable answer."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="tls-legacy-version",
        severity=Severity.WARNING,
        layer="tls",
        title="{protocol_name} works only over old {version}",
        meaning=(
            "The connection used {version}, which Microsoft no longer supports "
            "({timeline[tls-legacy-unsupported]}). It works today only through a legacy opt-in "
            "endpoint or an exception, and will stop: POP/IMAP legacy TLS is retired in a "
            "rollout {timeline[popimap-tls-legacy-retired]}."
        ),
        evidence="The TLS step passed with TLSv1 or TLSv1.1 negotiated ({version}).",
        remedy=remedies(
            "Update the system so {client} uses TLS 1.2 (Windows 7: the TLS 1.1/1.2 updates and "
            "registry settings; Windows 8.1 and later have it built in)."
        ),
    ),
    CatalogueEntry(
        code="tls-intercepted",
        severity=Severity.CRITICAL,
        layer="tls",
        title="Something on your network intercepts the encrypted connection ({issuer_name})",
        meaning=(
            "The certificate presented for {host} was issued by {issuer_name} ({issuer}), not by "
            "a public certificate authority that Microsoft uses, and it does not verify "
            "({verify}). A firewall with TLS inspection, an antivirus 'mail shield' or a proxy "
            "is decrypting the connection — and would see your password."
        ),
        evidence=(
            "TLS verification for a Microsoft server name failed with an unknown-issuer code (2, "
            "18, 19, 20, 21) or a name mismatch (not on a chain to the --ca-file CA), and the "
            "issuer is neither Microsoft nor DigiCert; or (warning) the certificate verified but "
            "was issued by such a CA. {issuer_name} is the issuer's O or CN."
        ),
        remedy=remedies(
            "Turn off mail or SSL scanning in your antivirus, or ask your network administrator to "
            "exempt {imap_host} and {smtp_host} from TLS inspection. Do not make {client} accept "
            "the certificate: whoever issued it can read your password."
        ),
        admin_action=(
            "Exempt {imap_endpoint} and {smtp_endpoint} from TLS/SSL inspection on "
            "the device that issues certificates as '{issuer_name}'."
        ),
        variants={
            "trusted": Variant(
                severity=Severity.WARNING,
                title="The encrypted connection is inspected by {issuer_name}",
                detail=(
                    "The certificate presented for {host} was issued by {issuer_name} "
                    "({issuer}), not by a public certificate authority that Microsoft uses. This "
                    "device trusts it, so the connection works, but a device on the way decrypts "
                    "it and can see your password; clients with their own certificate store "
                    "(Thunderbird) may refuse it."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="tls-ca-file",
        severity=Severity.INFO,
        layer="tls",
        title="The certificate for {host} verified against the CA in --ca-file ({issuer_name})",
        meaning=(
            "The certificate presented for {host} verified against the CA in --ca-file, issued "
            "by {issuer_name} ({issuer}). That is the CA you gave, so this is not taken for "
            "interception; Microsoft's own servers present certificates of public CAs."
        ),
        evidence=(
            "A verified handshake whose trust came from `--ca-file` (the TLS step records it) and "
            "whose issuer is neither Microsoft nor DigiCert. Without --ca-file the same "
            "certificate is `tls-intercepted` (variant `trusted`)."
        ),
        remedy=remedies(
            "Nothing to fix in the check. {client} itself does not use --ca-file: it trusts this "
            "certificate only if the CA is installed where {client} looks for CAs."
        ),
        decisive=False,
    ),
    CatalogueEntry(
        code="tls-certificate-invalid",
        severity=Severity.CRITICAL,
        layer="tls",
        title="The server's certificate is not accepted",
        meaning="The certificate presented for {host} failed verification: {verify}.",
        evidence=(
            "TLS verification failed (OpenSSL verify code {verify_code}) with an issuer Microsoft "
            "uses, or for a server name that is not Microsoft's, or for reasons other than an "
            "unknown issuer: expired (10), not yet valid (9), name mismatch (62/64)."
        ),
        remedy=remedies(
            "Check that the server name in {settings} is exactly {expected_host}, and that this "
            "device's date, time and root certificates are up to date."
        ),
        patterns=(
            Pattern(
                r"certificate has expired",
                variant="expired",
                source="OpenSSL verify code 10",
                examples=("certificate has expired",),
            ),
            Pattern(
                r"hostname mismatch|ip address mismatch|doesn't match|does not match",
                variant="name-mismatch",
                source="OpenSSL verify codes 62/64",
                examples=(
                    "Hostname mismatch",
                    "IP address mismatch",
                ),
            ),
            Pattern(
                r"certificate verify failed|unable to get local issuer|self[- ]signed certificate"
                r"|\b0x800ccc0[12]\b",
                variant="untrusted",
                source="OpenSSL verify codes 19/20/21; Outlook invalid certificate errors",
                examples=("certificate verify failed: unable to get local issuer certificate",),
            ),
        ),
        variants={
            "expired": Variant(
                title="The server's certificate has expired — or this device's clock is wrong",
                detail=(
                    "The certificate presented for {host} is expired{valid_until}. "
                    "Microsoft renews its certificates in time, so check this device's date and "
                    "time first; otherwise something on the way presents an old certificate."
                ),
                remedy=remedies(
                    "Set this device's date, time and time zone correctly, then let {client} try "
                    "again."
                ),
            ),
            "not-yet-valid": Variant(
                title=(
                    "The server's certificate is not valid yet — this device's clock is probably "
                    "wrong"
                ),
                detail="The certificate presented for {host} is not valid yet: {verify}.",
                remedy=remedies(
                    "Set this device's date, time and time zone correctly, then let {client} try "
                    "again."
                ),
            ),
            "name-mismatch": Variant(
                title="The certificate is for a different server name",
                detail=(
                    "The certificate presented for {host} is for {sans}: {verify}. The server "
                    "name in the settings is probably wrong."
                ),
                remedy=remedies("Set the server name in {settings} to {expected_host}."),
            ),
            "untrusted-root": Variant(
                title=(
                    "This device does not trust the authority that issued Microsoft's certificate"
                ),
                detail=(
                    "The certificate for {host} was issued by {issuer_name}, a certificate "
                    "authority Microsoft uses, but this device cannot verify it ({verify}): its "
                    "list of trusted root certificates is probably outdated."
                ),
                remedy=remedies(
                    "Install the system updates (root certificate updates) for this device; "
                    "on very old systems that no longer get updates, {client} cannot verify "
                    "Microsoft's servers."
                ),
            ),
            "untrusted": Variant(
                title="The server's certificate is not trusted",
                detail=(
                    "The certificate is not trusted ('{sentence}'): either something on the way "
                    "intercepts the connection (antivirus, firewall), or this device lacks the "
                    "root certificate. `conntest check` names the issuer and tells the two apart."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="tls-handshake-failed",
        severity=Severity.CRITICAL,
        layer="tls",
        title="The encrypted connection to {host} could not be set up",
        meaning=(
            "The TLS handshake failed: {message}. {client} and the server found no common "
            "version or cipher, or a device on the way interfered."
        ),
        evidence="TLS step failed as tls-handshake without a version or protocol explanation.",
        remedy=remedies(
            "Check the encryption setting in {settings} ({expected_security} on port "
            "{expected_port}) and that no security software intercepts mail connections."
        ),
        patterns=(
            Pattern(
                r"handshake failure|no shared cipher|no ciphers available",
                source="OpenSSL handshake errors",
            ),
            Pattern(
                r"alert[_ ]certificate[_ ]required",
                variant="client-certificate",
                source="OpenSSL: the TLS 1.3 alert certificate_required (RFC 8446 6.2)",
                examples=("TLS handshake failed: TLSV13_ALERT_CERTIFICATE_REQUIRED",),
            ),
        ),
        variants={
            "client-certificate": Variant(
                title="The server wants a client certificate",
                detail=(
                    "The server ended the TLS handshake with the alert 'certificate required' "
                    "({message}): it lets in only clients that show a certificate of their own, "
                    "and neither {client}'s settings nor this check have one to show. Servers "
                    "that ask for one are usually an organisation's own mail server or "
                    "gateway, not a public mail service."
                ),
                remedy=remedies(
                    "Check the server name and port in {settings}. If it is your "
                    "organisation's own server or gateway, ask its administrator which client "
                    "certificate it expects and how to install it for {client}."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="starttls-missing",
        severity=Severity.CRITICAL,
        layer="session",
        title="The SMTP server did not offer encryption (STARTTLS)",
        meaning=(
            "Microsoft's {smtp_host} always offers STARTTLS on port {smtp_port} before sign-in; "
            "here it did not ({how}). Firewalls with SMTP inspection remove STARTTLS from the "
            "server's answer, or the connection reached another server. {client} would have to "
            "send the password unencrypted, or give up."
        ),
        evidence=(
            "The first EHLO reply without STARTTLS, or the STARTTLS command failing as not "
            "offered or refused. {how} says which."
        ),
        remedy=remedies(
            "Try from another network (for example a phone's hotspot) to confirm, and ask the "
            "network administrator to turn off SMTP/ESMTP inspection for {smtp_host}. Never switch "
            "{client} to an unencrypted connection."
        ),
        admin_action=(
            "Disable SMTP/ESMTP inspection (STARTTLS stripping) for {smtp_endpoint} on the "
            "firewall."
        ),
        variants={
            "imap": Variant(
                title="The IMAP server did not switch to encryption (STARTTLS)",
                detail=(
                    "{client} is set to start IMAP unencrypted on port {client_port} and switch "
                    "with STARTTLS; here that failed ({how}), so no password was sent. Microsoft "
                    "365 documents IMAP on {expected_port} with {expected_security} only."
                ),
                remedy=remedies(
                    "In {imap_settings}, use {expected_host}, port {expected_port}, encryption "
                    "{expected_security}. Never switch {client} to an unencrypted connection."
                ),
                admin_action=(
                    "If the server is yours, offer STARTTLS on port {port}; otherwise nothing: "
                    "Microsoft 365 serves IMAP on {expected_port} with {expected_security}."
                ),
            ),
            "refused": Variant(
                title="The SMTP server offered encryption (STARTTLS) but refused to start it",
                detail=(
                    "The server listed STARTTLS, then refused it ({how}), so no password was "
                    "sent. Microsoft's {smtp_host} starts TLS when asked; a refusal comes from "
                    "another server or a device on the way that handles mail connections."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="starttls-required",
        severity=Severity.CRITICAL,
        layer="session",
        title="The client tried to send without encryption",
        meaning=(
            "The server answered '{sentence}': the client sent mail on port 587 without first "
            "switching on encryption with STARTTLS. This is not a TLS version problem; TLS was not "
            "used at all."
        ),
        evidence=(
            "SMTP '451 5.7.3 STARTTLS is required to send mail' (or 'Must issue a STARTTLS command "
            "first')."
        ),
        remedy=remedies(
            "In {smtp_settings}, set the encryption to STARTTLS (Outlook 2016 calls it 'TLS') on "
            "port 587."
        ),
        scope="explain",
        patterns=(
            Pattern(
                r"starttls is required|must issue a starttls command first",
                source="responses.yaml smtp-451-starttls-required",
            ),
            Pattern(
                r"^5\.7\.11\b",
                variant="sign-in",
                enhanced="5.7.11",
                source="RFC 4954 '538 5.7.11 Encryption required for requested authentication "
                "mechanism' (any server)",
                examples=("538 5.7.11 Encryption required for requested authentication mechanism",),
            ),
            Pattern(
                r"^\[privacyrequired\]",
                variant="sign-in",
                source="IMAP [PRIVACYREQUIRED] (RFC 5530)",
                examples=("d NO [PRIVACYREQUIRED] Connection offers no privacy",),
            ),
        ),
        variants={
            "sign-in": Variant(
                title="The client tried to sign in without encryption",
                detail=(
                    "The server answered '{sentence}': it does not take this over a connection "
                    "that is not encrypted (IMAP's [PRIVACYREQUIRED] and SMTP's 5.7.11 are the "
                    "standard codes for that, RFC 5530 and RFC 4954). The password must not go "
                    "out unencrypted."
                ),
                remedy=remedies(
                    "In {settings}, set the encryption to {expected_security} on port "
                    "{expected_port}."
                ),
            ),
        },
    ),
)
