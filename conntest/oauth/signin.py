"""Sign in with MSAL: the token cache first, then the browser or a device code.

The only module of conntest that imports MSAL.  Everything here blocks; the
engine runs :func:`sign_in` in a worker thread.  MSAL's results are turned
into :class:`~conntest.oauth.result.SignInResult` at once: the numeric
``error_codes`` are kept, the server's ``error_description`` is not (Microsoft:
it "should never be used by the client"), the token never leaves the result.

MSAL traps avoided (oauth.md §5): reserved scopes are not passed; a failed
``initiate_device_flow`` is checked for ``user_code`` before polling; the
authority is fetched through :class:`~conntest.oauth.transport.PinnedHttpClient`
(verified TLS to the probed address, no environment CA bundle); instance
discovery is off, so nothing but the authority is contacted.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msal

from conntest.oauth.cache import read_cache, write_cache
from conntest.oauth.prompt import PromptCallback, SignInPrompt, print_prompt
from conntest.oauth.redirect import RedirectListener
from conntest.oauth.result import SCOPES, SignInResult
from conntest.oauth.transport import PinnedHttpClient, TransportError
from conntest.probes import tls as tlsmod

REGISTER_HINT = (
    "conntest has no client id of its own: register a public client app in Entra ID "
    "(docs/oauth.md) and pass its Application (client) ID with --client-id"
)


@dataclass(frozen=True)
class SignInConfig:
    """Everything one sign-in needs."""

    client_id: str
    authority: str
    """``https://login.microsoftonline.com`` (or ``--authority``), without the tenant."""
    tenant: str
    user: str
    address: str
    """Where the authority's host resolved (the identity probe's answer)."""
    cache_file: Path
    ca_file: Path | None = None
    interactive: bool = False
    """False: the cache only, never a prompt (headless)."""
    device_code: bool = False
    """True: device code even where a browser could open."""
    timeout: float = 300.0
    """How long an interactive sign-in may take."""
    show: PromptCallback = field(default=print_prompt)
    """Tells the person what to do (the CLI prints, the TUI shows a panel); from this thread."""
    open_browser: Callable[[str], bool] | None = None
    """``None``: the system browser (``webbrowser.open``, which honours ``$BROWSER``)."""
    lab_browser: bool = False
    """The lab: its own user agent follows the sign-in in-process
    (:mod:`conntest.oauth.lab_agent`) instead of ``open_browser``, which a real
    browser could not finish (the lab's names and CA are known to conntest only)."""
    cancel: threading.Event | None = None
    """Set by a front end that gave up (the TUI's Escape, quit): stop waiting for the person."""

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()


def browser_available() -> bool:
    """A graphical browser can open (Python's webbrowser would run a console one otherwise)."""
    if os.environ.get("BROWSER"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def sign_in(config: SignInConfig) -> SignInResult:
    """A token for the Outlook IMAP and SMTP scopes, or why there is none."""
    cache = msal.SerializableTokenCache()
    text = read_cache(config.cache_file)
    if text:
        try:
            cache.deserialize(text)
        except ValueError:
            pass  # a damaged cache is a cache without tokens
    try:
        app = _application(config, cache)
    except (TransportError, ValueError) as exc:
        return SignInResult(
            flow="none",
            error="discovery",
            message=f"MSAL could not read the authority: {_one_line(exc)}",
        )
    try:
        return _acquire(app, config)
    except TransportError as exc:
        return SignInResult(flow="none", error="unreachable", message=_one_line(exc))
    finally:
        if cache.has_state_changed:
            write_cache(config.cache_file, cache.serialize())


def signed_in_accounts(config: SignInConfig) -> list[str]:
    """The accounts with tokens in the cache (``conntest oauth status``), no network."""
    cache = msal.SerializableTokenCache()
    text = read_cache(config.cache_file)
    if text:
        cache.deserialize(text)
    accounts = cache.find(msal.TokenCache.CredentialType.ACCOUNT)
    return sorted({str(a.get("username", "")) for a in accounts if a.get("username")})


def _application(config: SignInConfig, cache: msal.SerializableTokenCache) -> Any:
    host = urlsplit(config.authority).hostname or ""
    context = tlsmod.client_context("1.2", "1.3", config.ca_file)
    http = PinnedHttpClient({host: config.address}, context)
    return msal.PublicClientApplication(
        config.client_id,
        authority=f"{config.authority.rstrip('/')}/{config.tenant}",
        instance_discovery=False,
        http_client=http,
        token_cache=cache,
    )


def _acquire(app: Any, config: SignInConfig) -> SignInResult:
    silent = _silent(app, config.user)
    if silent is not None and ("access_token" in silent or not config.interactive):
        return _outcome("cache", silent)
    if not config.interactive:
        return SignInResult(
            flow="none",
            error="no-token",
            message=f"no saved sign-in for {config.user}",
        )
    if not config.device_code and (config.lab_browser or browser_available()):
        return _browser(app, config)
    return _device(app, config)


def _silent(app: Any, user: str) -> Mapping[str, Any] | None:
    accounts = app.get_accounts(username=user)
    if not accounts:
        return None
    result: Mapping[str, Any] | None = app.acquire_token_silent_with_error(
        list(SCOPES), account=accounts[0]
    )
    return result


def _browser(app: Any, config: SignInConfig) -> SignInResult:
    with RedirectListener() as listener:
        flow = app.initiate_auth_code_flow(
            list(SCOPES),
            redirect_uri=listener.redirect_uri,
            login_hint=config.user,
            response_mode="form_post",
        )
        config.show(SignInPrompt("browser", _LAB_LINE if config.lab_browser else _BROWSER_LINE))
        if not _opener(config)(flow["auth_uri"]):
            return _device(app, config)
        response = _wait_for_browser(listener, config)
    if response is None and config.cancelled():
        return SignInResult(flow="browser", error="cancelled", message="sign-in cancelled")
    if response is None:
        return SignInResult(
            flow="browser",
            error="timeout",
            message=f"the browser sign-in did not finish within {config.timeout:.0f} s",
        )
    result = app.acquire_token_by_auth_code_flow(flow, response, scopes=list(SCOPES))
    return _outcome("browser", result)


_BROWSER_LINE = "conntest: opening the browser to sign in to Microsoft 365…"
_LAB_LINE = "conntest: the lab signs in for you (its stand-in browser; no browser opens)…"


def _opener(config: SignInConfig) -> Callable[[str], bool]:
    if not config.lab_browser:
        return config.open_browser or webbrowser.open
    from conntest.oauth.lab_agent import lab_user_agent

    return lab_user_agent(config.address, tlsmod.client_context("1.2", "1.3", config.ca_file))


def _device(app: Any, config: SignInConfig) -> SignInResult:
    flow = app.initiate_device_flow(scopes=list(SCOPES))
    if "user_code" not in flow:
        return _outcome("device-code", flow)
    expires = flow.get("expires_in")
    config.show(
        SignInPrompt(
            "device-code",
            str(flow.get("message", "")),
            user_code=str(flow["user_code"]),
            verification_uri=str(flow.get("verification_uri") or "") or None,
            expires_in=expires if isinstance(expires, int) else None,
        )
    )
    flow["expires_at"] = min(float(flow.get("expires_at", 0)), time.time() + config.timeout)

    def give_up(polled: Mapping[str, Any]) -> bool:  # MSAL asks about once a second
        return config.cancelled() or float(polled.get("expires_at", 0)) < time.time()

    result = app.acquire_token_by_device_flow(flow, exit_condition=give_up)
    return _outcome("device-code", result)


def _wait_for_browser(listener: RedirectListener, config: SignInConfig) -> dict[str, str] | None:
    """The redirect's response; ``None`` after the timeout or once cancelled."""
    deadline = time.monotonic() + config.timeout
    while not config.cancelled():
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        response = listener.wait(min(left, 0.25))
        if response is not None:
            return response
    return None


def _outcome(flow: str, result: Mapping[str, Any]) -> SignInResult:
    token = result.get("access_token")
    claims = result.get("id_token_claims") or {}
    account = claims.get("preferred_username") if isinstance(claims, Mapping) else None
    if isinstance(token, str) and token:
        return SignInResult(flow=flow, token=token, account=account, message="signed in")
    codes = result.get("error_codes") or []
    error_codes = tuple(c for c in codes if isinstance(c, int))
    error = str(result.get("error") or "unknown")
    shown = ", ".join(f"AADSTS{c}" for c in error_codes)
    return SignInResult(
        flow=flow,
        error=error,
        error_codes=error_codes,
        suberror=str(result["suberror"]) if result.get("suberror") else None,
        account=account,
        message=f"{error}{f' ({shown})' if shown else ''}",
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or exc.__class__.__name__
