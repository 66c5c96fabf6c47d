"""``conntest check --lab oauth-… --oauth`` as a newcomer runs it: a real process, real MSAL.

The lab plays the user, so a browser sign-in is finished by the lab's own
in-process user agent: the system browser (``$BROWSER``, here a recorder that
only notes it was called) is never started, since a real one would look up
``login.microsoftonline.com`` itself and reach Microsoft, not the lab.  The
lab's throwaway token cache is gone when the process ends, whatever the
format; and ``oauth-reauth-required`` shows a saved sign-in whose refresh
token is refused, without a prompt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

USER = "alice@contoso.com"


def _start(tmp_path: Path, name: str, scenario: str, fmt: str) -> subprocess.Popen[str]:
    recorder = tmp_path / "browser.sh"
    if not recorder.exists():
        recorder.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "browser-called"}\n')
        recorder.chmod(0o700)
    temp = tmp_path / f"tmp-{name}"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CONNTEST_CONFIG"}
    env.update(
        BROWSER=f"{recorder} %s",  # a browser "can open" here
        DISPLAY=":0",
        TMPDIR=str(temp),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    args = ["check", "--lab", scenario, "--oauth", "--user", USER, "--profile", "thunderbird"]
    return subprocess.Popen(
        [sys.executable, "-m", "conntest", *args, "--format", fmt, "--timeout", "20"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_lab_browser_sign_in_is_the_labs_own_and_leaves_no_tokens_behind(tmp_path: Path) -> None:
    # Both runs side by side: a browser sign-in (JSON) and a saved sign-in (text).
    browser = _start(tmp_path, "json", "oauth-ok", "json")
    reauth = _start(tmp_path, "text", "oauth-reauth-required", "text")
    out, err = browser.communicate(timeout=120)
    text, text_err = reauth.communicate(timeout=120)

    doc = json.loads(out)
    [profile] = doc["profiles"]
    assert profile["findings"][0]["code"] == "ok", err
    signin = next(s for s in profile["steps"] if s["protocol"] == "oauth")
    assert signin["data"]["flow"] == "browser"
    assert browser.returncode == 0
    assert "the lab signs in for you" in err and "opening the browser" not in err
    assert not (tmp_path / "browser-called").exists()  # the system browser never started

    # The refresh token the lab's sign-in saved is refused (AADSTS700082): sign in again.
    assert reauth.returncode == 3, text_err  # UNKNOWN: the mail servers were not tried
    assert "oauth-reauth-required" in text
    assert "conntest oauth login --user alice@contoso.com" in text
    assert "enter the code" not in text_err and "signs in for you" not in text_err  # no prompt

    # Neither run left its cache (the lab's tokens) in the temporary directory.
    for name in ("json", "text"):
        assert list((tmp_path / f"tmp-{name}").iterdir()) == [], name
    assert not (tmp_path / "state" / "conntest").exists()  # nor in the real token cache
