"""Cold start of the headless commands, as a ratio to ``python -c pass``.

Prints figures; asserts nothing (tests/unit/test_imports_per_command.py asserts
what each command leaves out).  Each round runs ``python -c pass`` and one
command back to back, alternating which goes first, so load on a shared
machine hits both alike; the ratio is of the medians.  Beside the wall time
it prints the children's CPU time (user + system), which another engineer's
load disturbs far less than the wall clock; the load average is printed before
and after.

Both run through one interpreter that sees conntest as ``pip install`` leaves
it: the checkout and the dev venv's site-packages as plain ``sys.path``
entries, with bytecode.  The dev venv itself would flatter conntest: its
editable install imports setuptools' finder from a ``.pth`` at every start
(pathlib, re, urllib.parse, importlib.util: about 20 ms), which inflates
``python -c pass`` with modules conntest then gets for free.  ``--editable``
measures the dev venv as it is, for comparison.

The commands run as a user runs them: the ``conntest`` script pip writes for the
entry point (``-m conntest`` adds runpy's imports, shown on its own row).

Targets (issue 12): ``conntest --help`` and ``check --help`` ≤ 2.5×,
``explain`` ≤ 3.5×.  Run:
``.venv/bin/python benchmarks/cold_start_benchmark.py [--editable] [ROUNDS]``.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lab_process import installed_env

CHECKOUT = Path(__file__).resolve().parent.parent
ENV = installed_env()

SCRIPT = "conntest-script"
"""The ``conntest`` command, in the venv's scripts directory, as pip writes it."""

COMMANDS = {
    "--help": [SCRIPT, "--help"],
    "check --help": [SCRIPT, "check", "--help"],
    "explain": [
        SCRIPT,
        "explain",
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
    ],
    "profiles list": [SCRIPT, "profiles", "list"],
    "-m conntest --help": ["-m", "conntest", "--help"],  # runpy's own imports on top
    "import engine": ["-c", "import conntest.engine"],  # the headless check path
}
TARGETS = {"--help": 2.5, "check --help": 2.5, "explain": 3.5}
BASELINE = ["-c", "pass"]


def installed_python(where: Path) -> str:
    """A venv of the same base interpreter that sees conntest and its libraries on plain paths."""
    builder = venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt")
    builder.create(where)
    python = builder.ensure_directories(where).env_exe
    ask = "import sysconfig; print(sysconfig.get_path('purelib'))"
    purelib = subprocess.run(
        [python, "-c", ask], capture_output=True, text=True, check=True
    ).stdout.strip()
    # Path lines only: site appends them without importing anything, and does not
    # read the .pth files (the editable finder's) in a directory added this way.
    lines = [str(CHECKOUT), sysconfig.get_path("purelib")]
    (Path(purelib) / "conntest-under-test.pth").write_text("\n".join(lines) + "\n")
    # pip's console-script template (the [project.scripts] entry point): what a user runs.
    (Path(python).parent / SCRIPT).write_text(
        "import sys\n"
        "from conntest.console import console\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = sys.argv[0].removesuffix('.exe')\n"
        "    sys.exit(console())\n"
    )
    return python


def once(python: str, args: list[str], cwd: str) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if args[0] == SCRIPT:  # --editable: the dev venv's own script
        script = Path(python).parent / SCRIPT
        args = [str(script if script.exists() else script.with_name("conntest")), *args[1:]]
    done = subprocess.run([python, *args], capture_output=True, check=False, env=ENV, cwd=cwd)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    if done.returncode not in (0, 2):  # explain's verdict on that text is critical (2)
        raise SystemExit(f"{args} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return wall, cpu


def pairs(python: str, args: list[str], rounds: int, cwd: str) -> tuple[Medians, Medians]:
    """Medians of the baseline and of ``args``, run in alternating pairs."""
    base: list[tuple[float, float]] = []
    command: list[tuple[float, float]] = []
    once(python, args, cwd)  # warm the page cache
    for i in range(rounds):
        if i % 2:
            base.append(once(python, BASELINE, cwd))
            command.append(once(python, args, cwd))
        else:
            command.append(once(python, args, cwd))
            base.append(once(python, BASELINE, cwd))
    return _medians(base), _medians(command)


Medians = tuple[float, float]
"""Wall and CPU milliseconds."""


def _medians(runs: list[tuple[float, float]]) -> Medians:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def main() -> None:
    argv = sys.argv[1:]
    editable = "--editable" in argv
    numbers = [a for a in argv if a != "--editable"]
    rounds = int(numbers[0]) if numbers else 15
    with tempfile.TemporaryDirectory(prefix="conntest-cold-") as tmp:
        python = sys.executable if editable else installed_python(Path(tmp) / "venv")
        layout = "the dev venv (editable install)" if editable else "conntest as pip installs it"
        print(f"cold start, {rounds} alternating pairs, medians; {layout}")
        print(f"  {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {_load()}")
        print(f"  {'':<18}     wall  -c pass   ratio        CPU  -c pass   ratio")
        for name, args in COMMANDS.items():
            (base, base_cpu), (command, command_cpu) = pairs(python, args, rounds, tmp)
            target = TARGETS.get(name)
            verdict = "" if target is None else f"  target ≤ {target}×"
            verdict += "" if target is None else (" met" if command / base <= target else " MISSED")
            print(
                f"  {name:<18} {command:5.1f} ms  {base:4.1f} ms  {command / base:5.2f}×"
                f"   {command_cpu:5.1f} ms  {base_cpu:4.1f} ms  {command_cpu / base_cpu:5.2f}×"
                f"{verdict}"
            )
        print(f"  load average after: {_load()}")


if __name__ == "__main__":
    main()
