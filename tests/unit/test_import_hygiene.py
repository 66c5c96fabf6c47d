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


# What `--help` must leave out, so the CLI starts in a small multiple of
# `python -c pass` (issue 12; benchmarks/cold_start_benchmark.py measures it).
HEAVY = (
    "asyncio",
    "ssl",
    "concurrent.futures",
    "logging",
    "dns",
    "cryptography",
    "imapclient",
    "aiosmtplib",
    "yaml",
    "tenacity",
    "textual",
    "msal",
    "prometheus_client",
    "conntest.engine",
    "conntest.probes",
    "conntest.diagnosis",
    "conntest.profiles",
    "conntest.lockout",
    "conntest.lab",
)


def _imported_by(argv: list[str], *names: str) -> list[str]:
    code = (
        "import sys\n"
        "from conntest.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"names = {names!r}\n"
        "print('imported:' + ','.join(n for n in names if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "usage:" in out.stdout, out.stdout  # the help was printed
    line = out.stdout.strip().splitlines()[-1]
    assert line.startswith("imported:"), out.stdout
    return [n for n in line.removeprefix("imported:").split(",") if n]


def test_help_imports_only_the_standard_library_basics() -> None:
    for argv in (["--help"], ["check", "--help"], ["explain", "--help"], ["lab", "--help"]):
        assert _imported_by(argv, *HEAVY) == [], argv


def test_cli_tls_versions_match_the_profile_model() -> None:
    """The CLI keeps its own copy (importing the profile model costs start-up time)."""
    from conntest import cli, profile

    assert cli.TLS_VERSIONS == profile.TLS_VERSIONS
