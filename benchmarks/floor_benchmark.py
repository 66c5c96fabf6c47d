"""One check beside its round-trip floor, counted by the lab itself.

The lab (in a process of its own, ``benchmarks/lab_process.py``) delays every
server flight by ``--latency-ms``, TLS handshake flights included, and counts
them per listener.  IMAP and SMTP run side by side, so the floor of a check is

    latency × (1 DNS round trip + the larger of the IMAP and SMTP flight counts)

(the A/AAAA, MX and autodiscover questions go out together).  Two figures:

* in process: ``run_check`` against the lab, wall / floor;
* the command: ``python -m conntest check`` as a subprocess, wall / (floor +
  the import floor, the median start of a Python that imports what a check
  imports, measured in alternation with the checks).

Prints figures; asserts nothing.  Target (issue 12): ≤ 1.15× at 25 ms.
Run: ``.venv/bin/python benchmarks/floor_benchmark.py [LATENCY_MS] [RUNS]``.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from lab_process import LabProcess, installed_env, lab_process

PROFILE = "thunderbird"
IMPORTS = (
    "import conntest.cli, conntest.engine, conntest.probes.imap_probe,"
    " conntest.probes.smtp_probe, conntest.render.text_report,"
    " cryptography.x509, dns.asyncresolver"  # loaded by the first handshake and lookup
)


def critical_flights(answer: dict[str, Any]) -> tuple[int, int, int]:
    flights = answer["flights"]
    imap = sum(n for name, n in flights.items() if name.endswith("imap"))
    smtp = sum(n for name, n in flights.items() if name.endswith("smtp"))
    dns = 1 if any(rdtype in {"A", "AAAA"} for _, rdtype in answer["dns"]) else 0
    return dns, imap, smtp


async def in_process(lab: LabProcess, runs: int) -> list[tuple[float, tuple[int, int, int]]]:
    from conntest.engine import CheckRequest, run_check
    from conntest.lab import LAB_PASSWORD
    from conntest.probes.dns_probe import ResolverConfig
    from conntest.profiles import load_profiles

    info = lab.info
    request = CheckRequest(
        user="bench@contoso.com",
        password=LAB_PASSWORD,
        profiles=[load_profiles().get(PROFILE)],
        imap_server=(info["imap"][0], info["imap"][1]),
        smtp_server=(info["smtp"][0], info["smtp"][1]),
        resolver=ResolverConfig(nameserver=(info["nameserver"][0], info["nameserver"][1])),
        ca_file=Path(info["ca_file"]),
        expected_networks=tuple(info["expected_networks"]),
        timeout=30,
    )
    out = []
    for i in range(runs + 1):
        lab.ask("clear")
        started = time.perf_counter()
        report = await run_check(request)
        wall = (time.perf_counter() - started) * 1000
        assert report.severity.verdict in {"ok", "warning"}, report.severity
        if i:  # the first one warms the TLS contexts
            out.append((wall, critical_flights(lab.ask("flights"))))
    return out


def command(lab: LabProcess, runs: int) -> tuple[list[tuple[float, tuple[int, int, int]]], float]:
    from conntest.lab import LAB_PASSWORD

    env = {**installed_env(), "BENCH_PASSWORD": LAB_PASSWORD}
    argv = [
        sys.executable,
        "-m",
        "conntest",
        "check",
        "--user",
        "bench@contoso.com",
        "--profile",
        PROFILE,
        "--password-env",
        "BENCH_PASSWORD",
        *lab.check_args,
    ]
    out, imports = [], []
    for _ in range(runs):
        lab.ask("clear")
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        wall = (time.perf_counter() - started) * 1000
        # 1: a working account warned that Basic auth is being retired (date-aware advice).
        assert done.returncode <= 1, done.stdout + done.stderr
        out.append((wall, critical_flights(lab.ask("flights"))))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", IMPORTS], check=True, env=env)
        imports.append((time.perf_counter() - started) * 1000)
    return out, statistics.median(imports)


def show(
    label: str, rows: list[tuple[float, tuple[int, int, int]]], latency: float, extra: float
) -> None:
    wall = statistics.median(w for w, _ in rows)
    dns, imap, smtp = rows[len(rows) // 2][1]
    floor = latency * (dns + max(imap, smtp)) + extra
    print(
        f"  {label:<28} median {wall:6.1f} ms   floor {floor:6.1f} ms "
        f"({dns} DNS + max(IMAP {imap}, SMTP {smtp}) flights × {latency:g} ms"
        f"{f' + import floor {extra:.0f} ms' if extra else ''})   ratio {wall / floor:4.2f}×"
    )


def main() -> None:
    latency = float(sys.argv[1]) if len(sys.argv) > 1 else 25.0
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    print(f"one check ({PROFILE}) against the lab at {latency:g} ms per server flight, {runs} runs")
    with lab_process(latency) as lab:
        show("in process (run_check)", asyncio.run(in_process(lab, runs)), latency, 0.0)
        rows, import_floor = command(lab, runs)
        show("python -m conntest check", rows, latency, import_floor)


if __name__ == "__main__":
    main()
