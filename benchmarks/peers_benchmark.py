"""conntest beside the tools people already run: swaks, check_smtp, check_imap and curl.

Against the lab (in a process of its own) and against Debian's Dovecot (a
throwaway instance, tests/integration/real_servers.py; needs root), each
pair of commands runs in alternation, whole processes as a user would run
them, and the ratio is of the medians (conntest ÷ peer).  What each does:

* SMTP: ``conntest check --protocol smtp`` (DNS, STARTTLS, EHLO, AUTH LOGIN,
  QUIT) vs ``swaks --tls --auth LOGIN --quit-after AUTH`` vs ``check_smtp -S
  -A LOGIN`` (neither verifies the certificate as conntest does, nor resolves);
* IMAP: ``conntest check --protocol imap`` (DNS, TLS, CAPABILITY, ID,
  AUTHENTICATE PLAIN, EXAMINE INBOX, LOGOUT) vs ``curl imaps://`` (login and
  LIST) vs ``check_imap -S`` (TLS and the greeting only);
* both: a full ``conntest check`` vs swaks and curl started together.

Debian packages: swaks, monitoring-plugins-standard, curl.  Prints figures;
asserts nothing.  Run: ``.venv/bin/python benchmarks/peers_benchmark.py [ROUNDS] [LATENCY_MS]``.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from lab_process import LabProcess, installed_env, lab_process  # noqa: E402 (after the path set-up)

from conntest.lab import LAB_PASSWORD  # noqa: E402 (after the path set-up)

PLUGINS = Path("/usr/lib/nagios/plugins")
USER = "bench@contoso.com"
Command = Sequence[Sequence[str]]
"""One or more argument vectors, started together."""


def run(commands: Command, env: dict[str, str]) -> float:
    started = time.perf_counter()
    procs = [
        subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        for c in commands
    ]
    codes = [p.wait() for p in procs]
    elapsed = (time.perf_counter() - started) * 1000
    # conntest exits 1 (warning) on a working account while Basic auth is being
    # retired (the date-aware advice); anything worse means the run failed.
    if any(code > 1 for code in codes):
        raise RuntimeError(f"{[c[0] for c in commands]} exited {codes}")
    return elapsed


def pair(name: str, ours: Command, theirs: Command, rounds: int, env: dict[str, str]) -> None:
    a: list[float] = []
    b: list[float] = []
    run(ours, env)
    run(theirs, env)
    for i in range(rounds):
        first, second = (ours, theirs) if i % 2 == 0 else (theirs, ours)
        x, y = run(first, env), run(second, env)
        (a if first is ours else b).append(x)
        (b if first is ours else a).append(y)
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"  {name:<44} conntest {ma:6.1f} ms   peer {mb:6.1f} ms   ratio {ma / mb:4.2f}×")


def conntest(lab: LabProcess, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "conntest",
        "check",
        "--user",
        USER,
        "--profile",
        "thunderbird",
        "--password-env",
        "BENCH_PASSWORD",
        *lab.check_args,
        *extra,
    ]


def lab_pairs(lab: LabProcess, rounds: int, env: dict[str, str]) -> None:
    smtp, imap, ca = lab.info["smtp"], lab.info["imap"], lab.info["ca_file"]
    swaks = [
        "swaks", "--server", f"127.0.0.1:{smtp[1]}", "--tls", "--tls-ca-path", ca,
        "--tls-verify", "--tls-sni", smtp[0], "--auth", "LOGIN", "--auth-user", USER,
        "--auth-password", LAB_PASSWORD, "--quit-after", "AUTH", "--helo", "probe.invalid",
        "--to", USER,
    ]  # fmt: skip
    check_smtp = [
        str(PLUGINS / "check_smtp"), "-H", "127.0.0.1", "-p", str(smtp[1]), "-S",
        "-A", "LOGIN", "-U", USER, "-P", LAB_PASSWORD,
    ]  # fmt: skip
    curl = [
        "curl", "-sS", "--cacert", ca, "--resolve", f"{imap[0]}:{imap[1]}:127.0.0.1",
        f"imaps://{imap[0]}:{imap[1]}/", "-u", f"{USER}:{LAB_PASSWORD}",
    ]  # fmt: skip
    check_imap = [str(PLUGINS / "check_imap"), "-H", "127.0.0.1", "-p", str(imap[1]), "-S"]
    smtp_only, imap_only = conntest(lab, "--protocol", "smtp"), conntest(lab, "--protocol", "imap")
    pair("SMTP: conntest --protocol smtp / swaks", [smtp_only], [swaks], rounds, env)
    pair("SMTP: conntest --protocol smtp / check_smtp", [smtp_only], [check_smtp], rounds, env)
    pair("IMAP: conntest --protocol imap / curl", [imap_only], [curl], rounds, env)
    pair("IMAP: conntest --protocol imap / check_imap", [imap_only], [check_imap], rounds, env)
    pair("both: conntest / swaks + curl together", [conntest(lab)], [swaks, curl], rounds, env)


def dovecot_pairs(lab: LabProcess, rounds: int, env: dict[str, str]) -> None:
    import trustme

    from tests.integration.real_servers import DOVECOT_USER, Dovecot, dovecot_available, free_port

    if not dovecot_available():
        print("  (Dovecot: not installed, or not root; skipped)")
        return
    # Not under a 0700 directory: Dovecot's unprivileged auth worker reads the users file.
    base = Path(tempfile.mkdtemp(prefix="conntest-peers-"))
    base.chmod(0o755)
    try:
        ca = trustme.CA()
        ca_file = base / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        server = Dovecot(base, free_port())
        server.start(ca, LAB_PASSWORD)
        try:
            host, port = server.host, server.port
            nameserver = lab.info["nameserver"]
            ours = [
                sys.executable, "-m", "conntest", "check", "--protocol", "imap",
                "--user", DOVECOT_USER, "--profile", "thunderbird",
                "--password-env", "BENCH_PASSWORD", "--imap", f"{host}:{port}",
                "--resolve", f"{host}:127.0.0.1", "--ca-file", str(ca_file),
                "--nameserver", f"{nameserver[0]}:{nameserver[1]}",
                "--expected-network", "127.0.0.1/32",
            ]  # fmt: skip
            curl = [
                "curl", "-sS", "--cacert", str(ca_file), "--resolve", f"{host}:{port}:127.0.0.1",
                f"imaps://{host}:{port}/", "-u", f"{DOVECOT_USER}:{LAB_PASSWORD}",
            ]  # fmt: skip
            check_imap = [str(PLUGINS / "check_imap"), "-H", "127.0.0.1", "-p", str(port), "-S"]
            pair("Dovecot IMAP: conntest / curl", [ours], [curl], rounds, env)
            pair("Dovecot IMAP: conntest / check_imap", [ours], [check_imap], rounds, env)
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    missing = [t for t in ("swaks", "curl") if shutil.which(t) is None]
    if missing or not (PLUGINS / "check_smtp").exists():
        sys.exit("install the peers first: apt-get install swaks monitoring-plugins-standard curl")
    env = {**installed_env(), "BENCH_PASSWORD": LAB_PASSWORD}
    floor = statistics.median(run([[sys.executable, "-c", "pass"]], env) for _ in range(5))
    print(
        f"whole processes, {rounds} alternating rounds, medians; the lab at {latency:g} ms; "
        f"python -c pass {floor:.0f} ms (the machine's load)"
    )
    with lab_process(latency) as lab:
        lab_pairs(lab, rounds, env)
        if latency == 0:
            dovecot_pairs(lab, rounds, env)


if __name__ == "__main__":
    main()
