"""The Microsoft identity platform conntest signs in with unless told otherwise, and the
lines that say how to get there: the lab's client id, the "register an app" line, the
``conntest oauth login`` command a headless check needs.

Plain constants and small functions in a module of their own, shared by the
``conntest oauth`` command, the batch loader and the TUI (so that the batch
loader imports no command module): the ``--authority`` help quotes them, and
building the parser must not import :mod:`conntest.oauth.result`
(dataclasses, inspect, ast: about 20 ms of every start; issue 12).
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_AUTHORITY",
    "DEFAULT_TENANT",
    "LAB_CLIENT_ID",
    "REGISTER_LINE",
    "login_command_for",
]

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_TENANT = "organizations"

LAB_CLIENT_ID = "00000000-0000-4000-8000-00000000c0de"
"""Accepted by the lab only; Microsoft knows no such app."""

REGISTER_LINE = (
    "--client-id is required with --oauth (or oauth.client_id in config.yaml): conntest has no "
    "client id of its own; register a public client app in Entra ID (see docs/oauth.md) and "
    "pass its Application (client) ID"
)


def login_command_for(user: str, client_id: str, tenant: str, authority: str) -> str:
    """The ``conntest oauth login`` line that saves the sign-in a headless check needs.

    Quoted for a POSIX shell where a value needs it (``o'brien@contoso.com``), so that it
    can be pasted as it is.
    """
    from shlex import quote

    parts = ["conntest oauth login", f"--user {quote(user)}", f"--client-id {quote(client_id)}"]
    if tenant != DEFAULT_TENANT:
        parts.append(f"--tenant {quote(tenant)}")
    if authority != DEFAULT_AUTHORITY:
        parts.append(f"--authority {quote(authority)}")
    return " ".join(parts)
