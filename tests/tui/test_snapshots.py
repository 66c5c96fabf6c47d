"""Snapshot tests: what a person sees at 80×24, pinned to the exact Textual version.

Every snapshot is built from fixed data (a scripted engine and fixed
reports, see :mod:`tests.tui.scenes`), with spinners frozen and cursors
steady, so no timing, port or date can change a pixel.  Run
``pytest --snapshot-update`` after an intended change and look at the SVGs
before committing them.
"""

from __future__ import annotations

from typing import Any

from tests.tui import scenes


def snap(snap_compare: Any, scene: scenes.Scene) -> bool:
    result: bool = snap_compare(scene.app, terminal_size=(80, 24), run_before=scene.run_before)
    return result


def test_setup_with_whitespace_hint(snap_compare: Any) -> None:
    """Setup for adele.vance@contoso.com, Thunderbird chosen, a pasted app password.

    The sign-in row offers "App password" (chosen) and "Sign in with Microsoft
    (OAuth2)"; the Advanced title ends in "tenant".  The password field shows
    20 dots, never the characters. Beneath it, in the
    warning colour: "20 characters: 1 trailing space, 3 spaces inside", then
    "Shaped like a Microsoft app password (16 lowercase letters)."  The client
    row has Thunderbird selected; the footer offers ^r Run check, ^q Quit and
    f1 Help, and ^p palette on the right.
    """
    assert snap(snap_compare, scenes.setup_whitespace_hint())


def test_demo_setup_with_scenario_picker(snap_compare: Any) -> None:
    """`conntest demo`: the same setup screen, with a "Lab scenario" picker.

    The intro says every check runs against the built-in copy of Microsoft
    365; the address is prefilled, "App password" is the sign-in (the scenario
    is not an OAuth one), the password shows 16 dots (the lab's
    password, masked like any other); all three clients plus "All three"
    (selected); the scenario reads "smtp-auth-disabled-tenant" with its
    summary "SMTP AUTH is disabled for the tenant; IMAP works." beneath.
    """
    assert snap(snap_compare, scenes.setup_demo())


def test_live_progress(snap_compare: Any) -> None:
    """A run in progress for Thunderbird, before any sign-in.

    Status line: "Checking adele.vance@contoso.com · Thunderbird …".  IMAP
    (receive): DNS ✔ "resolved", connect ✔ 31 ms, TLS ✔ 64 ms TLSv1.2,
    greeting ✔ 35 ms, capabilities ✔ 33 ms, then login with the spinner and
    mailbox still a dot.  SMTP (send): DNS ✔, connect ✔ 30 ms, greeting ✔
    44 ms, capabilities ✔ 36 ms, TLS spinning, the rest dots.  Footer: r Run
    again, esc Back, ^q Quit, f1 Help, ^p palette (Save greyed out until there
    is a report).
    """
    assert snap(snap_compare, scenes.live_progress())


def test_device_code_waiting(snap_compare: Any) -> None:
    """Sign in with Microsoft by device code, while the identity platform waits.

    Status line: "Checking adele.vance@contoso.com · Thunderbird · Sign in
    with Microsoft …".  Above the checklists, a framed panel: "Sign in with Microsoft (the code
    is valid for 15 minutes):", then "Open https://microsoft.com/devicelogin"
    and "Enter DAZ9UTXEE" (the code in reverse video), then Microsoft's own
    message naming the same page and code.  The checklists below are pending.
    """
    assert snap(snap_compare, scenes.device_code())


def test_verdict_with_remedy(snap_compare: Any) -> None:
    """Thunderbird can receive but not send: the verdict and what to do.

    An amber "◐ Partly works: Thunderbird can receive mail but not send"
    banner with "Sending is switched off: SMTP AUTH is disabled for this
    organisation" under it; tabs Diagnosis (active), Steps, Transcript; the
    finding card with "most likely cause · critical · smtp-auth-disabled ·
    SMTP", the explanation, "What to do" (ask the administrator) and "For your
    administrator" with the Set-CASMailbox command.
    """
    assert snap(snap_compare, scenes.verdict_with_remedy())


def test_all_clients_matrix(snap_compare: Any) -> None:
    """All three clients: which would connect, and why not.

    Banner "◐ Partly works: 2 of 3 clients can receive, 0 of 3 can send".
    The Clients tab shows a table: Outlook 2016 ✘ fails / ✘ fails "The server
    refuses Outlook…"; iOS Mail and Thunderbird ✔ works / ✘ fails "Sending is
    switched off…": a reason cut at 80 columns ends in "…".  The "Modern auth"
    column starts at the right edge (one scroll to the right).  Below it:
    "Enter on a client shows its diagnosis and what to do."
    """
    assert snap(snap_compare, scenes.all_clients_matrix())


def test_all_clients_steps_tab(snap_compare: Any) -> None:
    """The Steps tab with three clients: one below the other, with the reasons.

    Outlook 2016 first, across the whole width: IMAP ✘ TLS 48 ms "TLS
    handshake failed: TLSV1_ALERT_PROTOCOL_VERS…" (cut, with "…"), greeting
    to mailbox "– no TLS session"; then its SMTP checklist begins.  A
    scrollbar on the right says there is more below (iOS Mail, Thunderbird).
    """
    assert snap(snap_compare, scenes.all_clients_steps())


def test_diagnosis_scrolled_to_the_administrator(snap_compare: Any) -> None:
    """Thunderbird's Diagnosis after Tab and PageDown twice: the end of the finding.

    The card's "For your administrator" part with the Set-CASMailbox and
    Set-TransportConfig commands and the evidence line, the scrollbar at the
    bottom; the banner stays at the top.
    """
    assert snap(snap_compare, scenes.verdict_admin())


def test_verdict_light_theme(snap_compare: Any) -> None:
    """The same Thunderbird verdict on a light terminal: dark text on a light background.

    Everything as in test_verdict_with_remedy, in the textual-light theme that
    conntest picks when the terminal reports a light background.
    """
    assert snap(snap_compare, scenes.verdict_light())


def test_whitespace_retry_offer_and_warning(snap_compare: Any) -> None:
    """The lockout warning before a retry without whitespace.

    Behind a dialog, the verdict "✘ Does not work: iOS Mail cannot receive or send mail".
    The dialog, titled "Retry without whitespace?", says conntest will sign in
    once more without the spaces, that one more failure counts toward the
    lockout (about 10; 3 in US Government clouds), and that the retry happens
    once; buttons "Cancel (n)" (focused) and "Retry once (y)".  The footer now
    also offers "w Retry w/o spaces".
    """
    assert snap(snap_compare, scenes.retry_warning())
