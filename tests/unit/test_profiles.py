"""Profiles: the shipped files carry the facts, and bad files are reported in full.

The malformed-file tests compare whole report lines, because the line *is* the
interface: ``conntest profiles validate`` prints exactly ``str(problem)``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml

from conntest.errors import ConntestError, ProfileError, UsageError
from conntest.profile import (
    ImapSettings,
    OAuth2Support,
    Profile,
    SmtpSettings,
    TLSRange,
    WayForward,
)
from conntest.profiles import (
    Problem,
    builtin_dir,
    load_profile,
    load_profiles,
    profile_to_dict,
    user_dir,
    validate,
)

REPO = Path(__file__).resolve().parents[2]
TOP_LEVEL = REPO / "profiles"
PACKAGED = REPO / "conntest" / "profiles_data"
BUILTIN_IDS = ["ios-mail", "outlook-2016", "thunderbird"]

MINIMAL = "name: Test client\nimap: {}\nsmtp: {}\n"
"""The smallest valid profile: everything else has a default."""


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path so problem lines carry short relative file names."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def report(name: str, text: str) -> list[str]:
    """Write ``text`` to ``name`` in the current directory and validate it."""
    path = Path(name)
    path.write_text(text, encoding="utf-8")
    return [str(p) for p in validate([path])]


def builtin() -> dict[str, Profile]:
    return {p.id: p for p in load_profiles(user=Path("/nonexistent"))}


# --------------------------------------------------------------------------
# The shipped profiles


def test_builtin_profiles_load_cleanly() -> None:
    loaded = load_profiles(user=Path("/nonexistent"))
    assert loaded.problems == ()
    assert loaded.ids() == BUILTIN_IDS
    assert all(loaded.entry(i).kind == "builtin" for i in BUILTIN_IDS)


def test_top_level_profiles_are_the_packaged_ones() -> None:
    """One source of truth: ``profiles/`` is a link to ``conntest/profiles_data`` (in the wheel)."""
    assert TOP_LEVEL.is_symlink()
    assert TOP_LEVEL.resolve() == PACKAGED.resolve()
    assert sorted(p.name for p in PACKAGED.glob("*.yaml")) == [f"{i}.yaml" for i in BUILTIN_IDS]


def test_builtin_dir_is_the_packaged_directory() -> None:
    assert Path(str(builtin_dir())).resolve() == PACKAGED.resolve()


@pytest.mark.parametrize("profile_id", BUILTIN_IDS)
def test_builtin_files_write_every_field(profile_id: str) -> None:
    """Every field of the model is spelled out, so a reader never has to know a default."""
    raw = yaml.safe_load((TOP_LEVEL / f"{profile_id}.yaml").read_text(encoding="utf-8"))
    top = {f.name for f in dataclasses.fields(Profile)} - {"source"}
    assert set(raw) == top
    for key, cls in (
        ("imap", ImapSettings),
        ("smtp", SmtpSettings),
        ("tls", TLSRange),
        ("oauth2", OAuth2Support),
        ("way_forward", WayForward),
    ):
        assert set(raw[key]) == {f.name for f in dataclasses.fields(cls)}, key
    assert raw["id"] == profile_id


def comment_above(text: str, key_line: str) -> str:
    """The comments directly above, and on, the line starting with ``key_line``, as one line."""
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith(key_line))
    block = [lines[index].partition("#")[2]]
    for line in reversed(lines[:index]):
        if not line.strip().startswith("#"):
            break
        block.insert(0, line.strip().lstrip("#"))
    return " ".join(" ".join(block).split())


@pytest.mark.parametrize(
    ("profile_id", "key_line"),
    [
        ("outlook-2016", "login:"),
        ("outlook-2016", "send_id:"),
        ("outlook-2016", "auth:"),
        ("outlook-2016", "max:"),
        ("ios-mail", "login:"),
        ("ios-mail", "auth:"),
        ("thunderbird", "version:"),
    ],
)
def test_unestablished_facts_are_marked(profile_id: str, key_line: str) -> None:
    """Each ⚠ fact of clients.md carries a comment saying so, next to its value."""
    text = (TOP_LEVEL / f"{profile_id}.yaml").read_text(encoding="utf-8")
    comment = comment_above(text, key_line)
    assert "⚠" in comment
    assert "not established" in comment.lower() or "records the field, not a value" in comment


def test_thunderbird_facts() -> None:
    p = builtin()["thunderbird"]
    assert (p.imap.host, p.imap.port, p.imap.security) == ("outlook.office365.com", 993, "tls")
    assert (p.imap.login, p.imap.sasl_ir) == ("authenticate-plain", False)
    assert p.imap.send_id == "after-login"
    assert set(p.imap.id_fields) == {"name", "version"}
    assert p.imap.id_fields["name"] == "Thunderbird"
    assert (p.smtp.host, p.smtp.port, p.smtp.security) == ("smtp.office365.com", 587, "starttls")
    assert p.smtp.auth == "login"
    assert (p.tls.min, p.tls.max) == ("1.2", "1.3")
    assert p.oauth2.supported is True
    assert "Server Settings" in p.oauth2.how and "OAuth2" in p.oauth2.how
    assert "Saved Passwords" in p.password_path
    assert p.username_form == "address"


def test_ios_mail_facts() -> None:
    p = builtin()["ios-mail"]
    assert (p.imap.port, p.imap.security, p.imap.login) == (993, "tls", "login")
    assert p.imap.send_id == "before-login"
    assert p.imap.id_fields == {
        "name": "iPhone Mail",
        "version": "21B101",
        "os": "iOS",
        "os-version": "17.1.2 (21B101)",
    }
    assert (p.smtp.port, p.smtp.security, p.smtp.auth) == (587, "starttls", "login")
    assert (p.tls.min, p.tls.max) == ("1.2", "1.3")
    assert p.oauth2.supported is False
    assert "Microsoft Exchange" in p.oauth2.how
    assert p.imap.settings_path.endswith("Account → Advanced")
    assert p.password_path.endswith("Account → Password")
    assert p.username_form == "address"


def test_outlook_2016_facts() -> None:
    p = builtin()["outlook-2016"]
    assert (p.imap.port, p.imap.security, p.imap.login) == (993, "tls", "login")
    assert (p.imap.send_id, p.imap.id_fields) == ("never", {})
    assert (p.smtp.port, p.smtp.security, p.smtp.auth) == (587, "starttls", "login")
    assert (p.tls.min, p.tls.max) == ("1.0", "1.2")
    assert p.oauth2.supported is False
    assert "Exchange" in p.oauth2.how
    assert "More Settings" in p.imap.settings_path
    assert "Credential Manager" in p.password_path
    assert any("Windows 7" in note for note in p.notes)
    assert p.username_form == "address"


# --------------------------------------------------------------------------
# Problem lines


def test_problem_is_one_line_in_the_documented_shape() -> None:
    problem = Problem("profiles/x.yaml", "imap.port", "an integer 1-65535", "'abc'")
    assert str(problem) == "profiles/x.yaml: imap.port: expected an integer 1-65535, found 'abc'"
    with_line = dataclasses.replace(problem, line=7)
    assert str(with_line).endswith("found 'abc' (line 7)")
    whole_file = Problem("x.yaml", "", "valid YAML", "a tab", 3)
    assert str(whole_file) == "x.yaml: expected valid YAML, found a tab (line 3)"


@pytest.mark.usefixtures("in_tmp")
def test_many_problems_in_one_file_are_all_reported_in_file_order() -> None:
    text = """\
id: Bad_ID
nmae: x
imap:
  port: abc
  security: TLS
  login: login
  sasl_ir: true
  id_fields:
    name: Foo
    version: 17.1
  prot: 3
smtp:
  port: 70000
  auth: cram
tls:
  min: "1.3"
  max: "1.2"
username_form: email
oauth2: yes
notes: [a, 3]
"""
    assert report("x.yaml", text) == [
        "x.yaml: id: expected an id of lowercase letters, digits and '-' "
        "(starting with a letter or digit), found 'Bad_ID' (line 1)",
        "x.yaml: nmae: expected a known key (did you mean 'name'?), found an unknown key (line 2)",
        "x.yaml: imap.port: expected an integer 1-65535, found 'abc' (line 4)",
        "x.yaml: imap.security: expected one of 'tls', 'starttls' (did you mean 'tls'?), "
        "found 'TLS' (line 5)",
        "x.yaml: imap.sasl_ir: expected false while imap.login is 'login' "
        "(SASL-IR only exists for AUTHENTICATE), found true (line 7)",
        # (no send_id/id_fields contradiction: id_fields itself is unusable)
        "x.yaml: imap.id_fields.version: expected a string (put numbers in quotes), "
        "found 17.1 (line 10)",
        "x.yaml: imap.prot: expected a known key (did you mean 'port'?), "
        "found an unknown key (line 11)",
        "x.yaml: smtp.port: expected an integer 1-65535, found 70000 (line 13)",
        "x.yaml: smtp.auth: expected one of 'login', 'plain', found 'cram' (line 14)",
        "x.yaml: tls.min: expected a version no higher than tls.max ('1.2'), found '1.3' (line 16)",
        "x.yaml: username_form: expected one of 'address', 'local-part', found 'email' (line 18)",
        "x.yaml: oauth2: expected a mapping of oauth2 settings, found true (line 19)",
        "x.yaml: notes[1]: expected a string, found 3 (line 20)",
        "x.yaml: name: expected a value (the key is required), found no such key",
    ]


@pytest.mark.usefixtures("in_tmp")
def test_load_profile_raises_with_every_problem() -> None:
    Path("x.yaml").write_text("name: ''\nimap: {port: 0}\nsmtp: {port: -1}\n", encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile(Path("x.yaml"))
    error = caught.value
    assert [p.field for p in error.problems] == ["name", "imap.port", "smtp.port"]
    assert isinstance(error, ConntestError)
    assert isinstance(error, ValueError)
    assert str(error) == (
        "x.yaml: name: expected a non-empty string, found '' (line 1) (and 2 more problems)"
    )
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "imap:\n  port: 993\n   bad: x\n",
            ["x.yaml: expected valid YAML, found mapping values are not allowed here (line 3)"],
            id="syntax-error-with-line",
        ),
        pytest.param(
            "name: [unclosed\n",
            [
                "x.yaml: expected valid YAML, found expected ',' or ']', but got '<stream end>' "
                "(line 2)"
            ],
            id="unclosed-flow-list",
        ),
        pytest.param(
            "",
            [
                "x.yaml: expected a mapping of profile keys (id, name, imap, smtp, ...), "
                "found an empty file"
            ],
            id="empty-file",
        ),
        pytest.param(
            "- a\n- b\n",
            [
                "x.yaml: expected a mapping of profile keys (id, name, imap, smtp, ...), "
                "found a list"
            ],
            id="not-a-mapping",
        ),
        pytest.param(
            "just text\n",
            [
                "x.yaml: expected a mapping of profile keys (id, name, imap, smtp, ...), "
                "found 'just text'"
            ],
            id="a-scalar",
        ),
        pytest.param(
            "imap: {}\n",
            [
                "x.yaml: name: expected a value (the key is required), found no such key",
                "x.yaml: smtp: expected a value (the key is required), found no such key",
            ],
            id="missing-required-keys",
        ),
        pytest.param(
            MINIMAL + "colour: blue\n",
            [
                "x.yaml: colour: expected one of the keys id, name, imap, smtp, tls, "
                "username_form, oauth2, way_forward, password_path, notes, "
                "found an unknown key (line 4)"
            ],
            id="unknown-key-without-close-match",
        ),
        pytest.param(
            MINIMAL + "source: somewhere\n",
            [
                "x.yaml: source: expected no 'source' key (conntest sets it to the file's path), "
                "found 'somewhere' (line 4)"
            ],
            id="loader-set-key",
        ),
        pytest.param(
            "name: 2016\nimap:\nsmtp: []\n",
            [
                "x.yaml: name: expected a non-empty string (put numbers in quotes), found 2016 "
                "(line 1)",
                "x.yaml: imap: expected a mapping of imap settings, found null (line 2)",
                "x.yaml: smtp: expected a mapping of smtp settings, found an empty list (line 3)",
            ],
            id="wrong-types",
        ),
        pytest.param(
            MINIMAL.replace("imap: {}", "imap: {port: true, sasl_ir: 'no', host: 'a b'}"),
            [
                "x.yaml: imap.port: expected an integer 1-65535, found true (line 2)",
                "x.yaml: imap.sasl_ir: expected true or false, found 'no' (line 2)",
                "x.yaml: imap.host: expected a host name (no spaces), found 'a b' (line 2)",
            ],
            id="bool-is-not-a-port-and-string-is-not-a-bool",
        ),
        pytest.param(
            MINIMAL + "tls: {min: '1.4'}\nusername_form: Local-Part\n",
            [
                "x.yaml: tls.min: expected one of '1.0', '1.1', '1.2', '1.3', found '1.4' (line 4)",
                "x.yaml: username_form: expected one of 'address', 'local-part' "
                "(did you mean 'local-part'?), found 'Local-Part' (line 5)",
            ],
            id="bad-enum-values-list-the-allowed-ones",
        ),
        pytest.param(
            MINIMAL + "tls:\n  min: 1.3\n  max: 1.0\n",
            [
                "x.yaml: tls.min: expected a version no higher than tls.max ('1.0'), found '1.3' "
                "(line 5)"
            ],
            id="tls-min-above-max-unquoted-numbers",
        ),
        pytest.param(
            MINIMAL + "tls: {max: '1.1'}\n",
            ["x.yaml: tls.min: expected a version no higher than tls.max ('1.1'), found '1.2'"],
            id="tls-max-below-default-min",
        ),
        pytest.param(
            "name: A\nimap:\n  send_id: never\n  id_fields: {name: A}\nsmtp: {}\n",
            [
                "x.yaml: imap.id_fields: expected no fields while imap.send_id is 'never' "
                "(set send_id to 'before-login' or 'after-login', or remove id_fields), "
                "found 1 field (name) (line 4)"
            ],
            id="id-fields-but-never-sent",
        ),
        pytest.param(
            "name: A\nimap:\n  send_id: after-login\n  id_fields: {"
            + "x" * 31
            + ": v, 1: two}\nsmtp: {}\n",
            [
                "x.yaml: imap.id_fields.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: expected a field name "
                "of at most 30 bytes (RFC 2971), found 31 bytes (line 4)",
                "x.yaml: imap.id_fields.1: expected a field name in text "
                "(put numbers in quotes), found 1 (line 4)",
            ],
            id="id-field-names",
        ),
        pytest.param(
            "name: A\nname: B\nimap: {}\nsmtp: {}\n",
            ["x.yaml: name: expected each key once, found it again (line 2)"],
            id="duplicate-key",
        ),
        pytest.param(
            "id: Outlook_2016\n" + MINIMAL,
            [
                "x.yaml: id: expected an id of lowercase letters, digits and '-' (starting with a "
                "letter or digit), found 'Outlook_2016' (line 1)"
            ],
            id="id-pattern",
        ),
    ],
)
@pytest.mark.usefixtures("in_tmp")
def test_malformed_file(text: str, expected: list[str]) -> None:
    assert report("x.yaml", text) == expected


@pytest.mark.usefixtures("in_tmp")
def test_id_defaults_to_the_file_name_which_must_then_be_a_valid_id() -> None:
    assert report("my-client.yaml", MINIMAL) == []
    assert load_profile(Path("my-client.yaml")).id == "my-client"
    assert report("My Client.yaml", MINIMAL) == [
        "My Client.yaml: id: expected an id of lowercase letters, digits and '-' (starting "
        "with a letter or digit), found 'My Client' (taken from the file name; add an id key)"
    ]
    # An explicit id may differ from the file name (that is how a file of any
    # name overrides a builtin profile).
    Path("My Client.yaml").write_text("id: outlook-2016\n" + MINIMAL, encoding="utf-8")
    assert load_profile(Path("My Client.yaml")).id == "outlook-2016"


@pytest.mark.usefixtures("in_tmp")
def test_minimal_profile_takes_the_model_defaults() -> None:
    Path("x.yaml").write_text(MINIMAL, encoding="utf-8")
    profile = load_profile(Path("x.yaml"))
    assert profile == Profile(
        id="x", name="Test client", imap=ImapSettings(), smtp=SmtpSettings(), source="x.yaml"
    )


@pytest.mark.usefixtures("in_tmp")
def test_yaml_merge_keys_are_refused() -> None:
    """Merge keys hide where a value came from (issue 8): refused with their line."""
    text = (
        "name: A\n"
        "imap: &server {host: mail.example.test, port: 993}\n"
        "smtp:\n  <<: *server\n  port: 587\n"
    )
    assert report("x.yaml", text) == [
        "x.yaml: smtp.<<: expected no merge keys (write the keys out), found a merge key (line 4)"
    ]
    plain_merge = "name: A\nimap: {}\nsmtp:\n  <<: {host: mail.example.test}\n"
    assert report("x.yaml", plain_merge) == [
        "x.yaml: smtp.<<: expected no merge keys (write the keys out), found a merge key (line 4)"
    ]


@pytest.mark.usefixtures("in_tmp")
def test_unreadable_files_are_problems_not_crashes() -> None:
    Path("binary.yaml").write_bytes(b"\xff\xfe")
    Path("adir.yaml").mkdir()
    problems = [str(p) for p in validate([Path("binary.yaml"), Path("missing.yaml")])]
    assert problems == [
        "binary.yaml: expected UTF-8 text, found a non-UTF-8 byte at offset 0",
        "missing.yaml: expected a profile file, found nothing at that path",
    ]
    with pytest.raises(ProfileError):
        load_profile(Path("adir.yaml"))


@pytest.mark.usefixtures("in_tmp")
def test_validate_a_directory_reports_duplicate_ids() -> None:
    Path("d").mkdir()
    Path("d/a.yaml").write_text("id: same\n" + MINIMAL, encoding="utf-8")
    Path("d/b.yml").write_text("id: same\n" + MINIMAL, encoding="utf-8")
    Path("d/notes.txt").write_text("not a profile", encoding="utf-8")
    Path("d/.hidden.yaml").write_text("garbage: [", encoding="utf-8")
    assert [str(p) for p in validate([Path("d")])] == [
        "d/b.yml: id: expected an id no other file here defines (d/a.yaml defines it too), "
        "found 'same'"
    ]


# --------------------------------------------------------------------------
# Discovery and overrides


def test_user_dir_follows_xdg_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert user_dir() == tmp_path / "cfg" / "conntest" / "profiles"


@pytest.mark.parametrize("xdg", ["", "relative/path"])
def test_user_dir_falls_back_to_dot_config(
    xdg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_dir() == tmp_path / ".config" / "conntest" / "profiles"


def write_user_profile(config_home: Path, name: str, text: str) -> Path:
    directory = config_home / "conntest" / "profiles"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_builtin_then_user_dir_then_profile_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    user_file = write_user_profile(
        tmp_path / "cfg", "outlook-2016.yaml", "name: Outlook (user)\nimap: {}\nsmtp: {}\n"
    )
    write_user_profile(tmp_path / "cfg", "mine.yaml", "name: Mine\nimap: {}\nsmtp: {}\n")
    extra = tmp_path / "anything.yaml"
    extra.write_text("id: outlook-2016\nname: Outlook (file)\nimap: {}\nsmtp: {}\n", "utf-8")

    loaded = load_profiles([extra])

    assert loaded.problems == ()
    assert loaded.ids() == ["ios-mail", "mine", "outlook-2016", "thunderbird"]
    outlook = loaded.entry("outlook-2016")
    assert outlook.profile.name == "Outlook (file)"
    assert outlook.kind == "file"
    assert outlook.profile.source == str(extra)
    assert [e.kind for e in outlook.overridden] == ["user", "builtin"]
    assert outlook.overridden[0].path == str(user_file)
    assert outlook.source_label == f"{extra} (overrides {user_file}, builtin)"
    assert loaded.entry("mine").kind == "user"
    assert loaded.entry("thunderbird").source_label == "builtin"

    without_extra = load_profiles()
    assert without_extra.get("outlook-2016").name == "Outlook (user)"
    assert without_extra.entry("outlook-2016").source_label == f"{user_file} (overrides builtin)"


def test_a_broken_user_file_does_not_hide_the_builtins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    broken = write_user_profile(tmp_path, "outlook-2016.yaml", "name: [oops\n")
    loaded = load_profiles()
    assert loaded.ids() == BUILTIN_IDS
    assert loaded.entry("outlook-2016").kind == "builtin"
    assert [p.file for p in loaded.problems] == [str(broken)]
    assert loaded.problems[0].expected == "valid YAML"


def test_two_user_files_with_one_id_keep_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    first = write_user_profile(tmp_path, "a.yaml", "id: twin\nname: First\nimap: {}\nsmtp: {}\n")
    second = write_user_profile(tmp_path, "b.yaml", "id: twin\nname: Second\nimap: {}\nsmtp: {}\n")
    loaded = load_profiles()
    assert loaded.get("twin").name == "First"
    assert [str(p) for p in loaded.problems] == [
        f"{second}: id: expected an id no other file here defines ({first} defines it too), "
        "found 'twin'"
    ]


def test_a_missing_profile_file_is_a_problem_named_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    loaded = load_profiles([Path("no/such.yaml")])
    assert loaded.ids() == BUILTIN_IDS
    assert [str(p) for p in loaded.problems] == [
        "no/such.yaml: expected a profile file, found nothing at that path"
    ]


def test_unknown_profile_id_is_a_usage_error_naming_the_known_ones() -> None:
    loaded = load_profiles(user=Path("/nonexistent"))
    assert "thunderbird" in loaded
    with pytest.raises(UsageError) as caught:
        loaded.get("outlook2016")
    assert str(caught.value) == (
        "unknown profile 'outlook2016'; known profiles: ios-mail, outlook-2016, thunderbird "
        "(did you mean 'outlook-2016'?)"
    )
    assert isinstance(caught.value, ValueError)


# --------------------------------------------------------------------------
# Output


@pytest.mark.parametrize("profile_id", BUILTIN_IDS)
def test_profile_to_dict_is_json_and_loads_back_unchanged(profile_id: str, tmp_path: Path) -> None:
    profile = builtin()[profile_id]
    data = profile_to_dict(profile)
    assert json.loads(json.dumps(data)) == data
    assert list(data) == [f.name for f in dataclasses.fields(Profile)]
    del data["source"]
    again = tmp_path / f"{profile_id}.yaml"
    again.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_profile(again) == dataclasses.replace(profile, source=str(again))


def test_reference_documents_every_field() -> None:
    """docs/profiles.md must name each key a profile file may contain."""
    doc = (REPO / "docs" / "profiles.md").read_text(encoding="utf-8")
    keys = [f.name for f in dataclasses.fields(Profile) if f.name != "source"]
    for section, cls in (
        ("imap", ImapSettings),
        ("smtp", SmtpSettings),
        ("tls", TLSRange),
        ("oauth2", OAuth2Support),
    ):
        keys += [f"{section}.{f.name}" for f in dataclasses.fields(cls)]
    missing = [k for k in keys if not re.search(rf"`{re.escape(k)}`", doc)]
    assert missing == []
