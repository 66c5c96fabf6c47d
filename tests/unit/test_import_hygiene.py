"""The headless path must not import Textual (start-up time, and a core that knows no screens)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import conntest


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


def _private_uses(path: Path, own: str) -> list[str]:
    """``from conntest.x import _name`` and ``conntest.x._name`` in ``path`` (module ``own``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    aliases: dict[str, str] = {}  # local name -> conntest module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # a relative import: resolve it against the package
                base = own.split(".")[: -node.level]
                module = ".".join([*base, *([module] if module else [])])
            if not module.startswith("conntest") or module == own:
                continue
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{path}:{node.lineno}: from {module} import {alias.name}")
                else:
                    aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("conntest") and alias.name != own:
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append(f"{path}:{node.lineno}: import {alias.name}")
                    aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            dotted = _dotted(node.value, aliases)
            if dotted is not None and dotted.startswith("conntest") and dotted != own:
                found.append(f"{path}:{node.lineno}: {dotted}.{node.attr}")
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The conntest module an expression like ``batch.config`` names, if it names one."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, aliases)
        return None if base is None else f"{base}.{node.attr}"
    return None


def test_no_module_uses_a_private_name_of_another() -> None:
    """Issue 10: a private name is a module's own business; share it by making it public."""
    package = Path(conntest.__file__).parent
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        own = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found += _private_uses(path, own)
    assert found == []


def test_the_private_name_check_sees_both_spellings(tmp_path: Path) -> None:
    """The check above must be able to fail."""
    source = tmp_path / "m.py"
    source.write_text(
        "import conntest.lab.ca\n"
        "from conntest.lab import ca\n"
        "from conntest.lab.ca import _hidden\n"
        "conntest.lab.ca._other()\n"
        "ca._third()\n"
        "ca.__name__\n",
        encoding="utf-8",
    )
    found = _private_uses(source, "conntest.elsewhere")
    assert [line.split(": ", 1)[1] for line in found] == [
        "from conntest.lab.ca import _hidden",
        "conntest.lab.ca._other",
        "conntest.lab.ca._third",
    ]


def test_every_module_of_conntest_is_in_a_layer_or_is_the_lab() -> None:
    """Issue 10: the layers contract covers the whole package, so a new module must be placed.

    import-linter checks only the modules a contract names; this keeps a module
    added later from living outside every rule.  The lab sits beside the layers
    (its own protected contract); a package split by module (oauth) is covered
    by its modules.
    """
    config = tomllib.loads((Path(conntest.__file__).parent.parent / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    placed = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    assert "lab" not in placed
    package = Path(conntest.__file__).parent
    unplaced = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if not parts or parts[0] == "lab":
            continue
        prefixes = {".".join(parts[:n]) for n in range(1, len(parts) + 1)}
        below = any(p.startswith(".".join(parts) + ".") for p in placed)
        if not prefixes & placed and not below:  # `oauth` itself: its modules are placed
            unplaced.append(".".join(parts))
    assert unplaced == []
