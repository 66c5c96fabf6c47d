"""The adversarial tier: certificates for the hostile servers, and conntest run as a user runs it.

:func:`run_cli` starts the installed ``conntest`` (the virtual environment's
entry point) as a subprocess, the password in a file (never in argv), the
lockout state in a directory of the test's own, and measures what a user
would notice: the exit code, stdout, stderr, the wall time and the peak
memory (``ru_maxrss`` of that very child, from ``os.wait4`` in a small process
in between: ``measured.py`` says why pytest cannot measure it directly).
"""

from __future__ import annotations

import base64
import imaplib
import json
import os
import ssl
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from conntest.redact import imap_quoted

CONNTEST = Path(sys.executable).with_name("conntest")
MEASURED = Path(__file__).with_name("measured.py")
USER = "alice@contoso.test"


@pytest.fixture(scope="session")
def hostile_ca() -> trustme.CA:
    return trustme.CA(organization_name="conntest adversarial tier")


@pytest.fixture(scope="session")
def server_tls(hostile_ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    hostile_ca.issue_cert(
        "127.0.0.1", "imap.contoso.test", "smtp.contoso.test", "login.contoso.test"
    ).configure_cert(ctx)
    return ctx


@pytest.fixture(scope="session")
def hostile_ca_file(hostile_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    hostile_ca.cert_pem.write_to_path(str(path))
    return path


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mib: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(args: list[str], password: str, tmp: Path, limit: float = 30.0) -> CliRun:
    """``conntest check ARGS`` with ``password`` in a 0600 file; killed after ``limit`` s."""
    tmp.mkdir(parents=True, exist_ok=True)
    pw_file = tmp / "password"
    pw_file.write_text(password + "\n", encoding="utf-8")
    pw_file.chmod(0o600)
    out_path, err_path, result = tmp / "stdout", tmp / "stderr", tmp / "measured.json"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp / "state"), "NO_COLOR": "1"}
    command = [str(CONNTEST), "check", "--user", USER, "--password-file", str(pw_file), *args]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        subprocess.run(
            [sys.executable, "-I", "-S", str(MEASURED), str(result), str(limit), *command],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            check=True,
        )
    measured = json.loads(result.read_text(encoding="utf-8"))
    return CliRun(
        code=measured["status"],
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
        seconds=measured["seconds"],
        peak_mib=measured["maxrss_kib"] / 1024,
    )


def _quote(text: str) -> str:
    return str(imaplib.IMAP4._quote(None, text))  # type: ignore[arg-type]


def leaked_forms(password: str, text: str) -> list[str]:
    """Forms of ``password`` found in ``text``, computed with the libraries' own functions.

    Raw, IMAP-quoted, repr of str and bytes (either quote), JSON-escaped, URL-quoted
    (``%20`` and ``+``), base64 of LOGIN and PLAIN (with and without authzid, with and
    without padding), and the first 12 characters of each: a cut-short form counts as a
    leak too.
    """
    forms: set[str] = set()
    for inner in (password, imap_quoted(password)):
        forms |= {inner, repr(inner)[1:-1], repr(inner.encode())[2:-1]}
    forms |= {urllib.parse.quote(password, safe=""), urllib.parse.quote_plus(password)}
    forms |= {json.dumps(f)[1:-1] for f in list(forms)}
    forms |= {json.dumps(f, ensure_ascii=False)[1:-1] for f in list(forms)}
    for blob in (password, f"\0{USER}\0{password}", f"{USER}\0{USER}\0{password}"):
        b64 = base64.b64encode(blob.encode()).decode()
        forms |= {b64, b64.rstrip("=")}
    found = [f for f in forms if len(f) >= 3 and f in text]
    # A cut-short PLAIN blob's first 12 characters encode only the (public) user
    # name, which AUTH LOGIN sends as a line of its own and an echo repeats.
    user = base64.b64encode(USER.encode()).decode()
    found += [f[:12] for f in forms if len(f) > 12 and f[:12] in text and f[:12] not in user]
    return found


def credentials_received(password: str, received: bytes) -> int:
    """How many times the server received ``password`` (LOGIN, PLAIN or AUTH LOGIN form)."""
    forms = {_quote(password).encode(), base64.b64encode(password.encode())}
    for blob in (f"\0{USER}\0{password}", f"\0alice\0{password}"):
        forms.add(base64.b64encode(blob.encode()))
    return sum(received.count(f) for f in forms)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
