"""Render ``docs/migration.md``: each shipped client's way off basic authentication.

Generated from the shipped profiles (``way_forward``, ``oauth2``), the dated
timeline and the diagnosis catalogue, so it cannot drift from what conntest
says in a report: a unit test compares the file with :func:`render_markdown`.
Regenerate with::

    python -m conntest.migration_docs > docs/migration.md
"""

from __future__ import annotations

import calendar
import sys
from datetime import date
from pathlib import Path

from conntest.diagnosis.catalogue import CATALOGUE, RETIREMENT_TIMELINE
from conntest.diagnosis.codes.retirement import NOTES
from conntest.diagnosis.retirement import DEFAULT_OFF, DEFAULT_WINDOW_DAYS, FINAL, change_date
from conntest.migration import NO_OAUTH_ALTERNATIVES, modern_auth_cell, route_for
from conntest.model import ProfileResult
from conntest.profile import Profile
from conntest.profiles import builtin_dir, load_profile

__all__ = ["REGENERATE", "render_markdown"]

REGENERATE = "python -m conntest.migration_docs > docs/migration.md"

_DATES = ("work-basic-auth-permanent", "consumer-basic-auth-off", DEFAULT_OFF, FINAL)
"""The timeline rows this page is about (basic authentication, not TLS)."""

_ROUTE_WORDS = {
    "oauth2": "yes: it signs in with OAuth2 over IMAP and SMTP",
    "switch": "no, not for an IMAP/SMTP account: the mailbox moves to another account type",
    "none": "no: it needs another way to send",
}

_PORT_465 = (
    "Microsoft's multifunction-device guide: \"If your device recommends or defaults to port "
    "465, it doesn't support SMTP AUTH client submission.\""
)


def shipped_profiles() -> list[Profile]:
    """The profiles shipped in the package, by id (a user's own files are not documented)."""
    files = sorted(
        (e for e in builtin_dir().iterdir() if e.name.endswith((".yaml", ".yml"))),
        key=lambda e: e.name,
    )
    return sorted((load_profile(Path(str(f))) for f in files), key=lambda p: p.id)


def _long_date(day: date) -> str:
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def render_markdown() -> str:
    """The whole document, ending in one newline."""
    timeline = {e.key: e for e in RETIREMENT_TIMELINE}
    change, final = timeline[DEFAULT_OFF], timeline[FINAL]
    retiring = CATALOGUE["basic-auth-retiring"]
    out = [
        "# Moving off basic authentication: each client's way forward",
        "",
        "<!-- Generated from the shipped profiles (way_forward, oauth2), the timeline and the "
        "diagnosis catalogue; do not edit by hand. -->",
        f"<!-- Regenerate: {REGENERATE} -->",
        "",
        f"Microsoft disables SMTP AUTH basic authentication (a user name and password on "
        f"`smtp.office365.com`) by default for existing tenants at the {change.label}. Every "
        "printer, script and mail client that sends with a password is then at risk. IMAP and "
        "POP stopped taking passwords long ago. This page says, per client conntest ships a "
        "profile for, how to move to modern authentication, and what conntest can and cannot "
        "check about it.",
        "",
        "## What changes, and when",
        "",
        "| when | scope | what | Microsoft's words | source |",
        "|---|---|---|---|---|",
    ]
    for key in _DATES:
        e = timeline[key]
        words = f'"{e.quote}"' if e.quote else ""
        out.append(
            f"| {e.label} | {_cell(e.scope)} | {_cell(e.event)} | {_cell(words)} | "
            f"{_cell(e.source)} |"
        )
    out += [
        "",
        f'conntest counts "{change.label}" as {_long_date(change_date())} (the last day of the '
        "month, so it never says the change has happened before it can have). The final "
        f"removal date is not known yet: Microsoft announces it in {final.label}.",
        "",
        "## What conntest says about it",
        "",
        f"- **`basic-auth-retiring`**: {_one_line(retiring.evidence)} The advice names this "
        "client's way forward (below). After the date the title says the password still works "
        "*after* the change: an administrator re-enabled it (or the change has not reached the "
        "tenant yet).",
        "- **`basic-auth-disabled`** on SMTP, on or after the date, adds: "
        f"“{_one_line(NOTES['basic-auth-disabled-after-change'])}” (placeholders filled from the "
        "run). The verdict is what the server said; the date only adds that sentence.",
        "- The announced final text, `550 5.7.30 Basic authentication is not supported for "
        "Client Submission.`, is matched on its sentence, never on the bare code 5.7.30 (other "
        "servers use 5.7.30 for other things), and gets no such sentence: after the removal no "
        "setting brings basic authentication back.",
        "- The all-clients matrix (text report, JSON `matrix`, the TUI's Clients tab) has a "
        "*Modern authentication* column: the way forward and whether this run verified it.",
        "- **`client-cannot-use-oauth`** (warning) in a `--oauth` run for a client without "
        "OAuth2 for IMAP and SMTP (Outlook 2016, iOS Mail's IMAP account): conntest's own "
        "XOAUTH2 sign-in shows the mailbox accepts modern authentication, not that the client "
        "can use it, so the verdict is not OK; the finding names the client's way forward "
        "(below), and the matrix says *not tested* for its receiving and sending. Thunderbird's "
        "`--oauth` run stays OK.",
        f"- `--today YYYY-MM-DD` (default `$CONNTEST_TODAY`, else the local date) and "
        f"`--retirement-window DAYS` (default {DEFAULT_WINDOW_DAYS}) set the date and the "
        "window, to plan ahead or to test.",
        "- Monitoring: `conntest_basic_auth_in_use` and "
        "`conntest_basic_auth_default_off_timestamp_seconds` "
        "([monitoring.md](monitoring.md#finding-what-breaks-at-the-end-of-december-2026)).",
        "",
        "## Per client",
        "",
    ]
    for profile in shipped_profiles():
        out += _client(profile)
    out += [
        "## A device that cannot do OAuth at all",
        "",
        "Printers, scanners and scripts that only know a password need another way to send "
        "before the change. An administrator chooses one:",
        "",
        "| option | endpoint | limits |",
        "|---|---|---|",
    ]
    out += [
        f"| {name} | {_cell(where)} | {_cell(limits)} |"
        for name, where, limits in (NO_OAUTH_ALTERNATIVES)
    ]
    out += ["", _PORT_465, ""]
    return "\n".join(out)


def _client(profile: Profile) -> list[str]:
    way = profile.way_forward
    route = route_for(profile)
    cell = modern_auth_cell(ProfileResult(profile.id, [], [], modern_auth=route))
    out = [
        f"### {profile.name} (`{profile.id}`)",
        "",
        f"**Way forward:** {route.summary}.",
        "",
        f"**OAuth2 for IMAP and SMTP?** {_ROUTE_WORDS[route.kind]}.",
        "",
    ]
    if way.steps:
        out += [f"{i}. {_one_line(step)}" for i, step in enumerate(way.steps, 1)]
        out.append("")
    elif profile.oauth2.how.strip():
        out += [_one_line(profile.oauth2.how), ""]
    if way.check.strip():
        out += [f"**How to tell it worked:** {_one_line(way.check)}", ""]
    if way.not_probed.strip():
        out += [f"**What conntest cannot check:** {_one_line(way.not_probed)}", ""]
    if way.support.strip():
        out += [f"**Support:** {_one_line(way.support)}", ""]
    if cell is not None:
        shown = f"“{cell.text}”"
        if route.kind == "oauth2":
            shown += (
                "; “verified” once an OAuth2 sign-in to IMAP and SMTP succeeded in the same run"
            )
        out += [f"**Matrix column:** {shown}.", ""]
    if way.sources:
        out += ["Sources: " + "; ".join(_one_line(s) for s in way.sources) + ".", ""]
    return out


def main() -> None:
    sys.stdout.write(render_markdown())


if __name__ == "__main__":
    main()
