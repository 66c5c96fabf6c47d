"""The bearer token against echoing servers: no form of it in any output, file or argument.

The token is a real one: the lab's identity platform issues it to real MSAL
through ``conntest oauth login`` (device code), into the token cache of the
test's own state directory.  Then hostile IMAP and SMTP servers on loopback
(real TLS, a private CA, ``--ca-file`` a bundle of both CAs) offer XOAUTH2 and
reflect everything they got: in a NO, a BYE, a literal, an unparseable line,
and base64-wrapped in the XOAUTH2 error challenge (``+ <base64>``, ``334
<base64>``) that a server sends before refusing.  The installed ``conntest
check --oauth`` runs headless on the saved sign-in in every output format
(text ``-v``, json, jsonl, nagios, prometheus, junit, and the ``--output``
report file).  Asserted, as for the password (issue 8's property test):

* no form of the token (raw, ``Bearer``, the SASL string raw and escaped, its
  base64 with and without padding, cut short) in stdout, stderr or any file
  conntest wrote, nor inside any base64 run of them once decoded;
* the token sent at most once per protocol per run, answered ``*`` on a challenge;
* the token cache directory holds MSAL's own cache file (0600) and nothing else
  with the token in it, no temporary file left behind;
* no process argument of the run (conntest and anything it starts) holds it.

The in-process case adds the views the CLI does not print (the TUI's
transcript, verdict and saved report, Markdown).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import re
import ssl
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conntest.engine import CheckRequest, run_check
from conntest.lab import Lab
from conntest.oauth.cache import cache_path
from conntest.oauth.result import OAuthPlan, SignInResult
from conntest.oauth.signin import SignInConfig, sign_in
from conntest.probes.dns_probe import ResolverConfig
from tests.adversarial.conftest import CONNTEST, USER
from tests.adversarial.hostile import (
    Conn,
    HostileServer,
    Script,
    _tag,
    dns_server,
    imap_session,
    smtp_script,
)
from tests.adversarial.test_hostile_scripts import PROFILES, everything_shown

CLIENT_ID = "11111111-2222-4333-8444-555555555555"
TIMEOUT = 8.0

# --------------------------------------------------------------------------
# Echoing servers that offer XOAUTH2


def _flat(data: bytes) -> bytes:
    for byte in (b"\r", b"\n", b"\0", b"\x01"):
        data = data.replace(byte, b" ")
    return data


def _decoded(blob: bytes) -> bytes:
    try:
        return base64.b64decode(blob.strip(), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _challenge(said: bytes) -> bytes:
    """An XOAUTH2 error challenge (base64 JSON) that carries the echo."""
    doc = json.dumps({"status": "401", "echo": said.decode("latin-1")}).encode()
    return base64.b64encode(doc)


IMAP_CAPS = b"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR ID\r\n"


def imap_token_echo(where: str) -> Script:
    """Reflect the XOAUTH2 line and its decoded SASL string, in the reply of kind ``where``."""

    async def caps(conn: Conn, tag: bytes) -> None:
        await conn.send(IMAP_CAPS + tag + b" OK CAPABILITY completed\r\n")

    async def on_auth(conn: Conn, line: bytes) -> bool:
        tag = _tag(line)
        parts = line.split()
        blob = parts[3] if len(parts) > 3 else b""
        said = _flat(line + b" " + _decoded(blob))
        if where == "challenge":
            await conn.send(b"+ " + _challenge(said) + b"\r\n")
            await conn.line()  # conntest's "*"
            await conn.send(tag + b" NO echo: " + said + b"\r\n")
            return True
        if where == "no":
            await conn.send(tag + b" NO echo: " + said + b"\r\n")
            return True
        if where == "bye":
            await conn.send(b"* BYE echo: " + said + b"\r\n")
            return False
        if where == "garbage":
            await conn.send(b"echo: " + said + b"\r\n")
            return True
        await conn.send(b"* OK {%d}\r\n" % len(said) + said + b"\r\n" + tag + b" NO echoed\r\n")
        return True

    async def script(conn: Conn) -> None:
        await imap_session(conn, on_auth, caps=caps)

    return script


def smtp_token_echo(tls: ssl.SSLContext) -> Script:
    """A base64 challenge carrying the echo, then a 535 that reflects it in the clear."""

    async def on_auth(conn: Conn, line: bytes) -> bool:
        parts = line.split()
        said = _flat(line + b" " + _decoded(parts[2] if len(parts) > 2 else b""))
        await conn.send(b"334 " + _challenge(said) + b"\r\n")
        await conn.line()  # conntest's "*"
        await conn.send(b"535-echo: " + said + b"\r\n535 5.7.8 echo: " + said + b"\r\n")
        return True

    return smtp_script(tls, on_auth, ehlo_tls=b"250-hostile\r\n250 AUTH XOAUTH2 LOGIN PLAIN\r\n")


# --------------------------------------------------------------------------
# What counts as a leak


def sasl(token: str) -> str:
    return f"user={USER}\x01auth=Bearer {token}\x01\x01"


def token_forms(token: str) -> set[str]:
    """The token's forms, computed here with the standard library (not conntest's redactor)."""
    raw = {token, f"Bearer {token}", sasl(token)}
    forms = set(raw)
    for text in raw:
        forms |= {repr(text)[1:-1], repr(text.encode())[2:-1]}
        forms |= {json.dumps(text)[1:-1], json.dumps(text).replace("\\u0001", "\\x01")[1:-1]}
    for text in (token, sasl(token)):
        encoded = base64.b64encode(text.encode()).decode()
        forms |= {encoded, encoded.rstrip("=")}
    return forms


_B64_RUN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def leaks(token: str, text: str) -> list[str]:
    """Forms of ``token`` in ``text``: whole, cut short (its first 16 characters), or inside
    any base64 run of ``text`` once decoded (a challenge that wraps an echo)."""
    forms = token_forms(token)
    found = [f[:40] for f in forms if f in text]
    # Cut short: the first 16 characters of the token, of its base64, and of the SASL
    # string's base64 from where the token starts to show (its start is only the user).
    head = len(base64.b64encode(sasl(token)[: -len(token) - 2].encode()).rstrip(b"="))
    starts = {
        token[:16],
        base64.b64encode(token.encode()).decode()[:16],
        base64.b64encode(sasl(token).encode()).decode()[: head + 12],
    }
    found += [f"{f}…" for f in starts if f in text]
    for run in _B64_RUN.findall(text):
        body = run.rstrip("=")
        body = body[: len(body) - (len(body) % 4 == 1)]
        try:
            decoded = base64.b64decode(body + "=" * (-len(body) % 4)).decode("latin-1")
        except (binascii.Error, ValueError):
            continue
        if token[:16] in decoded:
            found.append(f"base64 of …{token[:16]}…")
    return found


def sends(token: str, received: bytes) -> int:
    """How many times a server received the token (its XOAUTH2 initial response)."""
    blob = base64.b64encode(sasl(token).encode())
    return received.count(blob) + received.count(token.encode())


# --------------------------------------------------------------------------
# The run


@dataclass
class Signed:
    lab: Lab
    state: Path
    authority: str
    bundle: Path

    @property
    def tokens(self) -> list[str]:
        return list(self.lab.grants._access)


async def _conntest(
    args: list[str], env: dict[str, str], watch: list[str] | None = None
) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        str(CONNTEST), *args, env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    argv: list[str] = []
    if watch is not None:
        sampler = asyncio.ensure_future(_sample_arguments(proc.pid, argv))
    out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT + 60)
    if watch is not None:
        sampler.cancel()
        watch.extend(argv)
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


def _descendants(pid: int) -> set[int]:
    found, todo = {pid}, [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


async def _sample_arguments(pid: int, seen: list[str]) -> None:
    """Every command line of the run and its children, sampled while it runs."""
    while True:
        for child in _descendants(pid):
            try:
                seen.append(Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"))
            except OSError:
                pass
        await asyncio.sleep(0.01)


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BROWSER", "CONNTEST_CONFIG"}}
    env.update(XDG_STATE_HOME=str(state), XDG_CONFIG_HOME=str(state.parent / "config"))
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture
async def signed(tmp_path: Path, hostile_ca_file: Path) -> AsyncIterator[Signed]:
    """A lab-issued token in the token cache, through ``conntest oauth login``."""
    state = tmp_path / "state"
    async with Lab(default_scenario="oauth-ok", identity_user=USER) as lab:
        ends = lab.endpoints("oauth-ok")
        assert ends.identity is not None
        authority = f"https://127.0.0.1:{ends.identity[1]}"
        args = ["oauth", "login", "--user", USER, "--device-code", "--client-id", CLIENT_ID]
        args += ["--authority", authority, "--ca-file", str(lab.ca_file)]
        code, _out, err = await _conntest(args, _env(state))
        assert code == 0, err
        bundle = tmp_path / "bundle.pem"
        bundle.write_bytes(lab.ca_file.read_bytes() + hostile_ca_file.read_bytes())
        yield Signed(lab, state, authority, bundle)


FORMATS = {
    "text -v": ["--format", "text", "--verbose"],
    "json": ["--format", "json"],
    "jsonl": ["--format", "jsonl"],
    "nagios": ["--format", "nagios"],
    "prometheus": ["--format", "prometheus"],
    "junit": ["--format", "junit"],
    "report file": ["--format", "json", "--output", "REPORT"],
}

# Every echo against every output format at least once; the challenge twice.
CASES = [
    ("challenge", "text -v"),
    ("no", "json"),
    ("bye", "jsonl"),
    ("literal", "nagios"),
    ("garbage", "prometheus"),
    ("challenge", "junit"),
    ("no", "report file"),
    ("challenge", "report file"),
]


def _written(root: Path, skip: set[Path]) -> dict[str, str]:
    return {
        str(p): p.read_text(encoding="utf-8", errors="replace")
        for p in root.rglob("*")
        if p.is_file() and p not in skip
    }


@pytest.mark.parametrize(("imap_echo", "fmt"), CASES)
async def test_no_token_form_survives_an_echoing_server(
    imap_echo: str,
    fmt: str,
    signed: Signed,
    server_tls: ssl.SSLContext,
    hostile_ca_file: Path,
    tmp_path: Path,
) -> None:
    report_file = tmp_path / "out" / "report.json"
    report_file.parent.mkdir()
    argv: list[str] = []
    with (
        HostileServer(imap_token_echo(imap_echo), server_tls) as imap,
        HostileServer(smtp_token_echo(server_tls)) as smtp,
        dns_server("silent") as dns,
    ):
        args = ["check", "--oauth", "--user", USER, "--client-id", CLIENT_ID]
        args += ["--authority", signed.authority, "--ca-file", str(signed.bundle)]
        args += ["--imap", f"127.0.0.1:{imap.port}", "--smtp", f"127.0.0.1:{smtp.port}"]
        args += ["--nameserver", f"127.0.0.1:{dns}", "--timeout", str(TIMEOUT)]
        args += ["--profile", "thunderbird"]
        args += [str(report_file) if a == "REPORT" else a for a in FORMATS[fmt]]
        code, out, err = await _conntest(args, _env(signed.state), watch=argv)
        received = {"imap": imap.received(), "smtp": smtp.received()}
    [token] = signed.tokens  # the silent sign-in used the saved token, no new one
    assert code in {0, 1, 2, 3}, err
    assert "Traceback" not in out + err and "internal error" not in out + err, err
    # The run reached both servers and sent the token there, once each.
    for protocol, data in received.items():
        assert sends(token, data) == 1, (protocol, data[-300:])
    assert b"*\r\n" in received["smtp"]  # the challenge was answered with a cancel
    if imap_echo == "challenge":
        assert b"*\r\n" in received["imap"]
    shown = {"stdout": out, "stderr": err}
    cache = cache_path(CLIENT_ID, f"{signed.authority}/organizations")
    cache = signed.state / "conntest" / cache.name
    shown |= _written(tmp_path, {cache, signed.bundle})
    if fmt == "report file":
        assert report_file.exists() and json.loads(report_file.read_text())["profiles"]
    for where, text in shown.items():
        assert not leaks(token, text), (where, leaks(token, text))
    assert not [a for a in argv if leaks(token, a)], "a process argument holds the token"
    assert argv, "the run's arguments were sampled"
    # The token cache: MSAL's own file, owner-only, the only one holding the token.
    files = sorted(p.name for p in (signed.state / "conntest").iterdir())
    assert cache.name in files and not [n for n in files if n.startswith(".")], files
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert token in cache.read_text()  # MSAL's cache holds it, by design


async def _token_plan(signed: Signed, address: str) -> SignInResult:
    config = SignInConfig(
        client_id=CLIENT_ID,
        authority=signed.authority,
        tenant="organizations",
        user=USER,
        address=address,
        cache_file=signed.state
        / "conntest"
        / cache_path(CLIENT_ID, f"{signed.authority}/organizations").name,
        ca_file=signed.bundle,
    )
    return await asyncio.to_thread(sign_in, config)


@pytest.mark.parametrize("imap_echo", ["challenge", "no", "bye", "literal", "garbage"])
async def test_every_view_of_the_report_is_free_of_the_token(
    imap_echo: str,
    signed: Signed,
    server_tls: ssl.SSLContext,
    tmp_path: Path,
) -> None:
    """In-process: the TUI's transcript, verdict and saved report, Markdown, text and JSON."""

    def source(address: str) -> Awaitable[SignInResult]:
        return _token_plan(signed, address)

    plan_source: Callable[[str], Awaitable[SignInResult]] = source
    with (
        HostileServer(imap_token_echo(imap_echo), server_tls) as imap,
        HostileServer(smtp_token_echo(server_tls)) as smtp,
        dns_server("silent") as dns,
    ):
        request = CheckRequest(
            user=USER,
            password=None,
            profiles=PROFILES[-1:],
            imap_server=("127.0.0.1", imap.port),
            smtp_server=("127.0.0.1", smtp.port),
            resolver=ResolverConfig(nameserver=("127.0.0.1", dns)),
            ca_file=signed.bundle,
            timeout=TIMEOUT,
            oauth=OAuthPlan(signed.authority, "organizations", plan_source),
        )
        report = await run_check(request)
        received = imap.received() + smtp.received()
    [token] = signed.tokens
    assert sends(token, received) == 2
    for where, text in everything_shown(report, tmp_path / "shown").items():
        assert not leaks(token, text), (where, leaks(token, text))


def test_the_leak_check_finds_what_it_looks_for() -> None:
    """The detector itself: each form, cut short, and wrapped in a challenge."""
    token = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXRlc3Q"
    assert leaks(token, f"S: NO {token}")
    assert leaks(token, base64.b64encode(sasl(token).encode()).decode().rstrip("="))
    assert leaks(token, f"'{token[:20]}…'")
    assert leaks(token, "334 " + _challenge(sasl(token).encode()).decode())
    assert not leaks(token, "S: NO [REDACTED] user=alice@contoso.test")
    assert sys.version_info >= (3, 11)


def test_the_redactor_looks_inside_base64() -> None:
    """A challenge that wraps the token is redacted; ordinary base64 is left as it is."""
    from conntest.redact import Redactor

    token = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXRlc3Q"
    redact = Redactor.for_secrets(USER, token=token)
    wrapped = "334 " + _challenge(sasl(token).encode()).decode()
    assert redact(wrapped) == "334 <redacted>"
    assert not leaks(token, redact(wrapped))
    plain = "334 " + base64.b64encode(b'{"status":"401","schemes":"bearer"}').decode()
    assert redact(plain) == plain
    assert redact("334 VXNlcm5hbWU6") == "334 VXNlcm5hbWU6"
