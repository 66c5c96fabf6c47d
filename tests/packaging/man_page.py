"""docs/conntest.1, the manual page, written by argparse-manpage from the full parser.

``make man`` runs ``python -m tests.packaging.man_page docs/conntest.1``;
tests/packaging/test_man_page.py fails when the page no longer matches the
parser.  argparse-manpage is a development dependency only: users get the
page from the sdist (or a distribution's package), never generate it.  The
page is laid out at 80 columns whatever the terminal, and its date is the
day it was written (``$SOURCE_DATE_EPOCH`` when set); the test ignores that
date.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from argparse_manpage.manpage import Manpage  # type: ignore[import-untyped]

from conntest import __version__
from conntest.cli_parser import build_parser

PAGE = Path(__file__).resolve().parents[2] / "docs" / "conntest.1"
REGENERATE = "make man"

_EXTRA = """\
[>EXIT STATUS]
As the Monitoring Plugins: 0 ok (informational findings only), 1 warning
(works, with something to fix), 2 critical (the client cannot connect or sign
in), 3 unknown (bad input, an internal error, or interrupted before the report
was out; one line on standard error, and under \\-\\-format nagios a
CONNTEST UNKNOWN line on standard output).

[>ENVIRONMENT]
CONNTEST_CONFIG names the settings file (config.yaml); CONNTEST_TODAY sets
the date the advice is given for. The password is read from the variable
\\-\\-password\\-env names, a file, or standard input, never from an argument.

[>SEE ALSO]
The documentation shipped with the sdist: docs/cli.md (this command line),
docs/monitoring.md (\\-\\-batch, nagios, prometheus, serve), docs/diagnoses.md
(every finding), docs/files.md (the files conntest reads and writes).
"""


def render() -> str:
    """The page, from :func:`conntest.cli_parser.build_parser` with every subcommand built."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "10000"  # one line per usage: man fills it to the reader's width
    try:
        with tempfile.TemporaryDirectory() as folder:
            extra = Path(folder) / "extra.ini"
            extra.write_text(_EXTRA, encoding="utf-8")
            page = Manpage(
                build_parser(),
                _data={
                    "prog": "conntest",
                    "project_name": "m365-conntest",
                    "version": __version__,
                    "description": "test whether a legacy mail client can reach "
                    "Microsoft 365, and why not",
                    "manual_title": "User Commands",
                    "include": str(extra),
                },
            )
            return str(page)
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def without_date(page: str) -> str:
    """The page with the date of its ``.TH`` line left out (the day it was written)."""
    head, _, rest = page.partition("\n")
    fields = head.split('"')
    if head.startswith(".TH ") and len(fields) > 3:
        fields[3] = ""
    return '"'.join(fields) + "\n" + rest


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else PAGE
    target.write_text(render(), encoding="utf-8")
