"""The real ``conntest demo`` in a real terminal (tmux): pick a scenario, run it, read the verdict.

Keys are sent one special key per ``send-keys`` call with short gaps: sent
in one burst, Textual takes them as pasted text (INFRA.md §5).  Only the
session this test creates is ever killed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"
)

REPO = Path(__file__).resolve().parents[2]


class Pane:
    """One tmux session running a command, driven like a person at the keyboard.

    Each pane has a tmux server of its own (``-L``), so a test never touches
    another tmux on the machine and ``kill-server`` ends only what it started.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.name, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        return done.stdout

    def start(self, command: str, *, width: int = 100, height: int = 32) -> None:
        subprocess.run(
            [
                *("tmux", "-L", self.name, "new-session", "-d", "-s", self.name),
                *("-x", str(width), "-y", str(height), command),
            ],
            check=True,
            cwd=REPO,
            timeout=10,
        )

    def close(self) -> None:
        self.tmux("kill-server")

    def text(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.name, "-l", text)
        time.sleep(0.2)

    def key(self, key: str) -> None:
        self.tmux("send-keys", "-t", self.name, key)
        time.sleep(0.2)

    def wait_for(self, *needles: str, timeout: float = 30) -> str:
        """The pane's text once every needle is on it (the screen paints in pieces)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.text()
            if all(needle in screen for needle in needles):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{needles!r} never all appeared; the pane shows:\n{self.text()}")

    def alive(self) -> bool:
        return (
            subprocess.run(
                ["tmux", "-L", self.name, "has-session", "-t", self.name],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )


@pytest.fixture
def pane() -> Iterator[Pane]:
    pane = Pane(f"conntest-test-{uuid.uuid4().hex[:10]}")
    try:
        yield pane
    finally:
        pane.close()


@pytest.fixture
def demo_pane(pane: Pane, tmp_path: Path) -> Pane:
    pane.start(f"cd {tmp_path} && {sys.executable} -m conntest demo")
    return pane


def test_conntest_demo_in_tmux(demo_pane: Pane, tmp_path: Path) -> None:
    """A person opens the demo, picks "smtp-auth-disabled-tenant", runs it and reads the verdict.

    They should see the three clients, then "Partly works", the matrix saying
    each client receives but cannot send, and why; s saves the report in the
    current directory; q quits.
    """
    screen = demo_pane.wait_for("Lab scenario", "Outlook 2016", "iOS Mail", "Thunderbird")
    assert "correcthorsebatt" not in screen  # the prefilled lab password is masked too
    time.sleep(0.3)
    demo_pane.key("Enter")  # open the scenario list (it has the focus)
    demo_pane.type("smtp-auth-disabled-t")  # type to search
    demo_pane.key("Enter")
    screen = demo_pane.wait_for("SMTP AUTH is disabled for the tenant; IMAP works.")
    demo_pane.key("C-r")

    screen = demo_pane.wait_for("Partly works", "Thunderbird")
    assert "lab: smtp-auth-disabled-tenant" in screen
    assert "3 of 3 clients can receive, 0 of 3 can send" in screen
    rows = [line for line in screen.splitlines() if "✔ works" in line and "✘ fails" in line]
    assert len(rows) == 3, screen
    assert all("Sending is switched off" in row for row in rows)

    demo_pane.key("s")
    demo_pane.wait_for("Report saved")
    saved = sorted(tmp_path.glob("conntest-report-*.md"))
    assert len(saved) == 1
    assert "smtp-auth-disabled" in saved[0].read_text(encoding="utf-8")
    assert "correcthorsebatt" not in saved[0].read_text(encoding="utf-8")

    demo_pane.key("q")
    deadline = time.monotonic() + 10
    while demo_pane.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not demo_pane.alive(), "q should quit conntest (and end the tmux session)"


def test_a_screen_that_dies_exits_non_zero(pane: Pane, tmp_path: Path) -> None:
    """A broken install (the stylesheet missing from the wheel) must not look like success.

    Textual prints its error and returns; conntest then exits 3 (UNKNOWN), so
    a script, CI or a monitoring wrapper sees the failure.
    """
    rc = tmp_path / "rc"
    script = (
        "import sys; from conntest.tui.app import ConntestApp; "
        "ConntestApp.CSS_PATH = 'no-such-stylesheet.tcss'; "
        "from conntest.cli import main; sys.exit(main(['demo']))"
    )
    pane.start(f'{sys.executable} -c "{script}"; echo $? > {rc}; sleep 30')
    deadline = time.monotonic() + 30
    while not (rc.exists() and rc.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rc.read_text().strip() == "3", pane.text()
    assert "no-such-stylesheet.tcss" in pane.text()
