"""Network and DNS codes: names, addresses, ports, resets, silence, and the wrong protocol
or port for the endpoint.

Data only; :mod:`conntest.diagnosis.catalogue` assembles the modules of this package.
"""

from __future__ import annotations

from conntest.diagnosis.vocabulary import CatalogueEntry, Pattern, Variant, remedies
from conntest.finding import Severity

ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="wrong-protocol",
        severity=Severity.CRITICAL,
        layer="session",
        title="{client} and the server speak different protocols{on_port}",
        meaning=(
            "The answer{on_port} was not what {protocol_name} sends ('{sentence}'). Port 587 "
            "(SMTP) starts unencrypted and switches with STARTTLS; port 993 (IMAP) is encrypted "
            "from the first byte (SSL/TLS)."
        ),
        evidence=(
            "'500 5.3.3 Unrecognized command' on SMTP, TLS errors such as 'wrong version number' "
            "or "
            "'first record does not look like a TLS handshake', an unexpected greeting, or a "
            "protocol failure."
        ),
        remedy=remedies(
            "In {settings}, use {expected_host}, port {expected_port}, encryption "
            "{expected_security}."
        ),
        patterns=(
            Pattern(
                r"wrong version number|first record does not look like a tls handshake"
                r"|http request",
                variant="tls-mismatch",
                source="behaviour.md §1 (OpenSSL, Go)",
                examples=(
                    "tls: first record does not look like a TLS handshake",
                    "wrong version number",
                ),
            ),
            Pattern(
                r"unrecognized command",
                variant="command",
                source="responses.yaml smtp-500-unrecognized-command-wrong-protocol",
            ),
            Pattern(
                r"\b0x800ccc1a\b",
                variant="tls-mismatch",
                source="Outlook 'unable to connect using SSL'",
            ),
        ),
        variants={
            "tls-mismatch": Variant(
                title="The encryption setting does not match the port",
                detail=(
                    "One side spoke TLS and the other plain text ('{sentence}'). Port 587 "
                    "(SMTP) starts unencrypted and switches with STARTTLS; port 993 (IMAP) is "
                    "encrypted from the first byte (SSL/TLS)."
                ),
            ),
            "command": Variant(
                detail=(
                    "The server did not understand a command ('{sentence}'): something other "
                    "than SMTP was spoken to the SMTP port, e.g. IMAP settings in the outgoing "
                    "server. Port 587 (SMTP) starts unencrypted and switches with STARTTLS; port "
                    "993 (IMAP) is encrypted from the first byte (SSL/TLS)."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="wrong-port",
        severity=Severity.WARNING,
        layer="local",
        title=(
            "{client} is set to {protocol_name} port {client_port} with {security}; Microsoft 365 "
            "uses {expected_port} with {expected_security}"
        ),
        meaning=(
            "Microsoft documents {protocol_name} at {host} on port {expected_port} with "
            "{expected_security}; the profile uses port {client_port} with {security}."
        ),
        evidence=(
            "The profile's host is Microsoft's and its port/security differ from IMAP 993 "
            "SSL/TLS or SMTP 587 STARTTLS (25 with STARTTLS is accepted too). Critical when that "
            "protocol then failed before sign-in; a warning when it went through."
        ),
        remedy=remedies(
            "In {settings}, set port {expected_port} and encryption {expected_security}."
        ),
        variants={
            "worked": Variant(
                detail=(
                    "{host} answered {protocol_name} on port {port} with {security} here, and "
                    "the connection went through. Microsoft documents port {expected_port} with "
                    "{expected_security} for {protocol_name}, not this port: it works without "
                    "being documented."
                )
            ),
            "failed": Variant(
                severity=Severity.CRITICAL,
                detail=(
                    "{host} serves {protocol_name} on port {expected_port} with "
                    "{expected_security}, the settings Microsoft documents. With port {port} and "
                    "{security} the connection failed before sign-in."
                ),
            ),
            "failed-465": Variant(
                severity=Severity.CRITICAL,
                detail=(
                    "{host} serves SMTP on port 587 with STARTTLS, the settings Microsoft "
                    "documents. With port 465 and {security} the connection failed before "
                    "sign-in. Microsoft's guide for devices that send mail: \"If your device "
                    "recommends or defaults to port 465, it doesn't support SMTP AUTH client "
                    'submission."'
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="port-filtered",
        severity=Severity.CRITICAL,
        layer="connect",
        title="No answer from {host}{on_port}",
        meaning=(
            "The connection to {endpoint} got no answer in time. conntest did not test another "
            "port, so it cannot tell a blocked mail port from no connection at all."
        ),
        evidence=(
            "connect timed out (or no route). The control connection to the same host on 443 "
            "decides: answered → mail ports filtered on the way; no answer → no route at all."
        ),
        remedy=remedies(
            "Try {client} from another network (a phone's hotspot). If it works there, its "
            "settings are right: ask the network administrator to allow outbound {tcp_port} "
            "to {host}."
        ),
        admin_action=(
            "Allow outbound TCP {imap_port} to {imap_host} and {smtp_port} to {smtp_host} on the "
            "firewall."
        ),
        patterns=(
            Pattern(
                r"\btimed out\b|\betimedout\b|\b0x8004210b\b|\b0x800ccc19\b",
                examples=("TimeoutError: timed out",),
                variant="timeout",
                source="socket/Outlook timeouts",
            ),
            Pattern(
                r"no route to host|network is unreachable|ehostunreach|enetunreach",
                variant="unreachable",
                source="socket errors",
                examples=("[Errno 113] No route to host",),
            ),
            Pattern(
                r"\b0x800ccc0e\b|cannot connect to server",
                variant="timeout",
                source="Outlook 'Cannot connect to server'",
            ),
        ),
        variants={
            "filtered": Variant(
                title="Port {port} to {host} is blocked on the way",
                detail=(
                    "{host} answered on port 443 (HTTPS) but not on port {port}: a firewall "
                    "between you and Microsoft drops mail connections. Guest, hotel and company "
                    "networks and some internet providers block ports 587 and 993."
                ),
            ),
            "no-route": Variant(
                title="{host} cannot be reached at all from here",
                detail=(
                    "Neither port {port} nor port 443 of {host} answered: there is no route to "
                    "Microsoft from this network (offline, a captive portal waiting for a login, "
                    "a proxy-only network, or DNS pointing elsewhere)."
                ),
                remedy=remedies(
                    "Check that this device is online (open a web page; log in to a hotel or "
                    "guest network's portal), then let {client} try again, or from another "
                    "network."
                ),
            ),
            "unreachable": Variant(
                title="{host} cannot be reached from this network",
                detail=(
                    "This device found no way to {host} ('{sentence}'): it is offline, a "
                    "captive portal is waiting for a login, the network only allows a proxy, or "
                    "the server name points to an address this network cannot reach."
                ),
                remedy=remedies(
                    "Check that this device is online (open a web page; log in to a hotel or "
                    "guest network's portal), then let {client} try again, or from another "
                    "network."
                ),
            ),
            "timeout": Variant(
                detail=(
                    "The connection timed out ('{sentence}'): a firewall may block the port, the "
                    "server name may be wrong, or the network is down."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="port-closed",
        severity=Severity.CRITICAL,
        layer="connect",
        title="{host} refused the connection{on_port}",
        meaning=(
            "The connection to {endpoint} was refused. Microsoft's servers accept connections "
            "on {expected_port}; a refusal usually comes from a local firewall, antivirus or "
            "proxy, or the server name, port or DNS answer points elsewhere."
        ),
        evidence="connect failed as refused (TCP reset to the connection request).",
        remedy=remedies(
            "Check the server name and port in {settings} ({expected_host}, {expected_port}) and "
            "any firewall or antivirus on this device."
        ),
        patterns=(
            Pattern(
                r"connection refused|econnrefused|errno 111",
                source="socket errors",
                examples=("[Errno 111] Connection refused",),
            ),
        ),
    ),
    CatalogueEntry(
        code="connection-reset",
        severity=Severity.CRITICAL,
        layer="connect",
        title="The connection to {host} was cut",
        meaning=(
            "The connection to {endpoint} was {cut} during {phase}. Firewalls and security "
            "software that block or inspect mail connections do this; so do unstable networks."
        ),
        evidence=(
            "A step failed as reset or closed (no server reply explained it). {phase} names the "
            "step."
        ),
        remedy=remedies(
            "Try {client} from another network; if it works there, ask the network administrator "
            "about a firewall or proxy that blocks mail. Check the antivirus's mail scanning on "
            "this device."
        ),
        patterns=(
            Pattern(
                r"connection reset|econnreset|errno 104|connection aborted|\b0x800ccc0f\b",
                examples=("[Errno 104] Connection reset by peer",),
                source="socket errors; Outlook 'connection closed'",
            ),
        ),
    ),
    CatalogueEntry(
        code="server-silent",
        severity=Severity.CRITICAL,
        layer="session",
        title="{host} accepted the connection but did not answer",
        meaning=(
            "The connection to {endpoint} was accepted but nothing came back during {phase} "
            "within the time limit. A proxy or firewall that accepts connections without passing "
            "them on does this."
        ),
        evidence="A step after connect failed as timeout. {phase} names the step.",
        remedy=remedies(
            "Try {client} from another network; check for a proxy, VPN or security software on "
            "this device that handles mail connections, and that {settings} name {expected_host}."
        ),
        variants={
            "auth": Variant(
                title="No answer after the password",
                detail=(
                    "{host} did not answer the sign-in within the time limit. Microsoft delays "
                    "the answer to a failed sign-in by several seconds (up to about 20), so a "
                    "short timeout turns a refusal into silence."
                ),
                remedy=remedies(
                    "Run the check again with a longer timeout (at least 30 seconds) to see the "
                    "server's verdict; give {client} a long server timeout too. Do not retry many "
                    "times (lockout after 10 failures)."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="server-garbled",
        severity=Severity.CRITICAL,
        layer="session",
        title="{host} answered, but not in a form {protocol_name} allows",
        meaning=(
            "After a normal start, the answer to {phase} could not be read as {protocol_name}: "
            "{message}. The connection ended there; the transcript keeps the first lines "
            "conntest read. No credential goes out twice: a server that asks for it again is "
            "answered '*' (cancel). A mail server that follows {protocol_name} does not answer "
            "this way; most often something on the way (a proxy, security software that "
            "inspects mail, a captive portal) or a server other than the one intended answered "
            "in its place."
        ),
        evidence=(
            "A step after the greeting failed as a protocol failure: a read limit was reached "
            "(a line, a literal, too many lines or too many bytes for one command; this wins "
            "over the words of the lines, as a flood of '* BAD' lines), the answer was not "
            "text or not shaped as a reply, or the server asked for the credential a second "
            "time. Variant unended: a step after the greeting timed out after the server "
            "had begun to answer (a drip of lines, or a byte now and then). Variant "
            "greeting-unended: the greeting timed out after part of it had come."
        ),
        remedy=remedies(
            "Try {client} from another network (a phone's hotspot). If it works there, a device "
            "on this network handles mail connections: ask its administrator. Check that "
            "{settings} name {expected_host}."
        ),
        admin_action=(
            "Look for a proxy, mail filter or TLS-inspecting firewall between the client and "
            "{host}, and exempt {imap_host} and {smtp_host} from it."
        ),
        variants={
            "greeting-unended": Variant(
                title="{host} began its greeting and never ended it",
                detail=(
                    "{host} accepted the connection and began its greeting, but had not ended "
                    "it when the time limit ran out. A mail server "
                    "sends its whole greeting at once; something on the way (a proxy, security "
                    "software that inspects mail, a captive portal) or a service other than "
                    "{protocol_name} on this port does this."
                ),
            ),
            "unended": Variant(
                title="{host} began an answer and never ended it",
                detail=(
                    "After a normal start, {host} began to answer {phase} and was still at it "
                    "when the time limit ran out: {message}. It was not silent: it kept the "
                    "answer going (lines or bytes sent slowly) and never sent its final reply. "
                    "The connection ended there; the transcript keeps the first lines conntest "
                    "read. Something on the way (a proxy, security software that inspects "
                    "mail, a captive portal) or a server other than the one intended does this."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="dns-failure",
        severity=Severity.CRITICAL,
        layer="dns",
        title="The name {host} could not be looked up",
        meaning="The DNS lookup of {host} failed: {message}.",
        evidence=(
            "The resolve step (or a connect) failed as dns-nxdomain, dns-timeout or dns-error."
        ),
        remedy=remedies(
            "Check the spelling of the server name in {settings} ({expected_host}); if it is "
            "right, this network's DNS is not working: try another network."
        ),
        patterns=(
            Pattern(
                r"getaddrinfo|name or service not known|nodename nor servname|nxdomain|no such host"
                r"|enotfound|eai_again|temporary failure in name resolution|\b0x800ccc0d\b",
                variant="words",
                source="resolver errors; Outlook 'Cannot locate server'",
                examples=("socket.gaierror: [Errno -2] Name or service not known",),
            ),
        ),
        variants={
            "words": Variant(
                title="A server name could not be looked up",
                detail=(
                    "The name lookup (DNS) failed ('{sentence}'): the server name is misspelt, "
                    "or this network's DNS is not working."
                ),
            ),
            "nxdomain": Variant(
                detail=(
                    "The name {host} does not exist in DNS ({message}): the server name is "
                    "misspelt, or this network's DNS hides it."
                ),
            ),
            "timeout": Variant(
                detail=(
                    "No DNS server answered for {host} in time ({message}): this network's DNS is "
                    "not working."
                ),
                remedy=remedies(
                    "Check the network connection or try {client} from another network."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="dns-unexpected-address",
        severity=Severity.WARNING,
        layer="dns",
        title="DNS sends {host} to an unexpected address ({addresses})",
        meaning=(
            "DNS answers {addresses} for {host}: {why}. Microsoft 365's servers have public "
            "addresses. A hosts-file entry, a company DNS override, or a VPN or proxy tool "
            "answering with its own addresses sends the mail connection somewhere else."
        ),
        evidence=(
            "The resolve step's addresses for a Microsoft server name include private, "
            "loopback, link-local, multicast or reserved addresses, or (when expected "
            "networks are given, for any name) addresses outside them. The cause "
            "(critical, variant `failed`) only when the connection to that host then failed "
            "before the server proved its name (without expected networks, not for 127.0.0.1 or "
            "::1, which may be your own test server or a local proxy); a warning beside a failure "
            "it may explain; otherwise context (info): TCP, TLS verification for the real name "
            "and the server's replies went through, so the answer did not make anything fail."
        ),
        remedy=remedies(
            "Nothing in {client} causes this. Look for an entry for {host} in the hosts file "
            "(Windows: C:\\Windows\\System32\\drivers\\etc\\hosts; macOS/Linux: /etc/hosts) and "
            "for VPN or proxy software; otherwise ask the network administrator why DNS answers "
            "this way."
        ),
        variants={"failed": Variant(severity=Severity.CRITICAL)},
    ),
    CatalogueEntry(
        code="dns-pinned",
        severity=Severity.INFO,
        layer="dns",
        title="{host} pinned to {addresses} by --resolve",
        meaning=(
            "conntest did not ask DNS for {host}: --resolve pinned it to {addresses}, as you "
            "asked. The check says nothing about what this device's DNS answers for the name."
        ),
        evidence="A resolve step whose source is `--resolve` (never judged as a hijack).",
        remedy=remedies(
            "Nothing to fix. To test the DNS {client} relies on, run the check without --resolve."
        ),
        decisive=False,
    ),
    CatalogueEntry(
        code="domain-not-m365",
        severity=Severity.INFO,
        layer="dns",
        title="Mail for {domain} is not delivered straight to Microsoft 365",
        meaning=(
            "The MX records of {domain} ({exchanges}) do not end in mail.protection.outlook.com. "
            "The mailbox may still be in Microsoft 365 behind a filtering service — or it is "
            "hosted elsewhere, and then {imap_host} and {smtp_host} are the wrong servers."
        ),
        evidence=(
            "The mx step: no exchange ending in mail.protection.outlook.com (or no MX at all: "
            "NXDOMAIN or no records). A lookup that timed out or failed says nothing."
        ),
        remedy=remedies(
            "If your mailbox is not with Microsoft 365, use your provider's server names in "
            "{client}: {imap_settings} and {smtp_settings}."
        ),
        variants={
            "no-mx": Variant(
                detail=(
                    "{domain} has no MX records ({message}), so no mail is delivered to it; check "
                    "that the address {user} is spelt correctly."
                ),
            ),
        },
    ),
)
