"""Cold start of the headless commands, as a ratio to ``python -c pass``.

Prints figures; asserts nothing (tests/unit/test_import_hygiene.py asserts
which modules ``--help`` leaves out).  Each round runs ``python -c pass`` and
one command back to back, alternating which goes first, so load on a shared
machine hits both alike; the ratio is of the medians.

Targets (issue 12): ``conntest --help`` and ``check --help`` ≤ 2.5×,
``explain`` ≤ 3.5×.  Run: ``.venv/bin/python benchmarks/cold_start_benchmark.py [ROUNDS]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lab_process import installed_env

ENV = installed_env()

COMMANDS = {
    "--help": ["-m", "conntest", "--help"],
    "check --help": ["-m", "conntest", "check", "--help"],
    "explain": [
        "-m",
        "conntest",
        "explain",
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
    ],
    "profiles": ["-m", "conntest", "profiles"],
}
TARGETS = {"--help": 2.5, "check --help": 2.5, "explain": 3.5}
BASELINE = ["-c", "pass"]


def once(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], capture_output=True, check=False, env=ENV)
    return (time.perf_counter() - started) * 1000


def pairs(args: list[str], rounds: int) -> tuple[float, float]:
    """Medians (ms) of the baseline and of ``args``, run in alternating pairs."""
    base: list[float] = []
    command: list[float] = []
    once(args)  # warm the page cache and the bytecode
    for i in range(rounds):
        if i % 2:
            base.append(once(BASELINE))
            command.append(once(args))
        else:
            command.append(once(args))
            base.append(once(BASELINE))
    return statistics.median(base), statistics.median(command)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    print(f"cold start, {rounds} alternating pairs, medians")
    for name, args in COMMANDS.items():
        base, command = pairs(args, rounds)
        target = TARGETS.get(name)
        verdict = "" if target is None else f"  target ≤ {target}×"
        verdict += "" if target is None else (" met" if command / base <= target else " MISSED")
        print(
            f"  {name:<14} {command:6.1f} ms   python -c pass {base:5.1f} ms"
            f"   ratio {command / base:4.2f}×{verdict}"
        )


if __name__ == "__main__":
    main()
