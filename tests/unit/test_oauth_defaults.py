"""The settings file (config.yaml): the OAuth defaults, its problems, and who wins.

The options win over the file, the file over the built-in defaults; a missing
default file is fine, a broken one is one line per problem (file, field, line)
and exit 3 with nothing sent.  Batch entries with ``auth: oauth`` take what they
leave out from the command line, then from the file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from conntest.batch.config import EntryDefaults, load_batch
from conntest.errors import FileProblems
from conntest.json_schemas import json_schema
from conntest.oauth.defaults import CONFIG_ENV, OAuthDefaults, oauth_defaults
from conntest.profiles import load_profiles

REPO = Path(__file__).resolve().parents[2]
CLIENT = "11111111-2222-4333-8444-555555555555"
OTHER = "99999999-2222-4333-8444-555555555555"


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    return tmp_path / "config" / "conntest" / "config.yaml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_the_built_in_defaults(config_home: Path) -> None:
    assert not config_home.exists()
    assert oauth_defaults() == OAuthDefaults(None, "organizations", None, None)


def test_the_file_in_the_config_directory_is_read(config_home: Path) -> None:
    write(config_home, f"oauth:\n  client_id: {CLIENT}\n  tenant: contoso.com\n")
    found = oauth_defaults()
    assert (found.client_id, found.tenant, found.authority) == (CLIENT, "contoso.com", None)
    assert found.file == config_home


def test_an_authority_path_sets_the_tenant(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.yaml", "oauth:\n  authority: https://login.example.test/contoso.com\n"
    )
    found = oauth_defaults(path)
    assert (found.authority, found.tenant) == ("https://login.example.test", "contoso.com")


def test_the_environment_names_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "elsewhere.yaml", f"oauth: {{client_id: {CLIENT}}}\n")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert oauth_defaults().client_id == CLIENT
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(FileProblems, match=r"missing\.yaml: expected a readable settings file"):
        oauth_defaults()


def test_every_problem_of_a_broken_file_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.yaml",
        "oauth:\n  client_id: 12345\n  tennant: x\n  authority: http://login.example.test\n"
        "colour: red\n",
    )
    with pytest.raises(FileProblems) as caught:
        oauth_defaults(path)
    lines = [str(p) for p in caught.value.problems]
    assert lines == [
        f"{path}: oauth.client_id: expected the Application (client) ID of your app "
        "registration, a GUID (put numbers in quotes), found 12345 (line 2)",
        f"{path}: oauth.tennant: expected a known key (did you mean 'tenant'?), found an "
        "unknown key (line 3)",
        f"{path}: oauth.authority: expected an https:// URL of the identity platform "
        "(https://HOST[/TENANT]), found 'http://login.example.test' (line 4)",
        f"{path}: colour: expected one of the keys oauth, found an unknown key (line 5)",
    ]


def test_the_safe_loader_refuses_tags(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "oauth: !!python/object:os.system {}\n")
    with pytest.raises(FileProblems, match=r"plain YAML \(no tags\)"):
        oauth_defaults(path)


def _conntest(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conntest", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != CONFIG_ENV}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    return env


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--oauth", "--user", "a@contoso.com"],
        ["check", "--oauth", "--user", "a@contoso.com", "--format", "nagios"],
        ["oauth", "status"],
    ],
)
def test_a_broken_file_is_one_line_and_exit_3(
    args: list[str], tmp_path: Path, config_home: Path
) -> None:
    write(config_home, "oauth:\n  client_id: [1, 2]\n")
    out = _conntest(*args, env=_env(tmp_path))
    assert out.returncode == 3
    [line] = out.stderr.strip().splitlines()
    assert line.startswith(f"conntest: {config_home}: oauth.client_id: expected the Application")
    assert "(line 2)" in line and "Traceback" not in out.stderr


def test_without_a_client_id_the_line_names_the_file(tmp_path: Path, config_home: Path) -> None:
    out = _conntest("check", "--oauth", "--user", "a@contoso.com", env=_env(tmp_path))
    assert out.returncode == 3
    [line] = out.stderr.strip().splitlines()
    assert "register" in line and "--client-id" in line and str(config_home) in line


def test_the_option_wins_over_the_file(tmp_path: Path, config_home: Path) -> None:
    write(config_home, f"oauth:\n  client_id: {CLIENT}\n  tenant: contoso.com\n")
    env = _env(tmp_path)
    out = _conntest("oauth", "status", env=env)
    assert out.returncode == 0, out.stderr
    out_other = _conntest("oauth", "status", "--client-id", OTHER, env=env)
    out_tenant = _conntest("oauth", "status", "--tenant", "fabrikam.com", env=env)
    # One token cache per client id and authority: three different files.
    caches = {o.stdout.splitlines()[0] for o in (out, out_other, out_tenant)}
    assert len(caches) == 3, caches


def test_a_bad_client_id_option_is_refused() -> None:
    out = _conntest("check", "--oauth", "--user", "a@x.test", "--client-id", "s3cr3t~value",
                    env=dict(os.environ))  # fmt: skip
    assert out.returncode == 3
    assert "--client-id" in out.stderr and "GUID" in out.stderr


# --------------------------------------------------------------------------
# Batch entries


def _batch(tmp_path: Path, text: str) -> Path:
    return write(tmp_path / "batch.yaml", text)


def test_batch_entries_take_the_file_then_the_options_then_config_yaml(
    tmp_path: Path, config_home: Path
) -> None:
    write(config_home, f"oauth: {{client_id: {CLIENT}, tenant: contoso.com}}\n")
    path = _batch(
        tmp_path,
        "defaults: {auth: oauth}\n"
        "accounts:\n"
        "  - address: a@contoso.com\n"
        f"  - address: b@contoso.com\n    client_id: {OTHER}\n"
        "  - address: c@contoso.com\n    auth: password\n",
    )
    batch = load_batch(path, load_profiles(), EntryDefaults(settings=oauth_defaults))
    assert batch.problems == ()
    a, b, c = batch.entries
    assert a.oauth is not None and (a.oauth.client_id, a.oauth.tenant) == (CLIENT, "contoso.com")
    assert a.oauth.authority == "https://login.microsoftonline.com"
    assert b.oauth is not None and b.oauth.client_id == OTHER
    assert c.oauth is None and not c.authenticates
    assert a.login_command == (
        f"conntest oauth login --user a@contoso.com --client-id {CLIENT} --tenant contoso.com"
    )
    # The command line's --client-id wins over config.yaml, not over the file.
    given = EntryDefaults(client_id=OTHER, settings=oauth_defaults)
    a, b, _ = load_batch(path, load_profiles(), given).entries
    assert a.oauth is not None and a.oauth.client_id == OTHER


def test_batch_oauth_problems_name_the_entry_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNTEST_TEST_PW", "x")
    path = _batch(
        tmp_path,
        "accounts:\n"
        "  - address: a@contoso.com\n    auth: oauth\n"
        "  - address: b@contoso.com\n    auth: oauth\n    password_env: CONNTEST_TEST_PW\n"
        "  - address: c@contoso.com\n    auth: basic\n",
    )
    batch = load_batch(path, load_profiles(), EntryDefaults(settings=oauth_defaults))
    lines = [str(p) for p in batch.problems]
    assert len(lines) == 4, lines
    assert lines[0].startswith(f"{path}: accounts[0].client_id: expected the Application")
    assert "config.yaml" in lines[0] and "(line 2)" in lines[0]
    assert any(
        line.startswith(f"{path}: accounts[1].password_env: expected no password source")
        and "(line 6)" in line
        for line in lines
    ), lines
    assert f"{path}: accounts[2].auth: expected password or oauth, found 'basic' (line 8)" in lines
    assert batch.entries == ()


def test_a_broken_config_yaml_does_not_stop_a_batch_of_password_accounts(
    tmp_path: Path, config_home: Path
) -> None:
    write(config_home, "oauth: [broken\n")
    path = _batch(tmp_path, "accounts:\n  - address: a@contoso.com\n")
    batch = load_batch(path, load_profiles(), EntryDefaults(settings=oauth_defaults))
    assert batch.problems == () and len(batch.entries) == 1
    path = _batch(tmp_path, "accounts:\n  - address: a@contoso.com\n    auth: oauth\n")
    batch = load_batch(path, load_profiles(), EntryDefaults(settings=oauth_defaults))
    assert [p.file for p in batch.problems][:1] == [str(config_home)]


# --------------------------------------------------------------------------
# The published schema and the documented examples


def test_the_config_schema_matches_the_loader(tmp_path: Path) -> None:
    schema = json_schema("config")
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = {"oauth": {"client_id": CLIENT, "tenant": "contoso.com"}}
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({"oauth": {"client_secret": "x"}}))
    assert list(validator.iter_errors({"oauth": {"client_id": "not-a-guid"}}))


def _documented(name: str) -> list[str]:
    import re

    text = (REPO / "docs" / name).read_text(encoding="utf-8")
    return [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "oauth:" in b]


def test_the_documented_config_examples_load_and_validate(tmp_path: Path) -> None:
    blocks = _documented("oauth.md") + _documented("files.md")
    assert blocks
    validator = jsonschema.Draft202012Validator(json_schema("config"))
    for index, block in enumerate(blocks):
        assert list(validator.iter_errors(yaml.safe_load(block))) == [], block
        found = oauth_defaults(write(tmp_path / f"doc{index}.yaml", block))
        assert found.client_id is not None, block


def test_the_documented_oauth_batch_example_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config_home: Path
) -> None:
    import re

    text = (REPO / "docs" / "monitoring.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "auth: oauth" in b]
    monkeypatch.setenv("CONNTEST_SCANNER", "not-a-real-password")
    path = _batch(tmp_path, block)
    batch = load_batch(path, load_profiles(), EntryDefaults(settings=oauth_defaults))
    assert batch.problems == ()
    alice, bob, scanner = batch.entries
    assert alice.oauth is not None and alice.oauth.tenant == "organizations"
    assert bob.oauth is not None and bob.oauth.tenant == "fabrikam.com"
    assert scanner.oauth is None and scanner.password.authenticates


def test_the_login_command_can_be_pasted_into_a_shell() -> None:
    import shlex

    from conntest.oauth.platform import login_command_for

    line = login_command_for("o'brien@contoso.com", CLIENT, "contoso.com", "https://x.test:8443")
    assert shlex.split(line) == [
        "conntest", "oauth", "login", "--user", "o'brien@contoso.com", "--client-id", CLIENT,
        "--tenant", "contoso.com", "--authority", "https://x.test:8443",
    ]  # fmt: skip
