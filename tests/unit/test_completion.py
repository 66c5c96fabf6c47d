"""``conntest completion SHELL`` prints a script the shell accepts and that completes conntest.

The scripts come from the full parser (every subcommand built), whatever
command line asked for them.  bash is always there; zsh and fish are checked
when installed (.ci/run installs them) and skipped otherwise.  The bash and
fish scripts are also loaded into the shell and asked for completions, as a
user's Tab key would.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from conntest.cli import main
from conntest.cli_parser import COMMANDS

OPTIONS = ("--user", "--format", "--cert-days", "--ca-file", "--deadline", "--listen")


def _script(shell: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["completion", shell]) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("completion")
    written = {}
    for shell in ("bash", "zsh", "fish"):
        written[shell] = folder / f"conntest.{shell}"
        written[shell].write_text(_script(shell), encoding="utf-8")
    return written


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_script_names_every_subcommand_and_the_options(
    shell: str, scripts: dict[str, Path]
) -> None:
    text = scripts[shell].read_text(encoding="utf-8")
    for name in COMMANDS:
        assert name in text, (shell, name)
    for option in OPTIONS:
        assert option in text, (shell, option)
    assert "nagios" in text  # a choice of --format
    assert "lab-accounts" in text  # a choice of a nested positional (schema KIND)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_shell_accepts_its_script(shell: str, scripts: dict[str, Path]) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    run = subprocess.run(
        [shell, "-n", str(scripts[shell])], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr


def _bash_complete(script: Path, *words: str) -> list[str]:
    """What bash offers for the last of ``words`` after loading ``script``."""
    code = (
        f"source {script}\n"
        'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))\n'
        'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}\n'
        "_shtab_conntest\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    run = subprocess.run(
        ["bash", "-c", code, "bash", *words], capture_output=True, text=True, check=True
    )
    return run.stdout.split()


def test_bash_completes_subcommands_options_and_choices(scripts: dict[str, Path]) -> None:
    assert _bash_complete(scripts["bash"], "conntest", "ex") == ["explain"]
    assert "--cert-days" in _bash_complete(scripts["bash"], "conntest", "check", "--ce")
    formats = _bash_complete(scripts["bash"], "conntest", "check", "--format", "")
    assert formats == ["text", "json", "jsonl", "nagios", "prometheus", "junit"]
    assert _bash_complete(scripts["bash"], "conntest", "completion", "f") == ["fish"]


def test_fish_completes_options_with_their_help(scripts: dict[str, Path]) -> None:
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    code = f"source {scripts['fish']}; complete -C 'conntest check --us'"
    run = subprocess.run(
        ["fish", "--no-config", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.startswith("--user\tthe mailbox address"), run.stdout


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "tcsh"]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert "argument shell: invalid choice: 'tcsh'" in err
