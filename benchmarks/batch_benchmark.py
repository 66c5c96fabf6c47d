"""Throughput and memory of ``conntest check --batch`` over lab accounts.

A benchmark, not a test: it prints figures and asserts nothing.  The lab's
servers run in the same process and on the same cores as the checks, so the
figures include the lab's share of the work (about half of it): a batch
against Microsoft 365 spends that CPU time waiting on the network instead.

    .venv/bin/python benchmarks/batch_benchmark.py [--accounts 1000] [--concurrency 100]
        [--scenarios all|ok] [--profiles 1] [--tracemalloc]

Peak memory is the process's peak resident set (``ru_maxrss``), and with
``--tracemalloc`` also the peak of Python allocations during the batch
(tracing slows the run down, so the throughput of that run is not
comparable).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
import tracemalloc
from collections import Counter

from conntest.batch import AccountEntry, PasswordSource, make_executor, run_batch
from conntest.lab import LAB_PASSWORD, SCENARIOS, Lab
from conntest.profiles import load_profiles

PASSWORD_VAR = "CONNTEST_BENCHMARK_PASSWORD"
WAITING = {"port-filtered", "silent-server"}
PROFILE_IDS = ("outlook-2016", "ios-mail", "thunderbird")


async def bench(args: argparse.Namespace) -> None:
    os.environ[PASSWORD_VAR] = LAB_PASSWORD
    names = list(SCENARIOS) if args.scenarios == "all" else ["ok"]
    scenario_of = {f"user{i:05d}@contoso.com": names[i % len(names)] for i in range(args.accounts)}
    loop = asyncio.get_running_loop()
    loop.set_default_executor(make_executor(args.concurrency, args.profiles))
    profiles = load_profiles()
    async with Lab(accounts=scenario_of) as lab:
        entries = []
        for i, (address, scenario) in enumerate(scenario_of.items()):
            ends = lab.endpoints(scenario)
            about_dns = SCENARIOS[scenario].dns.value != "normal"
            chosen = [PROFILE_IDS[(i + k) % 3] for k in range(args.profiles)]
            entries.append(
                AccountEntry(
                    address=address,
                    profiles=tuple(profiles.get(p) for p in chosen),
                    password=PasswordSource("env", PASSWORD_VAR),
                    imap=ends.imap,
                    smtp=ends.smtp,
                    # Pinned like test_batch: the lab's one DNS socket is not the subject.
                    resolve=()
                    if about_dns
                    else ((ends.imap[0], "127.0.0.1"), (ends.smtp[0], "127.0.0.1")),
                    nameserver=ends.nameserver,
                    ca_file=lab.ca_file,
                    tls_max=ends.client_tls_max,
                    expected_networks=ends.expected_networks,
                    timeout=2.0 if scenario in WAITING else 20.0,
                )
            )
        if args.tracemalloc:
            tracemalloc.start()
        cpu = time.process_time()
        started = time.perf_counter()
        batch = await run_batch(entries, concurrency=args.concurrency)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        traced_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
        if args.tracemalloc:
            tracemalloc.stop()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdicts = Counter(r.verdict for r in batch.results)
    count = len(batch.results)
    print(f"accounts:        {count} ({len(names)} scenarios, {args.profiles} profile(s) each)")
    print(f"concurrency:     {args.concurrency}")
    print(f"wall time:       {wall:.1f} s")
    print(f"accounts/s:      {count / wall:.1f}")
    per_account = cpu / count * 1000
    print(f"CPU time:        {cpu:.1f} s ({per_account:.1f} ms per account, lab included)")
    print(f"peak RSS:        {peak_rss_mb:.0f} MiB (process, lab included)")
    if traced_peak is not None:
        print(
            f"peak traced:     {traced_peak / 2**20:.1f} MiB (Python allocations during the batch)"
        )
    print(f"verdicts:        {dict(verdicts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--scenarios", choices=("all", "ok"), default="all")
    parser.add_argument("--profiles", type=int, choices=(1, 2, 3), default=1)
    parser.add_argument("--tracemalloc", action="store_true")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
