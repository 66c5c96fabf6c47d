"""Conventions a monitoring admin or a script expects of a command-line tool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conntest import __version__

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conntest", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_version_long_and_short() -> None:
    for flag in ("--version", "-V"):
        done = run(flag)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"conntest {__version__}"


def test_bare_conntest_without_a_terminal_prints_usage_and_exits_3() -> None:
    """From cron or a pipe there is no screen to draw: usage, exit 3, at once."""
    for args in ((), ("tui",), ("demo",)):
        done = run(*args)
        assert done.returncode == 3, (args, done.stderr)
        assert done.stderr.startswith("usage: conntest"), done.stderr
        assert "conntest check" in done.stderr
        assert done.stdout == ""


def test_nagios_usage_error_says_unknown_on_stdout() -> None:
    """Nagios shows stdout: a bad option must not read "(No output on stdout)"."""
    done = run("check", "--format", "nagios", "--user", "a@contoso.com", "--bogus")
    assert done.returncode == 3
    assert done.stdout.startswith("CONNTEST UNKNOWN - "), done.stdout
    assert "--bogus" in done.stdout


def test_short_options_as_in_the_monitoring_plugins() -> None:
    from conntest.cli import build_parser

    args = build_parser().parse_args(
        ["check", "--user", "a@contoso.com", "-w", "5", "-c", "10:", "-t", "7"]
    )
    assert (str(args.warning), str(args.critical), args.timeout) == ("5", "10:", 7.0)


def sockets_of(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def test_ctrl_c_under_nagios_prints_unknown() -> None:
    """Interrupted (Ctrl-C, a monitoring timeout's SIGINT) mid-check: UNKNOWN on stdout, exit 3."""
    import signal
    import time

    with subprocess.Popen(
        [
            *(sys.executable, "-m", "conntest", "check", "--format", "nagios"),
            *("--lab", "silent-server", "--user", "a@contoso.com", "--password-stdin"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None
        process.stdin.write("correcthorsebatt\n")
        process.stdin.close()
        # Interrupt once the run is under way: the lab listens and the probes connect.
        deadline = time.monotonic() + 60
        while sockets_of(process.pid) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sockets_of(process.pid) >= 6, "the check never started"
        process.send_signal(signal.SIGINT)
        assert process.stdout is not None and process.stderr is not None
        process.wait(timeout=30)
        out, err = process.stdout.read(), process.stderr.read()
    assert process.returncode == 3, err
    assert out.startswith("CONNTEST UNKNOWN - interrupted"), out
    assert "conntest: interrupted" in err


def test_copy_a_builtin_profile_from_any_install(tmp_path: Path) -> None:
    """docs/profiles.md's recipe: `profiles path --user` and `profiles show ID --builtin`."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    where = subprocess.run(
        [sys.executable, "-m", "conntest", "profiles", "path", "--user"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
        timeout=30,
    ).stdout.strip()
    assert where == str(tmp_path / "config" / "conntest" / "profiles")
    shown = subprocess.run(
        [sys.executable, "-m", "conntest", "profiles", "show", "outlook-2016", "--builtin"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
        timeout=30,
    ).stdout
    shipped = (REPO / "conntest" / "profiles_data" / "outlook-2016.yaml").read_text("utf-8")
    assert shown == shipped
    Path(where).mkdir(parents=True)
    (Path(where) / "outlook-2016.yaml").write_text(
        shown.replace("Outlook 2016", "Outlook 2016 (mine)", 1)
    )
    listed = subprocess.run(
        [sys.executable, "-m", "conntest", "profiles", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
        timeout=30,
    ).stdout
    assert "(overrides builtin)" in listed
    again = subprocess.run(
        [sys.executable, "-m", "conntest", "profiles", "show", "outlook-2016", "--builtin"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
        timeout=30,
    ).stdout
    assert again == shipped


def test_profiles_show_an_unknown_id_is_a_usage_error() -> None:
    done = run("profiles", "show", "outlok-2016")
    assert done.returncode == 3
    assert "did you mean 'outlook-2016'" in done.stderr
