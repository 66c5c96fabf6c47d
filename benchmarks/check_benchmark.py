"""How fast is one check, and how fast does the headless command start?

Prints figures; asserts nothing.  Run: ``.venv/bin/python benchmarks/check_benchmark.py``.

- cold start: ``python -m conntest check --help`` as a subprocess (import cost of the headless path)
- one check against the in-process lab (``ok`` scenario), one profile and all profiles,
  median of N runs after one warm-up, with the lab already started
- the same with 25 ms of latency on every lab write (a wide-area round trip)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import statistics
import subprocess
import sys
import time

from conntest.engine import CheckRequest, run_check
from conntest.lab import LAB_PASSWORD, Lab
from conntest.probes.dns_probe import ResolverConfig
from conntest.profiles import load_profiles

RUNS = 15


def cold_start() -> list[float]:
    times = []
    for _ in range(7):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "conntest", "check", "--help"], capture_output=True, check=True
        )
        times.append((time.perf_counter() - t) * 1000)
    return times


async def checks(latency_ms: float, profiles: list[str] | None, runs: int) -> list[float]:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(32))
    loaded = load_profiles()
    chosen = [loaded.get(p) for p in profiles] if profiles else list(loaded)
    async with Lab(default_scenario="ok", latency_ms=latency_ms) as lab:
        ends = lab.endpoints("ok")
        request = CheckRequest(
            user="bench@contoso.com",
            password=LAB_PASSWORD,
            profiles=chosen,
            imap_server=ends.imap,
            smtp_server=ends.smtp,
            resolver=ResolverConfig(nameserver=ends.nameserver),
            ca_file=lab.ca_file,
            expected_networks=ends.expected_networks,
            timeout=30,
        )
        times = []
        for i in range(runs + 1):
            t = time.perf_counter()
            report = await run_check(request)
            if i:
                times.append((time.perf_counter() - t) * 1000)
            assert report.severity.verdict in {"ok", "warning"}, report.severity
    return times


def show(label: str, times: list[float]) -> None:
    print(
        f"{label:<52} median {statistics.median(times):7.1f} ms  "
        f"min {min(times):7.1f}  max {max(times):7.1f}  (n={len(times)})"
    )


def main() -> None:
    show("cold start: conntest check --help (subprocess)", cold_start())
    lab_start = []
    for _ in range(5):

        async def start_stop() -> None:
            async with Lab():
                pass

        t = time.perf_counter()
        asyncio.run(start_stop())
        lab_start.append((time.perf_counter() - t) * 1000)
    show("lab start+stop (in process)", lab_start)
    show("check, 1 profile (thunderbird), lab ok", asyncio.run(checks(0, ["thunderbird"], RUNS)))
    show("check, all 3 profiles, lab ok", asyncio.run(checks(0, None, RUNS)))
    show(
        "check, 1 profile, 25 ms latency per lab write", asyncio.run(checks(25, ["thunderbird"], 5))
    )


if __name__ == "__main__":
    main()
