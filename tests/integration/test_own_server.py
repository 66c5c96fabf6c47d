"""``conntest check`` against a server of the user's own, not the lab.

A small IMAP and SMTP server written here (asyncio on loopback, real TLS with a
private trustme CA), the names pinned with ``--resolve``, the CA given with
``--ca-file``, a tiny DNS server of the test's own for the domain lookups
(``--nameserver``), no ``--expected-network``: what a new user does first.  The
same server behaviour must give the same primary code and exit code as the lab.

The same server also speaks IMAP with STARTTLS (port 143's way) and SMTP over
implicit TLS (port 465's way), so a profile written that way is probed that way:
the server's own record shows the mode, and that no credential came before TLS.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shlex
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.message
import dns.rcode
import pytest
import trustme

from conntest.cli import main

PASSWORD = "correcthorsebatt"
USER = "anna@contoso.com"
CLIENT_NAMES = ("outlook.office365.com", "smtp.office365.com", "mail.example.test")

# Texts from shared/o365/responses.yaml (ids) and oauth.md §2 (the 235).
IMAP_GREETING = "* OK The Microsoft Exchange IMAP4 service is ready."  # imap-greeting-standard
IMAP_CAPABILITY = (  # imap-capability-preauth-2020s
    "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT"
    " CHILDREN IDLE NAMESPACE LITERAL+"
)
SMTP_GREETING = (  # smtp-greeting-doc
    "220 BY1PR10CA0041.outlook.office365.com Microsoft ESMTP MAIL Service ready at"
    " Mon, 1 Jun 2015 12:00:00 +0000"
)
SMTP_INCORRECT = (  # smtp-5-7-139-credentials-incorrect (without its trailer)
    "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect."
)


@dataclass
class Seen:
    """What the server received: commands in order, and where credentials arrived."""

    imap: list[str] = field(default_factory=list)
    smtp: list[str] = field(default_factory=list)
    credentials_in_clear: int = 0
    credentials_over_tls: int = 0


class OwnServer:
    """IMAP (implicit TLS or STARTTLS) and SMTP (STARTTLS or implicit TLS) on loopback
    (``bind``: ``127.0.0.1``, or ``::1`` for the IPv6 loopback)."""

    def __init__(self, tls: ssl.SSLContext, accept: bool, bind: str = "127.0.0.1") -> None:
        self.tls = tls
        self.bind = bind
        self.accept = accept
        self.seen = Seen()
        self.ports: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> OwnServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        self._servers = []
        for name, handler, tls in (
            ("imaps", self._imap, self.tls),
            ("imap-starttls", self._imap, None),
            ("submission", self._smtp, None),
            ("smtps", self._smtp, self.tls),
            ("imaps-silent", self._silent, self.tls),
            ("submission-silent", self._silent, None),
        ):
            server = await asyncio.start_server(
                lambda r, w, h=handler, n=name: h(r, w, n), self.bind, 0, ssl=tls
            )
            self._servers.append(server)
            self.ports[name] = server.sockets[0].getsockname()[1]
        self._dns = await self._loop.create_datagram_endpoint(_NxDomain, local_addr=(self.bind, 0))
        self.ports["dns"] = self._dns[0].get_extra_info("sockname")[1]

    async def _stop(self) -> None:
        self._dns[0].close()
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()

    def _credential(self, writer: asyncio.StreamWriter) -> None:
        if writer.get_extra_info("ssl_object") is None:
            self.seen.credentials_in_clear += 1
        else:
            self.seen.credentials_over_tls += 1

    async def _silent(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str
    ) -> None:
        """Accepts (and completes TLS) but never greets."""
        with contextlib.suppress(Exception):
            await reader.read()
        writer.close()

    async def _imap(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str
    ) -> None:
        with contextlib.suppress(Exception):
            writer.write(f"{IMAP_GREETING}\r\n".encode())
            while line := (await reader.readline()).decode().rstrip("\r\n"):
                tag, _, rest = line.partition(" ")
                verb, _, args = rest.partition(" ")
                verb = verb.upper()
                self.seen.imap.append(f"{name} {verb}")
                reply = await self._imap_reply(reader, writer, name, tag, verb, args)
                writer.write("".join(f"{r}\r\n" for r in reply).encode())
                await writer.drain()
                if verb == "STARTTLS" and reply[-1].endswith("now."):
                    await writer.start_tls(self.tls)
                if verb == "LOGOUT":
                    break
        writer.close()

    async def _imap_reply(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        name: str,
        tag: str,
        verb: str,
        args: str,
    ) -> list[str]:
        if verb == "CAPABILITY":
            plain = writer.get_extra_info("ssl_object") is None
            return [
                IMAP_CAPABILITY + (" STARTTLS" if plain else ""),
                f"{tag} OK CAPABILITY completed.",
            ]
        if verb == "STARTTLS":
            return [f"{tag} OK Begin TLS negotiation now."]
        if verb == "LOGIN":
            self._credential(writer)
            ok = self.accept and shlex.split(args)[-1] == PASSWORD
            return [f"{tag} OK LOGIN completed." if ok else f"{tag} NO LOGIN failed."]
        if verb == "AUTHENTICATE":
            writer.write(b"+ \r\n")
            await writer.drain()
            blob = (await reader.readline()).strip()
            self._credential(writer)
            password = base64.b64decode(blob).decode().split("\0")[-1]
            ok = self.accept and password == PASSWORD
            return [f"{tag} OK AUTHENTICATE completed." if ok else f"{tag} NO AUTHENTICATE failed."]
        if verb == "ID":
            return ["* ID NIL", f"{tag} OK ID completed."]
        if verb in ("EXAMINE", "SELECT"):
            return ["* 0 EXISTS", f"{tag} OK [READ-ONLY] EXAMINE completed."]
        if verb == "LOGOUT":
            return [
                "* BYE Microsoft Exchange Server IMAP4 server signing off.",
                f"{tag} OK LOGOUT completed.",
            ]
        return [f"{tag} BAD Unknown command."]

    async def _smtp(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str
    ) -> None:
        with contextlib.suppress(Exception):
            writer.write(f"{SMTP_GREETING}\r\n".encode())
            while line := (await reader.readline()).decode().rstrip("\r\n"):
                verb = line.split(" ", 1)[0].upper()
                self.seen.smtp.append(f"{name} {verb}")
                tls = writer.get_extra_info("ssl_object") is not None
                if verb == "EHLO":
                    offer = "AUTH LOGIN XOAUTH2" if tls else "STARTTLS"
                    writer.write(f"250-mail.example.test Hello\r\n250 {offer}\r\n".encode())
                elif verb == "STARTTLS" and not tls:
                    writer.write(b"220 2.0.0 SMTP server ready\r\n")  # smtp-starttls-ready
                    await writer.drain()
                    await writer.start_tls(self.tls)
                elif verb == "AUTH":
                    writer.write(b"334 VXNlcm5hbWU6\r\n")  # smtp-auth-login-prompts
                    await writer.drain()
                    await reader.readline()
                    writer.write(b"334 UGFzc3dvcmQ6\r\n")
                    await writer.drain()
                    password = base64.b64decode((await reader.readline()).strip()).decode()
                    self._credential(writer)
                    ok = self.accept and password == PASSWORD
                    writer.write(
                        b"235 2.7.0 Authentication successful\r\n"
                        if ok
                        else f"{SMTP_INCORRECT}\r\n".encode()
                    )
                elif verb == "QUIT":
                    writer.write(b"221 2.0.0 Service closing transmission channel\r\n")  # smtp-quit
                    await writer.drain()
                    break
                else:
                    writer.write(b"500 5.3.3 Unrecognized command\r\n")
                await writer.drain()
        writer.close()


class _NxDomain(asyncio.DatagramProtocol):
    """A tiny DNS server: every name is unknown (only the user's domain is asked)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        response = dns.message.make_response(dns.message.from_wire(data))
        response.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(response.to_wire(), addr)  # type: ignore[attr-defined]


@pytest.fixture
def own_ca(tmp_path: Path) -> Iterator[tuple[ssl.SSLContext, Path]]:
    ca = trustme.CA(organization_name="Acme Test CA")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*CLIENT_NAMES).configure_cert(server)
    path = tmp_path / "acme-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    yield server, path


def _check(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, password: str
) -> tuple[int, dict[str, Any]]:
    monkeypatch.setenv("CONNTEST_TEST_PASSWORD", password)
    code = main(
        [
            "check",
            "--password-env",
            "CONNTEST_TEST_PASSWORD",
            "--format",
            "json",
            "--user",
            USER,
            "--timeout",
            "6",
            *args,
        ]
    )
    out, err = capsys.readouterr()
    assert out, err
    return code, json.loads(out)


def _thunderbird_at(own: OwnServer, host: str, imap: str, smtp: str) -> list[str]:
    """Thunderbird's profile pointed at ``host`` on two of the server's ports, its DNS asked."""
    return [
        "--profile", "thunderbird",
        "--imap", f"{host}:{own.ports[imap]}", "--smtp", f"{host}:{own.ports[smtp]}",
        "--nameserver", f"127.0.0.1:{own.ports['dns']}",
    ]  # fmt: skip


def _pins(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--resolve", f"{name}:127.0.0.1")]


@pytest.mark.parametrize(
    ("lab_scenario", "accept", "password"),
    [
        ("ok", True, PASSWORD),
        ("wrong-password", False, "not-the-password"),
    ],
)
def test_own_server_gives_the_same_verdict_as_the_lab(
    lab_scenario: str,
    accept: bool,
    password: str,
    own_ca: tuple[ssl.SSLContext, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server_tls, ca_path = own_ca
    with OwnServer(server_tls, accept) as own:
        own_code, own_doc = _check(
            capsys,
            monkeypatch,
            "--profile",
            "thunderbird",
            "--imap",
            f"outlook.office365.com:{own.ports['imaps']}",
            "--smtp",
            f"smtp.office365.com:{own.ports['submission']}",
            *_pins("outlook.office365.com", "smtp.office365.com"),
            "--ca-file",
            str(ca_path),
            "--nameserver",
            f"127.0.0.1:{own.ports['dns']}",
            password=password,
        )
        # Nagios leads with the same cause, in the first finding's state
        monkeypatch.setenv("CONNTEST_TEST_PASSWORD", password)
        nagios_args = ["--profile", "thunderbird", "--user", USER, "--format", "nagios"]
        # the lockout rules' own state, not the user's (the runs above authenticated)
        nagios_args += ["--state-file", str(tmp_path / "auth-state.json")]
        nagios_code = main(
            [
                "check",
                "--password-env",
                "CONNTEST_TEST_PASSWORD",
                *nagios_args,
                "--imap",
                f"outlook.office365.com:{own.ports['imaps']}",
                "--smtp",
                f"smtp.office365.com:{own.ports['submission']}",
                *_pins("outlook.office365.com", "smtp.office365.com"),
                "--ca-file",
                str(ca_path),
                "--nameserver",
                f"127.0.0.1:{own.ports['dns']}",
            ]
        )
        status = capsys.readouterr().out.splitlines()[0]
    first = own_doc["profiles"][0]["findings"][0]
    word = {"ok": "OK", "info": "OK", "warning": "WARNING", "critical": "CRITICAL"}
    assert status.startswith(f"CONNTEST {word[first['severity']]} - {USER}: "), status
    assert first["code"] == "ok" or first["code"] in status
    assert nagios_code == own_code
    lab_code, lab_doc = _check(
        capsys, monkeypatch, "--lab", lab_scenario, "--profile", "thunderbird", password=password
    )
    own_findings = own_doc["profiles"][0]["findings"]
    lab_findings = lab_doc["profiles"][0]["findings"]
    assert own_findings[0]["code"] == lab_findings[0]["code"], own_findings
    assert own_code == lab_code
    codes = [f["code"] for f in own_findings]
    # what the user said is not held against them
    assert "dns-unexpected-address" not in codes and "tls-intercepted" not in codes
    assert "dns-pinned" in codes and "tls-ca-file" in codes
    [ca_finding] = [f for f in own_findings if f["code"] == "tls-ca-file"]
    assert "Acme Test CA" in ca_finding["title"]
    assert len(ca_finding["evidence"].splitlines()) == 2  # one finding, IMAP and SMTP
    assert own.seen.credentials_in_clear == 0


def test_a_server_given_by_address_is_the_one_the_finding_names(
    own_ca: tuple[ssl.SSLContext, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--imap 127.0.0.1:PORT``: the certificate names the server, not the address asked for."""
    server_tls, ca_path = own_ca
    with OwnServer(server_tls, True) as own:
        code, doc = _check(
            capsys,
            monkeypatch,
            *_thunderbird_at(own, "127.0.0.1", "imaps", "submission"),
            "--ca-file",
            str(ca_path),
            password=PASSWORD,
        )
    first = doc["profiles"][0]["findings"][0]
    assert first["code"] == "tls-certificate-invalid", first
    assert code == 2
    assert "presented for 127.0.0.1 " in first["detail"], first["detail"]
    assert "presented for outlook.office365.com" not in first["detail"]
    assert own.seen.credentials_in_clear == own.seen.credentials_over_tls == 0


def test_a_silent_server_of_another_name_is_the_one_the_finding_names(
    own_ca: tuple[ssl.SSLContext, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--imap``/``--smtp`` name mail.example.test: no finding speaks of the profile's hosts."""
    server_tls, ca_path = own_ca
    with OwnServer(server_tls, True) as own:
        code, doc = _check(
            capsys,
            monkeypatch,
            *_thunderbird_at(own, "mail.example.test", "imaps-silent", "submission-silent"),
            *_pins("mail.example.test"),
            "--ca-file",
            str(ca_path),
            "--timeout",
            "2",
            password=PASSWORD,
        )
    findings = doc["profiles"][0]["findings"]
    assert findings[0]["code"] == "server-silent", findings[0]
    assert code == 2
    silent = [f for f in findings if f["code"] == "server-silent"]
    for finding in silent:
        said = f"{finding['title']} {finding['detail']}"
        assert "mail.example.test" in said, said
        assert "office365.com" not in said, said


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("mail.example.test", "tls-certificate-invalid"),  # not Microsoft's: simply untrusted
        ("outlook.office365.com", "tls-intercepted"),  # Microsoft's name, not its issuer
    ],
)
def test_an_untrusted_certificate_is_interception_only_for_microsofts_names(
    name: str,
    code: str,
    own_ca: tuple[ssl.SSLContext, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No --ca-file: this device does not trust the private CA."""
    server_tls, _ = own_ca
    with OwnServer(server_tls, True) as own:
        _, doc = _check(
            capsys,
            monkeypatch,
            "--profile",
            "thunderbird",
            "--protocol",
            "imap",
            "--imap",
            f"{name}:{own.ports['imaps']}",
            *_pins(name),
            "--nameserver",
            f"127.0.0.1:{own.ports['dns']}",
            password=PASSWORD,
        )
    first = doc["profiles"][0]["findings"][0]
    assert first["code"] == code, first
    assert name in first["detail"] or name in first["title"], first
    assert own.seen.credentials_in_clear == own.seen.credentials_over_tls == 0


def test_profile_with_starttls_imap_and_implicit_tls_smtp_is_probed_that_way(
    own_ca: tuple[ssl.SSLContext, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    profile = tmp_path / "own.yaml"
    profile.write_text(
        "id: own-modes\nname: Own client\n"
        "imap:\n  host: mail.example.test\n  port: 143\n  security: starttls\n  login: login\n"
        "smtp:\n  host: mail.example.test\n  port: 465\n  security: tls\n  auth: login\n",
        encoding="utf-8",
    )
    server_tls, ca_path = own_ca
    with OwnServer(server_tls, accept=True) as own:
        code, doc = _check(
            capsys,
            monkeypatch,
            "--profile-file",
            str(profile),
            "--profile",
            "own-modes",
            "--imap",
            f"mail.example.test:{own.ports['imap-starttls']}",
            "--smtp",
            f"mail.example.test:{own.ports['smtps']}",
            *_pins("mail.example.test"),
            "--ca-file",
            str(ca_path),
            "--nameserver",
            f"127.0.0.1:{own.ports['dns']}",
            password=PASSWORD,
        )
    [result] = doc["profiles"]
    assert result["findings"][0]["code"] == "ok", result["findings"]
    assert code == 0
    steps = [(s["protocol"], s["name"], s["status"]) for s in result["steps"]]
    imap = [n for p, n, _ in steps if p == "imap"]
    smtp = [n for p, n, _ in steps if p == "smtp"]
    assert imap[:5] == ["connect", "greeting", "starttls", "tls", "capability"]
    assert smtp[:4] == ["connect", "tls", "greeting", "ehlo-tls"]
    assert "starttls" not in smtp
    by_name = {(s["protocol"], s["name"]): s for s in result["steps"]}
    assert by_name[("imap", "tls")]["data"]["mode"] == "starttls"
    assert by_name[("smtp", "tls")]["data"]["mode"] == "implicit"
    # the server's own record: STARTTLS before the sign-in, SMTP never asked for STARTTLS
    assert own.seen.imap.index("imap-starttls STARTTLS") < own.seen.imap.index(
        "imap-starttls LOGIN"
    )
    assert not any("STARTTLS" in c for c in own.seen.smtp)
    assert own.seen.credentials_in_clear == 0 and own.seen.credentials_over_tls == 2


def test_findings_name_the_port_tested_and_advise_microsofts(
    own_ca: tuple[ssl.SSLContext, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--imap 127.0.0.1:PORT`` closed, ``--smtp 127.0.0.1:PORT`` silent, neither 993 or 587:
    the findings name the ports the user tested; the advice on the client's settings
    still names Microsoft's (993, 587)."""
    server_tls, ca_path = own_ca
    with socket.create_server(("127.0.0.1", 0)) as listener:
        closed = listener.getsockname()[1]  # closed again when the check connects
    with OwnServer(server_tls, True) as own:
        silent = own.ports["submission-silent"]
        code, doc = _check(
            capsys,
            monkeypatch,
            "--profile", "thunderbird",
            "--imap", f"127.0.0.1:{closed}", "--smtp", f"127.0.0.1:{silent}",
            "--nameserver", f"127.0.0.1:{own.ports['dns']}",
            "--ca-file", str(ca_path), "--timeout", "2",
            password=PASSWORD,
        )  # fmt: skip
    assert code == 2
    findings = {f["code"]: f for f in doc["profiles"][0]["findings"]}
    refused, quiet = findings["port-closed"], findings["server-silent"]
    assert refused["title"] == f"127.0.0.1 refused the connection on port {closed}"
    assert refused["detail"].startswith(f"The connection to 127.0.0.1:{closed} was refused.")
    assert "(outlook.office365.com, 993)" in refused["remedy"], refused["remedy"]
    assert quiet["detail"].startswith(f"The connection to 127.0.0.1:{silent} was accepted")
    said = " ".join(f"{f['title']} {f['detail']}" for f in findings.values())
    assert "port 993" not in said and ":993" not in said and "port 587" not in said, said
    assert own.seen.credentials_in_clear == own.seen.credentials_over_tls == 0
