"""Each command imports what it uses, and no more (issue 12: cold start).

A fresh interpreter runs the command through :func:`conntest.cli.main`, then
lists which of the named modules ended up in ``sys.modules``.  No timing is
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
