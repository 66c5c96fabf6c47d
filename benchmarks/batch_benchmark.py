"""Batch throughput beside bare TLS handshakes, and peak memory per account, at 1,000 and 10,000.

A benchmark, not a test: it prints figures and asserts nothing.  The lab runs
in a process of its own (``benchmarks/lab_process.py``); each batch runs in a
fresh child process, so its peak RSS (``ru_maxrss``) is its own.  The batch
streams its results as ``conntest check --batch --format jsonl`` does (each
rendered to JSON and dropped; the runner keeps only the totals).

* accounts/s beside the rate of bare TLS handshakes the same machine does
  against the same lab port at the same concurrency, measured just before and
  just after each batch (the mean of the two: the machine's speed drifts); an
  account needs two handshakes (IMAP, SMTP), so the ratio printed is
  accounts/s ÷ (handshakes/s ÷ 2);
* peak RSS, and per account: (peak − the process's RSS before the batch) ÷ accounts;
* per-account wall at each size, and its change from the smallest size.

Targets (issue 12): at 10,000 accounts ≥ 0.5× the bare-TLS rate, peak RSS
under 150 MiB, per-account wall within 10% of the 1,000-account run.

    .venv/bin/python benchmarks/batch_benchmark.py [--sizes 1000,10000] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from lab_process import lab_process

PASSWORD_VAR = "CONNTEST_BENCHMARK_PASSWORD"


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def run_accounts(
    info: dict[str, Any], count: int, concurrency: int, protocol: str = "both"
) -> dict[str, Any]:
    from conntest.batch import AccountEntry, PasswordSource, make_executor, run_batch
    from conntest.lab import LAB_PASSWORD
    from conntest.profiles import load_profiles
    from conntest.render.jsonl import render_jsonl_line

    os.environ[PASSWORD_VAR] = LAB_PASSWORD
    asyncio.get_running_loop().set_default_executor(make_executor(concurrency, 1))
    profile = load_profiles().get("thunderbird")
    imap, smtp = tuple(info["imap"]), tuple(info["smtp"])

    def entry(i: int) -> AccountEntry:
        return AccountEntry(
            address=f"user{i:05d}@contoso.com",
            profiles=(profile,),
            password=PasswordSource("env", PASSWORD_VAR),
            imap=imap,
            smtp=smtp,
            # Pinned, as a batch file may: the lab's one DNS socket is not the subject.
            resolve=((imap[0], "127.0.0.1"), (smtp[0], "127.0.0.1")),
            nameserver=tuple(info["nameserver"]),
            ca_file=Path(info["ca_file"]),
            expected_networks=tuple(info["expected_networks"]),
            timeout=30.0,
        )

    entries = [entry(i) for i in range(count)]
    written = 0

    def sink(result: Any) -> None:
        nonlocal written
        written += len(render_jsonl_line(result))

    before = _rss_kib()
    cpu, started = time.process_time(), time.perf_counter()
    protocols: Any = ("imap", "smtp") if protocol == "both" else (protocol,)
    batch = await run_batch(
        entries, concurrency=concurrency, retain="none", on_result=sink, protocols=protocols
    )
    wall = time.perf_counter() - started
    return {
        "accounts": count,
        "wall": wall,
        "cpu": time.process_time() - cpu,
        "rss_before_kib": before,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "counts": batch.counts(),
        "jsonl_bytes": written,
    }


async def bare_tls(info: dict[str, Any], count: int, concurrency: int) -> dict[str, Any]:
    """``count`` TLS handshakes (and a close) on the lab's IMAP port, ``concurrency`` at once."""
    context = ssl.create_default_context(cafile=info["ca_file"])
    host, port = info["imap"]
    todo = iter(range(count))

    async def worker() -> None:
        for _ in todo:
            _reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=context, server_hostname=host
            )
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "handshakes": count,
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
    }


def child(
    mode: str, count: int, concurrency: int, info: dict[str, Any], protocol: str = "both"
) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(count), str(concurrency), protocol],
        input=json.dumps(info),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, count, concurrency = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        info = json.loads(sys.stdin.read())
        if mode == "batch":
            job = run_accounts(info, count, concurrency, sys.argv[5])
        else:
            job = bare_tls(info, count, concurrency)
        print(json.dumps(asyncio.run(job)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--handshakes", type=int, default=2000)
    parser.add_argument(
        "--protocol",
        choices=("both", "imap", "smtp"),
        default="both",
        help="check only one protocol (IMAP-only vs SMTP-only shows what each protocol costs)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with lab_process() as lab:

        def bare_rate() -> float:
            bare = child("bare", args.handshakes, args.concurrency, lab.info)
            rate = float(bare["handshakes"] / bare["wall"])
            print(
                f"bare TLS: {rate:.0f} handshakes/s ({bare['handshakes']} at concurrency "
                f"{args.concurrency}; {bare['cpu'] / bare['handshakes'] * 1000:.2f} ms client "
                "CPU each)"
            )
            return rate

        handshakes = 2 if args.protocol == "both" else 1  # per account
        first: float | None = None
        after = bare_rate()
        for size in sizes:
            # The machine's speed drifts: each batch is set against the bare-TLS runs
            # just before and just after it (their mean).
            before = after
            run = child("batch", size, args.concurrency, lab.info, args.protocol)
            after = bare_rate()
            rate = (before + after) / 2
            per_account = run["wall"] / size * 1000
            first = first or per_account
            peak = run["peak_rss_kib"] / 1024
            growth = (run["peak_rss_kib"] - run["rss_before_kib"]) / size
            print(
                f"{size:>6} accounts: {size / run['wall']:6.1f} accounts/s = "
                f"{size / run['wall'] / (rate / handshakes):4.2f}× the bare-TLS rate "
                f"({rate:.0f}/s); "
                f"{run['cpu'] / size * 1000:5.1f} ms CPU/account; peak RSS {peak:5.1f} MiB "
                f"({growth:5.2f} KiB/account over the {run['rss_before_kib'] / 1024:.0f} MiB "
                f"before); wall {per_account:5.2f} ms/account ({per_account / first - 1:+.0%}); "
                f"{run['counts']}"
            )
            rss = lab.ask("rss")
            print(
                f"        lab process: RSS {rss['now'] / 1024:.0f} MiB"
                f" (peak {rss['peak'] / 1024:.0f}),"
                f" record {lab.ask('flights')['connections']} connections"
            )


if __name__ == "__main__":
    main()
