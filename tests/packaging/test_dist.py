"""The wheel and sdist a user or packager gets hold what the code needs.

Everything passes in a checkout even when the wheel lacks a data file (the
TUI's stylesheet was once missing, and ``conntest`` died with
StylesheetError only after ``pip install``).  These tests build the
distributions (or take the ones ``.ci/run`` built, via ``CONNTEST_DIST_DIR``)
and compare them with the source tree and with the files the code names.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "conntest"
BUILD_LITTER = (
    ".git",
    ".venv*",
    "*.egg-info",
    "build",
    "dist",
    "__pycache__",
    "*.pyc",
    ".*_cache",
)


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path

    def wheel_names(self) -> set[str]:
        with zipfile.ZipFile(self.wheel) as wheel:
            return set(wheel.namelist())

    def sdist_names(self) -> set[str]:
        with tarfile.open(self.sdist) as sdist:
            names = sdist.getnames()
        # Strip the "m365_conntest-0.1.0/" top folder.
        return {name.split("/", 1)[1] for name in names if "/" in name}

    def metadata(self) -> dict[str, list[str]]:
        with zipfile.ZipFile(self.wheel) as wheel:
            name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
            message = Parser().parsestr(wheel.read(name).decode())
        fields: dict[str, list[str]] = {}
        for key, value in message.items():
            fields.setdefault(key, []).append(value)
        return fields


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    given = os.environ.get("CONNTEST_DIST_DIR")
    if given:
        out = Path(given)
    else:
        # From a clean copy: setuptools reads a stale *.egg-info/SOURCES.txt
        # of the checkout into the sdist and would hide a missing data file.
        source = tmp_path_factory.mktemp("source") / "conntest"
        shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*BUILD_LITTER))
        out = tmp_path_factory.mktemp("dist")
        # sdist first, then the wheel built *from the sdist*, as pip would.
        subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1, f"expected one wheel in {out}, found {wheels}"
    assert len(sdists) == 1, f"expected one sdist in {out}, found {sdists}"
    return Dists(wheels[0], sdists[0])


def package_files() -> set[str]:
    """Every file under conntest/ in the source tree, as a wheel path."""
    return {
        path.relative_to(REPO).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def files_named_by_code() -> set[str]:
    """Data files the code opens: ``CSS_PATH`` of Textual apps and screens,
    and ``files("conntest").joinpath(...)`` resources (a folder counts as its files)."""
    named: set[str] = set()
    for module in PACKAGE.rglob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ("CSS_PATH", "DEFAULT_CSS_PATH")
                for t in node.targets
            ):
                assert isinstance(node.value, ast.Constant), f"{module}: CSS_PATH not a literal"
                named.add((module.parent / str(node.value.value)).relative_to(REPO).as_posix())
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "joinpath"
                and "files(" in ast.unparse(node.func.value)
            ):
                parts = [str(a.value) for a in node.args if isinstance(a, ast.Constant)]
                named.add("conntest/" + "/".join(parts))
    return named


def test_the_code_names_its_data_files() -> None:
    """The scan finds the stylesheet and the builtin profiles (so it is not vacuous)."""
    named = files_named_by_code()
    assert "conntest/tui/conntest.tcss" in named
    assert "conntest/profiles_data" in named
    for path in named:
        assert (REPO / path).exists(), f"the code opens {path}, which does not exist"


def test_wheel_holds_every_file_of_the_package(dists: Dists) -> None:
    missing = package_files() - dists.wheel_names()
    assert not missing, f"files under conntest/ missing from the wheel: {sorted(missing)}"


def test_wheel_holds_every_file_the_code_opens(dists: Dists) -> None:
    names = dists.wheel_names()
    for path in files_named_by_code():
        if (REPO / path).is_dir():
            inside = {n for n in names if n.startswith(path + "/")}
            expected = {
                p.relative_to(REPO).as_posix() for p in (REPO / path).iterdir() if p.is_file()
            }
            assert expected <= inside, f"{path}/ incomplete in the wheel: {expected - inside}"
        else:
            assert path in names, f"the code opens {path}, which the wheel lacks"


def test_wheel_ships_no_tests_or_lab_state(dists: Dists) -> None:
    tops = {name.split("/", 1)[0] for name in dists.wheel_names()}
    assert tops == {"conntest", next(t for t in tops if t.endswith(".dist-info"))}


def test_metadata_names_the_distribution_and_its_licence(dists: Dists) -> None:
    meta = dists.metadata()
    assert meta["Name"] == ["m365-conntest"]
    assert meta["License-Expression"] == ["MIT"]
    assert any(f.endswith("LICENSE") for f in meta.get("License-File", []))
    assert any("LICENSE" in n for n in dists.wheel_names() if ".dist-info/" in n)
    assert "Topic :: System :: Monitoring" in meta["Classifier"]
    requires = {re.split(r"[<>=!~; \[]", r, maxsplit=1)[0]: r for r in meta["Requires-Dist"]}
    # A range for users, never an exact pin (constraints.txt pins it for snapshots).
    assert "==" not in requires["textual"], requires["textual"]
    with zipfile.ZipFile(dists.wheel) as wheel:
        entry = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
        assert "conntest = conntest.console:console" in wheel.read(entry).decode()


def test_sdist_holds_docs_profiles_tests_and_licence(dists: Dists) -> None:
    names = dists.sdist_names()
    for required in (
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "constraints.txt",
        "docs/user-guide.md",
        "docs/img/setup-demo.svg",
        "profiles/outlook-2016.yaml",
        "monitoring/conntest-alerts.yml",
        "monitoring/conntest-alerts.test.yml",
        "contrib/prometheus/basic-auth-december-2026.rules.yml",
        "tests/conftest.py",
        "tests/tui/__snapshots__/test_snapshots/test_live_progress.svg",
        "conntest/tui/conntest.tcss",
        "docs/conntest.1",
        ".ci/run",
        ".ci/windows-standin",
        ".ci/standin/sitecustomize.py",
    ):
        assert required in names, f"the sdist lacks {required}"
    assert not any("__pycache__" in n for n in names)


def repo_files_the_tests_name() -> set[str]:
    """Files outside tests/ that the tests open, as ``REPO / "docs" / …`` or ``parents[2] / …``.

    A folder counts as its files.  Paths outside the checkout (``parents[3]``,
    the shared notes beside it) are not the sdist's to ship.
    """
    named: set[str] = set()
    chain = re.compile(r'(?:\bparents\[2\]|\bREPO|\bROOT|\bCHECKOUT)((?: / "[^"]+")+)')
    for module in (REPO / "tests").rglob("*.py"):
        if len(module.relative_to(REPO).parts) != 3:  # parents[2] is the checkout only here
            continue
        for match in chain.finditer(module.read_text(encoding="utf-8")):
            relative = "/".join(re.findall(r'"([^"]+)"', match.group(1)))
            target = REPO / relative
            if target.is_file():
                named.add(relative)
            elif target.is_dir():
                named.update(
                    p.relative_to(REPO).as_posix()
                    for p in target.rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts
                )
    return named


def test_sdist_holds_what_its_own_tests_open(dists: Dists) -> None:
    """From an unpacked sdist the tests run: every file they open beside tests/ is in it."""
    named = repo_files_the_tests_name()
    assert ".ci/standin/sitecustomize.py" in named  # tests/unit/test_portability.py's stand-in
    assert "docs/conntest.1" in named
    missing = sorted(named - dists.sdist_names())
    assert not missing, f"the sdist lacks files its tests open: {missing}"


def test_shipped_profiles_name_no_path_of_the_build_machine() -> None:
    """A user copies these files (``conntest profiles show ID``): a comment must not send
    them to a notes folder only the developers had."""
    for profile in sorted((PACKAGE / "profiles_data").glob("*.yaml")):
        text = profile.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w.])/(work|home|tmp|root)/", text), profile.name
