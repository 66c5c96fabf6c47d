"""The headless path must not import Textual (start-up time, and a core that knows no screens)."""

from __future__ import annotations

import subprocess
import sys


def test_check_command_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        "from conntest import cli\n"
        "from conntest.engine import run_check\n"
        "import conntest.render.json_report, conntest.render.text_report, conntest.diagnosis\n"
        "bad = sorted(m for m in sys.modules\n"
        "             if m == 'textual' or m.startswith(('textual.', 'conntest.tui')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_runs_without_textual() -> None:
    code = (
        "import sys\n"
        "from conntest.cli import main\n"
        "try:\n    main(['check', '--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'textual' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
