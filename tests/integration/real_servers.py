"""Third-party servers for checking the probes against code nobody here wrote.

Dovecot (Debian's dovecot-imapd) runs as a throwaway instance with every path
under a temporary directory (recipe: ../shared/INFRA.md §4).  aiosmtpd runs
in the test's event loop with STARTTLS required and a recording authenticator.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import trustme

DOVECOT_USER = "testuser@example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dovecot_available() -> bool:
    return shutil.which("dovecot") is not None and os.geteuid() == 0


@dataclass
class Dovecot:
    base: Path
    port: int
    host: str = "imap.dovecot.test"
    proc: subprocess.Popen[bytes] | None = None

    def start(self, ca: trustme.CA, password: str) -> None:
        d = self.base
        for sub in ("run", "state", "home/testuser"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        cert = ca.issue_cert(self.host, common_name=self.host)
        cert.private_key_pem.write_to_path(str(d / "server.key"))
        cert.cert_chain_pems[0].write_to_path(str(d / "server.pem"))
        for extra in cert.cert_chain_pems[1:]:
            extra.write_to_path(str(d / "server.pem"), append=True)
        (d / "server.key").chmod(0o600)
        (d / "users").write_text(
            f"{DOVECOT_USER}:{{PLAIN}}{password}:5000:5000::{d}/home/testuser\n"
        )
        subprocess.run(["chown", "-R", "5000:5000", str(d / "home")], check=True)
        (d / "dovecot.conf").write_text(
            f"""protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = conntest-test-{self.port}
log_path = {d}/dovecot.log
ssl = required
ssl_cert = <{d}/server.pem
ssl_key = <{d}/server.key
ssl_dh = </usr/share/dovecot/dh.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
auth_failure_delay = 0
login_greeting = The Microsoft Exchange IMAP4 service is ready.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/users
}}
userdb {{
  driver = passwd-file
  args = {d}/users
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
"""
        )
        # Dovecot needs the conf dir readable by its unprivileged users.
        d.chmod(0o755)
        with open(d / "stderr.log", "wb") as err:
            self.proc = subprocess.Popen(
                ["dovecot", "-F", "-c", str(d / "dovecot.conf")],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self._wait_ready(ca)

    def _wait_ready(self, ca: trustme.CA) -> None:
        """Ready means a TLS greeting, not an open port (INFRA.md §4)."""
        ctx = ssl.create_default_context()
        ca.configure_trust(ctx)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with (
                    socket.create_connection(("127.0.0.1", self.port), timeout=1) as raw,
                    ctx.wrap_socket(raw, server_hostname=self.host) as tls,
                ):
                    if tls.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start: {(self.base / 'stderr.log').read_text()}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class SmtpRecord:
    auth_attempts: list[tuple[str, str]] = field(default_factory=list)
    """(mechanism, login) of every AUTH the server judged."""
