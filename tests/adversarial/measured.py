"""Run a command and report its own wall time, exit status and peak memory.

``python -I -S measured.py RESULT LIMIT COMMAND...`` starts COMMAND, kills it
after LIMIT seconds, and writes ``{"status", "seconds", "maxrss_kib"}`` as JSON
to RESULT.  Why a process in between: Linux records the memory of the process
that spawns a child into the child's ``ru_maxrss`` at ``exec`` (``vfork`` and
``posix_spawn`` share the parent's memory until then), so a child spawned by
pytest reports at least pytest's own peak, which grows with the tests that ran
before it in that process.  Spawned from this small interpreter instead, the
figure is the command's own.  Standard library only, so ``-S`` can skip site.
"""

import json
import os
import signal
import subprocess
import sys
import time


def main() -> None:
    result, limit, command = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    start = time.monotonic()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > limit:
            os.kill(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.monotonic() - start
    with open(result, "w", encoding="utf-8") as out:
        json.dump(
            {
                "status": os.waitstatus_to_exitcode(status),
                "seconds": seconds,
                "maxrss_kib": usage.ru_maxrss,
            },
            out,
        )


if __name__ == "__main__":
    main()
