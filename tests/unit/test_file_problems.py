"""One wording for one mistake, whatever the file: a misspelt key gets the closest known one.

Profiles, batch files, the serve config and lab account files are all
checked by :mod:`conntest.schema` (issue 10); these run the commands a user
runs, on real files, and read the line they print.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SERVE = ["serve", "--listen", "127.0.0.1:0", "--config"]


@pytest.mark.parametrize(
    ("argv", "text", "line"),
    [
        (
            ["check", "--batch"],
            "accounts:\n  - address: alice@contoso.com\n    profil: thunderbird\n",
            "accounts[0].profil: expected a known key (did you mean 'profile'?), "
            "found an unknown key (line 3)",
        ),
        (
            SERVE,
            "accouts:\n  - address: alice@contoso.com\n",
            "accouts: expected a known key (did you mean 'accounts'?), "
            "found an unknown key (line 1)",
        ),
        (
            SERVE,
            "accounts:\n  - address: alice@contoso.com\n    pasword_env: X\n",
            "accounts[0].pasword_env: expected a known key (did you mean 'password_env'?), "
            "found an unknown key (line 3)",
        ),
        (
            ["lab", "--accounts"],
            "accounts:\n  - adress: alice@contoso.com\n    scenario: ok\n",
            "accounts[0].adress: expected a known key (did you mean 'address'?), "
            "found an unknown key (line 2)",
        ),
        (
            ["check", "--user", "a@contoso.com", "--no-password", "--profile-file"],
            None,
            "imap.hots: expected a known key (did you mean 'host'?), found an unknown key (line 4)",
        ),
    ],
    ids=["batch", "serve", "serve-entry", "lab-accounts", "profile"],
)
def test_a_misspelt_key_is_named_with_the_key_meant(
    tmp_path: Path, argv: list[str], text: str | None, line: str
) -> None:
    if text is None:  # a profile with a slip
        target = tmp_path / "x.yaml"
        target.write_text(
            "id: x\nname: X\nimap:\n  hots: imap.contoso.com\n  port: 993\n  security: tls\n"
            "smtp:\n  host: smtp.contoso.com\n  port: 587\n  security: starttls\n"
        )
        shown = f"{target}: {line}"
    else:
        target = tmp_path / "file.yaml"
        target.write_text(text)
        shown = f"{target}: {line}"
    done = subprocess.run(
        [sys.executable, "-m", "conntest", *argv, str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 3, done.stderr
    assert f"conntest: {shown}" in done.stderr.splitlines(), done.stderr
    assert "Traceback" not in done.stderr


def test_a_key_far_from_every_known_one_lists_them(tmp_path: Path) -> None:
    """No guess when nothing is close: the keys the file may hold instead."""
    from conntest.lab.accounts import load_accounts

    path = tmp_path / "accounts.yaml"
    path.write_text("accounts:\n  - {address: a@contoso.com, scenario: ok, colour: blue}\n")
    with pytest.raises(ValueError) as caught:
        load_accounts(path)
    assert [str(p) for p in caught.value.problems] == [  # type: ignore[attr-defined]
        f"{path}: accounts[0].colour: expected one of the keys address, scenario, "
        "found an unknown key (line 2)"
    ]
