"""Where conntest's files live on each system (conntest.paths over platformdirs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conntest import paths
from conntest.lockout import default_state_file
from conntest.profiles import user_dir


def test_linux_follows_xdg_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert paths.config_dir() == tmp_path / "cfg" / "conntest"
    assert user_dir() == tmp_path / "cfg" / "conntest" / "profiles"
    assert default_state_file() == tmp_path / "state" / "conntest" / "auth-state.json"


@pytest.mark.parametrize("xdg", ["", "relative/path"])
def test_linux_ignores_unset_and_relative_xdg(
    xdg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, xdg)
    assert paths.config_dir() == tmp_path / ".config" / "conntest"
    assert default_state_file() == tmp_path / ".local" / "state" / "conntest" / "auth-state.json"


def test_windows_uses_appdata_and_localappdata(monkeypatch: pytest.MonkeyPatch) -> None:
    # platformdirs' documented overrides stand in for the shell's known folders here.
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("WIN_PD_OVERRIDE_APPDATA", r"C:\Users\ann\AppData\Roaming")
    monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", r"C:\Users\ann\AppData\Local")
    assert str(paths.config_dir()).startswith(r"C:\Users\ann\AppData\Roaming")
    assert str(paths.config_dir()).endswith("conntest")
    assert str(default_state_file()).startswith(r"C:\Users\ann\AppData\Local")


def test_macos_uses_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    support = tmp_path / "Library" / "Application Support" / "conntest"
    assert paths.config_dir() == support
    assert default_state_file() == support / "auth-state.json"


def test_private_dir_and_file_are_owner_only(tmp_path: Path) -> None:
    directory = paths.private_dir(tmp_path / "a" / "b")
    secret = directory / "token.json"
    secret.write_text("{}")
    paths.restrict_to_owner(secret)
    if os.name == "posix":
        assert directory.stat().st_mode & 0o777 == 0o700
        assert secret.stat().st_mode & 0o777 == 0o600
