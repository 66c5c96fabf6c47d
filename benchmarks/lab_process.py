"""The lab in a process of its own, for benchmarks: conntest and its peers meet it over loopback.

Run in-process, the lab would share conntest's event loop and CPU and the
figures would measure both.  The child prints one JSON line with its
endpoints, then answers commands on standard input, one per line:
``flights`` (the delayed server flights per listener and the DNS questions
since the last ``clear``), ``rss`` (its RSS now and at its peak, KiB), ``clear``.
"""

from __future__ import annotations

import asyncio
import compileall
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def installed_env() -> dict[str, str]:
    """The environment of a conntest that is installed as pip installs it: with its bytecode.

    Some shells here set PYTHONDONTWRITEBYTECODE, so an editable checkout
    compiles every conntest module from source at each start (~0.4 s); a
    benchmark of start-up would measure the compiler.  This compiles the
    package once and drops the variable for the children.
    """
    package = Path(__file__).resolve().parent.parent / "conntest"
    compileall.compile_dir(str(package), quiet=1)
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class LabProcess:
    """A running lab child and what a check needs to meet it."""

    proc: subprocess.Popen[str]
    info: dict[str, Any]

    def ask(self, command: str) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    @property
    def check_args(self) -> list[str]:
        return list(self.info["check_args"])


@contextmanager
def lab_process(latency_ms: float = 0.0, scenario: str = "ok") -> Iterator[LabProcess]:
    proc = subprocess.Popen(
        [sys.executable, __file__, str(latency_ms), scenario],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=installed_env(),
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield LabProcess(proc, info)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _child(latency_ms: float, scenario: str) -> None:
    import resource

    from conntest.lab import Lab
    from conntest.lab.runner import full_check_args

    async with Lab(default_scenario=scenario, latency_ms=latency_ms) as lab:
        ends = lab.endpoints(scenario)
        info = {
            "imap": list(ends.imap),
            "smtp": list(ends.smtp),
            "nameserver": list(ends.nameserver),
            "ca_file": str(lab.ca_file),
            "expected_networks": list(ends.expected_networks),
            "check_args": [*full_check_args(ends), "--ca-file", str(lab.ca_file)],
        }
        print(json.dumps(info), flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := (await reader.readline()).decode().strip():
            if line == "flights":
                answer: Any = {
                    "flights": dict(lab.record.flights),
                    "dns": [[q.name, q.rdtype] for q in lab.record.dns_queries()],
                    "connections": len(lab.record.connections()),
                    "dropped": lab.record.dropped.total,
                }
            elif line == "rss":
                with open("/proc/self/status", encoding="ascii") as status:
                    now = next(int(x.split()[1]) for x in status if x.startswith("VmRSS:"))
                answer = {"peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "now": now}
            elif line == "clear":
                lab.record.clear()
                answer = "ok"
            else:
                answer = f"unknown command {line!r}"
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    asyncio.run(_child(float(sys.argv[1]), sys.argv[2]))
