"""The sign-in panel of the run screen: what a person does to sign in with Microsoft.

While a run signs in with OAuth2, the panel sits above the checklists: first
"Signing in …", then (device code) the page to open and the code to enter,
large, with the identity platform's own message beneath, word for word; or
(browser) where to finish the sign-in.  When the sign-in returns it says who
signed in or that it failed; the verdict then explains why.  The token is
never shown: the panel only ever holds a :class:`~conntest.oauth.prompt.SignInPrompt`.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from conntest.oauth.prompt import SignInPrompt

FLOW_WORDS = {
    "browser": "browser",
    "device-code": "device code",
    "cache": "saved sign-in",
    "none": "no sign-in",
}


def minutes(seconds: int) -> str:
    whole = max(1, round(seconds / 60))
    return f"{whole} minute{'s' if whole != 1 else ''}"


class SignInPanel(Vertical):
    """The sign-in's progress, and the device code while one is waiting."""

    def __init__(self, *, device_code: bool) -> None:
        super().__init__(id="sign-in-panel")
        self.device_code = device_code
        """The person asked for a device code (else: the browser)."""
        self.prompt: SignInPrompt | None = None
        """What the sign-in asked the person to do, if anything yet."""
        self.outcome: str | None = None
        """``signed-in`` or ``failed`` once the sign-in returned."""

    def compose(self) -> ComposeResult:
        how = "a device code" if self.device_code else "the browser"
        yield Static(
            Content(f"Signing in with Microsoft ({how}) …"), id="sign-in-status", markup=False
        )
        yield Static(id="device-code", markup=False)
        yield Static(id="sign-in-message", markup=False)

    def on_mount(self) -> None:
        self.query_one("#device-code").display = False
        self.query_one("#sign-in-message").display = False

    def show_prompt(self, prompt: SignInPrompt) -> None:
        """The sign-in waits for the person: show what to do."""
        self.prompt = prompt
        status = self.query_one("#sign-in-status", Static)
        code = self.query_one("#device-code", Static)
        message = self.query_one("#sign-in-message", Static)
        if prompt.flow == "device-code" and prompt.user_code:
            valid = (
                f" (the code is valid for {minutes(prompt.expires_in)})"
                if prompt.expires_in
                else ""
            )
            status.update(Content(f"Sign in with Microsoft{valid}:"))
            lines = []
            if prompt.verification_uri:
                lines.append(
                    Content.assemble("Open   ", (prompt.verification_uri, "bold underline"))
                )
            lines.append(Content.assemble("Enter  ", (prompt.user_code, "bold reverse")))
            code.update(Content("\n").join(lines))
            code.display = True
            message.update(Content(prompt.message))
            message.display = bool(prompt.message)
        else:
            status.update(
                Content(
                    "Sign in with Microsoft in the browser window that opened; "
                    "conntest waits for it …"
                )
            )
        self.set_class(True, "-waiting")

    def show_outcome(self, ok: bool, flow: str, account: str | None, message: str) -> None:
        """The sign-in returned: who signed in, or that it failed (the verdict says why)."""
        self.outcome = "signed-in" if ok else "failed"
        how = FLOW_WORDS.get(flow, flow)
        if ok:
            who = f" as {account}" if account else ""
            text = f"✔ Signed in with Microsoft{who} ({how})."
        else:
            text = f"✘ Sign-in with Microsoft failed ({how}): {message}"
        self.query_one("#sign-in-status", Static).update(Content(text))
        self.query_one("#device-code").display = False
        self.query_one("#sign-in-message").display = False
        self.set_class(False, "-waiting")
        self.set_class(ok, "-signed-in")
        self.set_class(not ok, "-failed")
