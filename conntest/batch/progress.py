"""A one-line progress bar over a batch, on standard error, for people at a terminal.

Never on a pipe or a file, and never under ``CI`` (CI logs keep every
carriage return as a new line): :func:`progress_for` returns ``None`` then.
Redraws are rate-limited so that a batch of thousands does not spend its
time painting.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TextIO

from conntest.results import AccountResult

__all__ = ["Progress", "progress_for"]

WIDTH = 30
MIN_REDRAW = 0.1


class Progress:
    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.failing = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def __call__(self, result: AccountResult) -> None:
        self.done += 1
        self.failing += result.state.exit_code >= 2
        now = time.monotonic()
        if self.done == self.total or now - self._drawn >= MIN_REDRAW:
            self._drawn = now
            self.draw()

    def draw(self) -> None:
        filled = WIDTH * self.done // max(1, self.total)
        bar = "#" * filled + "-" * (WIDTH - filled)
        elapsed = time.monotonic() - self.started
        failing = f", {self.failing} failing" if self.failing else ""
        self.stream.write(
            f"\r\x1b[Kconntest [{bar}] {self.done}/{self.total} accounts{failing}, {elapsed:.1f} s"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def progress_for(
    stream: TextIO, total: int, environ: Mapping[str, str] = os.environ
) -> Progress | None:
    """A progress bar when ``stream`` is a terminal and not under CI, else ``None``."""
    if environ.get("CI") or not stream.isatty():
        return None
    return Progress(stream, total)
