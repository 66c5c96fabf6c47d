"""Each command imports what it uses, and no more (issue 12: cold start).

A fresh interpreter runs the command through :func:`conntest.cli.main`, then
lists which of the named modules ended up in ``sys.modules``; for the help
and ``explain`` it runs without ``site`` (``-S``), as pip's install of
conntest starts, because the dev venv's editable-install finder imports
pathlib, urllib.parse and ipaddress into every interpreter.  No timing is
asserted (benchmarks/cold_start_benchmark.py measures it); what is asserted is
the structure that keeps a start fast: ``explain`` loads the catalogue and the
text matcher, not the probes, the event loop or the rules that read a whole
run, and the engine loads cryptography and dnspython only when a handshake or a
lookup needs them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]

NETWORK = (
    "asyncio",
    "ssl",
    "socket",
    "concurrent.futures",
    "logging",
    "dns",
    "cryptography",
    "imapclient",
    "aiosmtplib",
    "tenacity",
    "msal",
    "textual",
)
"""The event loop, TLS and the protocol libraries: only a check needs them."""

WHOLE_RUN = (
    "conntest.engine",
    "conntest.probes",
    "conntest.lockout",
    "conntest.lab",
    "conntest.password",
    "conntest.diagnosis.findings",
    "conntest.diagnosis.ranking",
    "conntest.diagnosis.rules.context",
    "conntest.diagnosis.rules.failed",
    "conntest.diagnosis.rules.signin",
    "conntest.diagnosis.rules.oauth",
    "conntest.diagnosis.rules.retirement",
)
"""What diagnosing a recorded run needs and explaining one pasted text does not."""

PARSING_LATER = (
    "typing",
    "pathlib",
    "urllib.parse",
    "ipaddress",
    "datetime",
    "shutil",
    "dataclasses",
    "inspect",
    "json",
    "signal",
    "threading",
    "conntest.schema.problem",
    "conntest.inputs.values",
    "conntest.oauth.result",
    "conntest.model",
    "conntest.interrupts",
)
"""What reading the command line leaves for later: a value's validator, a path, a result.

typing and dataclasses (with inspect, ast, dis), pathlib (with urllib.parse
and ipaddress) and shutil (with bz2, lzma) would each cost a sizeable part of
``python -c pass`` again; ``conntest --help`` is meant to cost 2.5 of it.
"""

SUBCOMMAND_MODULES = (
    "conntest.batch.options",
    "conntest.oauth.command",
    "conntest.inputs.argtypes",
    "conntest.completion",
    "shtab",
)
"""Where the options of ``check``, ``serve`` and ``oauth`` are, and shtab (only ``completion``)."""

BASIC_AUTH = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."


def _run(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _command(argv: list[str], *names: str) -> dict[str, object]:
    """Exit code, output and which of ``names`` were imported after ``conntest ARGV``."""
    code = (
        "import contextlib, io, sys\n"
        "out = io.StringIO()\n"
        "from conntest.cli import main\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    rc = main({argv!r})\n"
        f"loaded = [n for n in {names!r} if n in sys.modules]\n"
        "import json\n"  # only now: the check above must not see the harness's own imports
        "print(json.dumps({'rc': rc, 'stdout': out.getvalue(), 'imported': loaded}))\n"
    )
    return _run(code)


def _bare(argv: list[str], *names: str) -> dict[str, object]:
    """As :func:`_command`, without ``site``: only the checkout and the standard library."""
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(CHECKOUT)!r})\n"
        "import contextlib, io\n"
        "out = io.StringIO()\n"
        "from conntest.cli import main\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        rc = main({argv!r})\n"
        "    except SystemExit as exc:\n"  # --help: argparse exits 0
        "        rc = exc.code\n"
        f"loaded = [n for n in {names!r} if n in sys.modules]\n"
        "import json\n"
        "print(json.dumps({'rc': rc, 'stdout': out.getvalue(), 'imported': loaded}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_help_lists_the_subcommands_without_loading_what_they_take() -> None:
    result = _bare(["--help"], *PARSING_LATER, *SUBCOMMAND_MODULES, *NETWORK)
    assert result["rc"] == 0
    listed = "{check,oauth,serve,lab,profiles,schema,explain,tui,demo,completion}"
    assert listed in str(result["stdout"])
    assert "sign in with Microsoft for --oauth checks" in str(result["stdout"])
    assert result["imported"] == []


def test_check_help_defines_the_options_but_loads_no_validator() -> None:
    result = _bare(["check", "--help"], *PARSING_LATER, *NETWORK, *WHOLE_RUN)
    assert result["rc"] == 0
    for option in ("--user", "--batch", "--oauth", "--authority", "--today", "--profile-file"):
        assert option in str(result["stdout"]), option
    assert result["imported"] == []


def test_nested_help_loads_no_validator_either() -> None:
    for argv in (["oauth", "login", "--help"], ["profiles", "list", "--help"]):
        result = _bare(argv, *PARSING_LATER, *NETWORK)
        assert result["rc"] == 0
        assert str(result["stdout"]).startswith(f"usage: conntest {argv[0]} {argv[1]}")
        assert result["imported"] == [], argv


EXPLAIN_LEAVES_OUT = (
    "typing",
    "datetime",
    "string",
    "dataclasses",
    "inspect",
    "conntest.model",
    "conntest.profile",
    "conntest.schema",
    "conntest.diagnosis.rules.observed",
    "conntest.render.text_report",
    "conntest.render.headline",
)
"""What explaining one text needs neither of: the run's model (steps, the report around a
finding), a client profile when none is named, the report renderers, and the standard
modules only they use (typing for the profile's annotations, datetime for the
retirement countdown, string's Formatter where ``str.format_map`` does), and
dataclasses with inspect (the catalogue's classes are :mod:`conntest.record` records)."""


def test_explain_leaves_out_the_report_matrix_and_the_signal_handlers() -> None:
    later = ["conntest.render.matrix", "conntest.migration", "pathlib", "shutil"]
    if sys.platform != "win32":  # where Ctrl-Break has to be made an interrupt first
        later += ["conntest.interrupts", "signal", "threading"]
    result = _bare(["explain", BASIC_AUTH], *later, *EXPLAIN_LEAVES_OUT)
    assert "(basic-auth-disabled)" in str(result["stdout"])
    assert result["imported"] == []


def test_explain_as_json_wraps_no_text() -> None:
    result = _bare(["explain", "--format", "json", BASIC_AUTH], "textwrap", *EXPLAIN_LEAVES_OUT)
    assert json.loads(str(result["stdout"]))["code"] == "basic-auth-disabled"
    assert result["imported"] == []


def test_explain_loads_neither_the_network_nor_the_run_rules() -> None:
    result = _command(["explain", BASIC_AUTH], *NETWORK, *WHOLE_RUN, "yaml", "conntest.profiles")
    assert "(basic-auth-disabled)" in str(result["stdout"])  # it did explain the text
    assert result["rc"] == 2
    assert result["imported"] == []


def test_explain_as_json_loads_json_only_then() -> None:
    text = _command(["explain", BASIC_AUTH], "json")
    assert text["imported"] == []  # the text report needs no json
    as_json = _command(["explain", "--format", "json", BASIC_AUTH], *NETWORK, *WHOLE_RUN)
    assert json.loads(str(as_json["stdout"]))["code"] == "basic-auth-disabled"
    assert as_json["imported"] == []


def test_explain_for_a_client_reads_the_profiles_but_still_not_the_network() -> None:
    result = _command(["explain", "--profile", "outlook-2016", BASIC_AUTH], *NETWORK, *WHOLE_RUN)
    assert "Outlook" in str(result["stdout"])  # worded for that client
    assert result["imported"] == []


def test_the_engine_loads_cryptography_and_dnspython_when_used() -> None:
    code = (
        "import json, ssl, sys\n"
        "import conntest.engine\n"
        "from conntest.probes.tls import certificate_info\n"
        "from conntest.probes.dns_probe import ResolverConfig, make_resolver\n"
        "at_import = [n for n in ('cryptography', 'dns') if n in sys.modules]\n"
        "make_resolver(ResolverConfig(nameserver=('127.0.0.1', 53)), 1.0)\n"
        "after_resolver = [n for n in ('cryptography', 'dns') if n in sys.modules]\n"
        "import trustme\n"
        "pem = trustme.CA().issue_cert('mail.contoso.test').cert_chain_pems[0].bytes()\n"
        "info = certificate_info(ssl.PEM_cert_to_DER_cert(pem.decode()))\n"
        "print(json.dumps({'at_import': at_import, 'after_resolver': after_resolver,"
        " 'sans': info['sans']}))\n"
    )
    result = _run(code)
    assert result["at_import"] == []
    assert result["after_resolver"] == ["dns"]
    assert result["sans"] == ["mail.contoso.test"]  # x509, loaded on use, read the certificate
