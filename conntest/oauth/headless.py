"""The sign-in plan of a batch or ``serve`` account with ``auth: oauth``: the token cache only.

Monitoring runs with no person at the keyboard, so :func:`headless_plan` never
prompts: MSAL is asked for a token silently (the refresh token that
``conntest oauth login`` saved), and with none usable the engine reports
UNKNOWN (``oauth-reauth-required``) with the login command that fixes it.
The lab is the one exception: it plays the user, so a lab account signs in by
device code, with its tokens in a temporary cache that is removed at exit,
never in the real one.  MSAL (:mod:`conntest.oauth.signin`) is imported inside
the token source only, when a check actually signs in.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from pathlib import Path

from conntest.oauth.result import OAuthPlan, SignInResult

__all__ = ["headless_plan"]

_LAB_DIR: list[Path] = []


def _lab_cache(client_id: str, authority: str, user: str) -> Path:
    """One cache per lab account in this process's own temporary folder (0700)."""
    if not _LAB_DIR:
        _LAB_DIR.append(Path(tempfile.mkdtemp(prefix="conntest-lab-oauth-")))
        atexit.register(shutil.rmtree, _LAB_DIR[0], True)
    key = hashlib.sha256(f"{client_id}\n{authority}\n{user.lower()}".encode()).hexdigest()[:16]
    return _LAB_DIR[0] / f"oauth-{key}.json"


def headless_plan(
    client_id: str,
    tenant: str,
    authority: str,
    user: str,
    *,
    ca_file: Path | None = None,
    lab: bool = False,
) -> OAuthPlan:
    """The engine's OAuth plan for one account: silent sign-in from the token cache."""

    async def token_source(address: str) -> SignInResult:
        import asyncio

        from conntest.oauth.cache import cache_path
        from conntest.oauth.signin import SignInConfig, sign_in

        config = SignInConfig(
            client_id=client_id,
            authority=authority,
            tenant=tenant,
            user=user,
            address=address,
            cache_file=(
                _lab_cache(client_id, authority, user)
                if lab
                else cache_path(client_id, f"{authority}/{tenant}")
            ),
            ca_file=ca_file,
            interactive=lab,
            device_code=True,
            show=lambda _text: None,
        )
        return await asyncio.to_thread(sign_in, config)

    return OAuthPlan(authority=authority, tenant=tenant, token_source=token_source)
