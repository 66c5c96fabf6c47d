"""One check beside its round-trip floor, counted by the lab itself.

The lab (in a process of its own, ``benchmarks/lab_process.py``) delays every
server flight by ``--latency-ms``, TLS handshake flights included, and counts
a flight once the client spoke after it arrived (so the count is at most the
waits; the reply to a LOGOUT the client hangs up after is not counted: the
floor errs low).  IMAP and SMTP run side by side, so the floor of a check is

    latency × (1 DNS round trip + the larger of the IMAP and SMTP flight counts)

(the A/AAAA questions of both hosts go out together; the informational MX and
autodiscover lookups are not waited for).  Three figures, from rounds that
alternate them so that the machine's load falls on each alike:

* in process: ``run_check`` against the lab, wall / floor;
* the command: ``python -m conntest check`` as a subprocess, wall / (floor +
  the start floor: the median start of a Python that imports the libraries
  the dialogue is spoken with, asyncio, ssl, dnspython's async resolver,
  imapclient and aiosmtplib, measured in the same rounds).  conntest's own
  modules are not in it: they are what conntest adds, and counting them on
  both sides of the ratio (as this benchmark once did, with "what a check
  imports") pulled the command's ratio toward 1 the slower they loaded.  What
  they cost is printed beside it: the start of a Python that imports the
  check path (the issue's "import floor") less the start floor;
* a reference: the same dialogue (the same DNS questions and commands, in
  two threads) by a bare client of blocking sockets that parses nothing,
  wall / floor.  It shows what the lab and the machine cost any client above
  the floor; conntest / reference is what conntest itself adds.

Prints figures and the load average; asserts nothing.  Target (issue 12):
≤ 1.15× at 25 ms.  Run:
``.venv/bin/python benchmarks/floor_benchmark.py [LATENCY_MS] [ROUNDS]``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from lab_process import LabProcess, installed_env, lab_process

PROFILE = "thunderbird"
USER = "bench@contoso.com"
LIBRARIES = "import asyncio, ssl, dns.asyncresolver, imapclient, aiosmtplib"
"""What any Python client of this dialogue built on these libraries starts with."""
CHECK_PATH = (
    "import conntest.cli, conntest.engine, conntest.probes.imap_probe,"
    " conntest.probes.smtp_probe, conntest.render.text_report,"
    " cryptography.x509, dns.asyncresolver"  # loaded by the first handshake and lookup
)
"""What ``python -m conntest check`` imports: the libraries and conntest's own modules."""
Row = tuple[float, tuple[int, int, int]]


def critical_flights(answer: dict[str, Any]) -> tuple[int, int, int]:
    flights = answer["flights"]
    imap = sum(n for name, n in flights.items() if name.endswith("imap"))
    smtp = sum(n for name, n in flights.items() if name.endswith("smtp"))
    dns = 1 if any(rdtype in {"A", "AAAA"} for _, rdtype in answer["dns"]) else 0
    return dns, imap, smtp


def measured(lab: LabProcess, run: Callable[[], None]) -> Row:
    lab.ask("clear")
    started = time.perf_counter()
    run()
    wall = (time.perf_counter() - started) * 1000
    return wall, critical_flights(lab.ask("flights"))


def in_process_check(lab: LabProcess) -> Callable[[], None]:
    from conntest.engine import CheckRequest, run_check
    from conntest.lab import LAB_PASSWORD
    from conntest.probes.dns_probe import ResolverConfig
    from conntest.profiles import load_profiles

    info = lab.info
    request = CheckRequest(
        user=USER,
        password=LAB_PASSWORD,
        profiles=[load_profiles().get(PROFILE)],
        imap_server=(info["imap"][0], info["imap"][1]),
        smtp_server=(info["smtp"][0], info["smtp"][1]),
        resolver=ResolverConfig(nameserver=(info["nameserver"][0], info["nameserver"][1])),
        ca_file=Path(info["ca_file"]),
        expected_networks=tuple(info["expected_networks"]),
        timeout=30,
    )
    loop = asyncio.new_event_loop()

    def run() -> None:
        report = loop.run_until_complete(run_check(request))
        assert report.severity.verdict in {"ok", "warning"}, report.severity

    run()  # the first one warms the TLS contexts and loads the probes
    return run


def command_check(lab: LabProcess, env: dict[str, str]) -> Callable[[], None]:
    argv = [
        sys.executable,
        "-m",
        "conntest",
        "check",
        "--user",
        USER,
        "--profile",
        PROFILE,
        "--password-env",
        "BENCH_PASSWORD",
        *lab.check_args,
    ]

    def run() -> None:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        # 1: a working account warned that Basic auth is being retired (date-aware advice).
        assert done.returncode <= 1, done.stdout + done.stderr

    return run


def bare_check(lab: LabProcess) -> Callable[[], None]:
    """Thunderbird's dialogue over blocking sockets: no parsing beyond finding the end."""
    import dns.message

    from conntest.lab import LAB_PASSWORD

    info = lab.info
    context = ssl.create_default_context(cafile=info["ca_file"])
    nameserver = (info["nameserver"][0], info["nameserver"][1])
    questions = [
        dns.message.make_query(info[p][0], rdtype).to_wire()
        for p in ("imap", "smtp")
        for rdtype in ("A", "AAAA")
    ]

    def connect(port: int) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def smtp() -> None:
        def reply(f: Any) -> bytes:
            while (line := f.readline())[3:4] == b"-":
                pass
            return bytes(line)

        raw = connect(info["smtp"][1])
        f = raw.makefile("rb")
        reply(f)
        for command in (b"EHLO x", b"STARTTLS"):
            raw.sendall(command + b"\r\n")
            reply(f)
        tls = context.wrap_socket(raw, server_hostname=info["smtp"][0])
        f = tls.makefile("rb")
        for line in (b"EHLO x", b"AUTH LOGIN", base64.b64encode(USER.encode())):
            tls.sendall(line + b"\r\n")
            reply(f)
        tls.sendall(base64.b64encode(LAB_PASSWORD.encode()) + b"\r\n")
        assert reply(f).startswith(b"235")
        tls.sendall(b"QUIT\r\n")
        reply(f)
        with contextlib.suppress(OSError):
            tls.unwrap()  # a close_notify after the 221, as aiosmtplib sends
        tls.close()

    def imap() -> None:
        tls = context.wrap_socket(connect(info["imap"][1]), server_hostname=info["imap"][0])
        f = tls.makefile("rb")
        f.readline()

        def command(tag: bytes, line: bytes) -> bytes:
            tls.sendall(line + b"\r\n")
            while not (answer := f.readline()).startswith((tag + b" ", b"+")):
                pass
            return bytes(answer)

        blob = base64.b64encode(f"\0{USER}\0{LAB_PASSWORD}".encode())
        command(b"a1", b"a1 CAPABILITY")
        command(b"a2", b"a2 AUTHENTICATE PLAIN")
        assert command(b"a2", blob).startswith(b"a2 OK")
        command(b"a3", b"a3 CAPABILITY")
        command(b"a4", b'a4 ID ("name" "Thunderbird" "version" "140.0")')
        command(b"a5", b"a5 EXAMINE INBOX")
        command(b"a6", b"a6 LOGOUT")
        tls.close()

    def run() -> None:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.settimeout(10)
        with udp:
            for question in questions:
                udp.sendto(question, nameserver)
            for _ in questions:
                udp.recv(4096)
        worker = threading.Thread(target=imap)
        worker.start()
        smtp()
        worker.join()

    return run


def imports_run(env: dict[str, str], imports: str) -> Callable[[], None]:
    return lambda: subprocess.run([sys.executable, "-c", imports], check=True, env=env)


def median(rows: list[Row]) -> float:
    return statistics.median(wall for wall, _ in rows)


def show(label: str, rows: list[Row], latency: float, extra: float, reference: float) -> None:
    wall = median(rows)
    dns, imap, smtp = rows[len(rows) // 2][1]
    floor = latency * (dns + max(imap, smtp)) + extra
    ratio = f"ratio {wall / floor:4.2f}×" if floor else "no floor"  # 0 ms: no flight waits
    print(
        f"  {label:<26} median {wall:6.1f} ms   floor {floor:6.1f} ms "
        f"({dns} DNS + max(IMAP {imap}, SMTP {smtp}) flights × {latency:g} ms"
        f"{f' + start floor {extra:.0f} ms' if extra else ''})   {ratio}"
        + (f"   ({wall / reference:4.2f}× the bare client)" if reference else "")
    )


def main() -> None:
    latency = float(sys.argv[1]) if len(sys.argv) > 1 else 25.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    print(f"one check ({PROFILE}) against the lab at {latency:g} ms per flight, {rounds} rounds")
    load = os.getloadavg()
    with lab_process(latency) as lab:
        from conntest.lab import LAB_PASSWORD

        env = {**installed_env(), "BENCH_PASSWORD": LAB_PASSWORD}
        runs = {
            "in process": in_process_check(lab),
            "command": command_check(lab, env),
            "bare": bare_check(lab),
            "libraries": imports_run(env, LIBRARIES),
            "check path": imports_run(env, CHECK_PATH),
        }
        rows: dict[str, list[Row]] = {name: [] for name in runs}
        for i in range(rounds):
            order = list(runs) if i % 2 == 0 else list(reversed(runs))
            for name in order:
                rows[name].append(measured(lab, runs[name]))
    print(f"  load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after (2 cores)")
    bare = median(rows["bare"])
    show("in process (run_check)", rows["in process"], latency, 0.0, bare)
    start = median(rows["libraries"])
    show("python -m conntest check", rows["command"], latency, start, 0.0)
    show("bare sockets, same dialogue", rows["bare"], latency, 0.0, 0.0)
    print(
        f"  start floor (Python with {LIBRARIES[len('import ') :]}) {start:.0f} ms; "
        f"importing the check path {median(rows['check path']):.0f} ms, "
        f"so conntest's own modules {median(rows['check path']) - start:.0f} ms"
    )


if __name__ == "__main__":
    main()
