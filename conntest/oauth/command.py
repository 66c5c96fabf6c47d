"""The OAuth2 options of ``conntest check`` and the ``conntest oauth`` command.

Parsing needs only the standard library (``--help`` stays fast); MSAL is
imported inside :func:`token_source`'s coroutine and in ``oauth login`` and
``status``, so nothing imports it without ``--oauth``.

Interactive sign-in (browser, else device code) only where a person can
answer: a terminal on stdin and stderr, or the lab, which plays the user.
Anywhere else a check uses the saved sign-in or reports UNKNOWN with the
``conntest oauth login`` command that fixes it.
"""

from __future__ import annotations

import argparse
import sys

from conntest.errors import UsageError
from conntest.inputs.argtypes import add_lookup_arguments, path, validated
from conntest.oauth.platform import (
    DEFAULT_AUTHORITY,
    DEFAULT_TENANT,
    LAB_CLIENT_ID,
    login_command_for,
)

# Building the parser (`--help`, `check --help`) imports no more than the lines
# above: pathlib, urllib.parse, conntest.oauth.result and .prompt (dataclasses)
# are imported where a value is used (issue 12: cold start).
TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import threading
    from pathlib import Path
    from typing import Any, TextIO

    from conntest.oauth.prompt import PromptCallback
    from conntest.oauth.result import OAuthPlan, SignInResult


def _client_id(text: str) -> str:
    from conntest.inputs.values import InvalidValue
    from conntest.oauth.defaults import parse_client_id

    try:
        return parse_client_id(text)
    except InvalidValue as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_signin_arguments(parser: argparse.ArgumentParser) -> None:
    """``--client-id``, ``--tenant``, ``--authority``, ``--device-code`` (check and oauth)."""
    parser.add_argument(
        "--client-id",
        type=_client_id,
        metavar="ID",
        help="Application (client) ID of your app registration (default: config.yaml's)",
    )
    parser.add_argument(
        "--tenant",
        help="organizations (default), consumers, common, a tenant id or domain",
    )
    parser.add_argument(
        "--authority",
        metavar="URL",
        help=f"identity platform (default {DEFAULT_AUTHORITY}); a path sets the tenant",
    )
    parser.add_argument(
        "--device-code", action="store_true", help="sign in with a device code, not the browser"
    )
    parser.add_argument(
        "--config",
        type=path,
        metavar="YAML",
        help="the settings file with the oauth defaults (default $CONNTEST_CONFIG, else "
        "config.yaml in the config directory; docs/files.md)",
    )


def apply_user_config(args: argparse.Namespace) -> Path | None:
    """Fill the sign-in options left out from the settings file; the file read, if any.

    The options win over the file, the file over the built-in defaults.  Not with
    ``--lab``: the lab is the identity platform and needs no client id.
    """
    if getattr(args, "lab", None):
        args.tenant = args.tenant or DEFAULT_TENANT
        return None
    from conntest.oauth.defaults import oauth_defaults

    defaults = oauth_defaults(getattr(args, "config", None))
    args.client_id = args.client_id or defaults.client_id
    if args.authority is None and defaults.authority is not None:
        args.authority = defaults.authority
    args.tenant = args.tenant or defaults.tenant
    return defaults.file


def add_check_oauth_arguments(check: argparse.ArgumentParser) -> None:
    check.add_argument(
        "--oauth",
        action="store_true",
        help="sign in with Microsoft (OAuth2) and probe IMAP/SMTP with XOAUTH2",
    )
    add_signin_arguments(check)


def add_oauth_command(sub: Any) -> None:
    """``conntest oauth login|status|logout`` (``sub``: the CLI's subparsers action)."""
    oauth = sub.add_parser("oauth", help="sign in with Microsoft for --oauth checks")
    osub = oauth.add_subparsers(dest="oauth_command", required=True)
    for name, text in (
        ("login", "sign in interactively and save the sign-in (token cache)"),
        ("status", "show the saved sign-ins"),
        ("logout", "delete the saved sign-ins of this app"),
    ):
        p = osub.add_parser(name, help=text)
        p.add_argument("--user", help="the mailbox address (required for login)")
        p.add_argument(
            "--ca-file", type=validated("ca_file"), metavar="PEM", help="trust these CAs"
        )
        if name == "login":  # the identity platform is looked up and reached as by check
            add_lookup_arguments(p)
        add_signin_arguments(p)


def authority_and_tenant(args: argparse.Namespace, lab_authority: str | None) -> tuple[str, str]:
    from urllib.parse import urlsplit

    raw = args.authority or lab_authority or DEFAULT_AUTHORITY
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError(f"--authority: expected an https:// URL, found {raw!r}")
    tenant = parts.path.strip("/").split("/")[0] or args.tenant or DEFAULT_TENANT
    return f"https://{parts.netloc}", tenant


def login_command(args: argparse.Namespace, authority: str, tenant: str) -> str:
    return login_command_for(args.user, args.client_id, tenant, authority)


def build_plan(
    args: argparse.Namespace,
    *,
    ca_file: Path | None,
    cache_file: Path | None = None,
    lab_authority: str | None = None,
    interactive: bool | None = None,
    show: PromptCallback | None = None,
    cancel: threading.Event | None = None,
    lab_saved_sign_in: bool = False,
) -> tuple[OAuthPlan, str]:
    """The plan for the engine, and the command that signs in again.

    ``show`` tells the person what to do (open the browser, the device code):
    the CLI prints on stderr (the default, :func:`~conntest.oauth.prompt.print_prompt`),
    the TUI shows a panel.  The CLI and the TUI both build their plan here, from
    the same option names (``args``).  Setting ``cancel`` stops an interactive
    sign-in's wait (the TUI, when the run ends).

    With the lab (``lab_authority``) the browser sign-in is the lab's own
    in-process user agent, never the system browser (:mod:`conntest.oauth.lab_agent`).
    ``lab_saved_sign_in``: the scenario is about a saved sign-in (the refresh
    token is refused): the lab first signs in, unseen, into the throwaway
    cache, as ``conntest oauth login`` would have; the check then uses that
    sign-in silently, as a monitoring run does, and never prompts.
    """
    from conntest.oauth.result import OAuthPlan

    if show is None:  # imported here: the parser imports this module (issue 12)
        from conntest.oauth.prompt import print_prompt

        show = print_prompt
    config_file = apply_user_config(args)
    if not args.client_id:
        if lab_authority is None:
            from conntest.oauth.defaults import register_line

            raise UsageError(register_line(config_file))
        args.client_id = LAB_CLIENT_ID
    authority, tenant = authority_and_tenant(args, lab_authority)
    if interactive is None:
        interactive = lab_authority is not None or (sys.stdin.isatty() and sys.stderr.isatty())

    async def token_source(address: str) -> SignInResult:
        import asyncio
        import dataclasses

        from conntest.oauth.cache import cache_path
        from conntest.oauth.signin import SignInConfig, sign_in

        config = SignInConfig(
            client_id=args.client_id,
            authority=authority,
            tenant=tenant,
            user=args.user,
            address=address,
            cache_file=cache_file or cache_path(args.client_id, f"{authority}/{tenant}"),
            ca_file=ca_file,
            interactive=bool(interactive),
            device_code=args.device_code,
            show=show,
            cancel=cancel,
            lab_browser=lab_authority is not None,
        )
        if lab_saved_sign_in:
            seed = dataclasses.replace(config, device_code=False, show=lambda _prompt: None)
            await asyncio.to_thread(sign_in, seed)
            config = dataclasses.replace(config, interactive=False)
        return await asyncio.to_thread(sign_in, config)

    plan = OAuthPlan(authority=authority, tenant=tenant, token_source=token_source)
    return plan, login_command(args, authority, tenant)


def cmd_oauth(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``conntest oauth login|status|logout``."""
    from conntest.oauth.cache import cache_path, remove_cache

    config_file = apply_user_config(args)
    if not args.client_id:
        from conntest.oauth.defaults import register_line

        raise UsageError(register_line(config_file, check=False))
    authority, tenant = authority_and_tenant(args, None)
    path = cache_path(args.client_id, f"{authority}/{tenant}")
    if args.oauth_command == "logout":
        removed = remove_cache(path)
        stdout.write(f"{'removed' if removed else 'no saved sign-in at'} {path}\n")
        return 0
    if args.oauth_command == "status":
        from conntest.oauth.signin import SignInConfig, signed_in_accounts

        config = SignInConfig(args.client_id, authority, tenant, args.user or "", "", path)
        accounts = signed_in_accounts(config)
        stdout.write(f"token cache: {path}\n")
        for account in accounts:
            stdout.write(f"  signed in: {account}\n")
        if not accounts:
            stdout.write("  no saved sign-in\n")
        return 0
    if not args.user:
        raise UsageError("oauth login: --user is required")
    import asyncio

    return asyncio.run(_login(args, authority, tenant, path, stdout, stderr))


async def _login(
    args: argparse.Namespace,
    authority: str,
    tenant: str,
    path: Path,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    import asyncio

    from conntest.oauth.signin import SignInConfig, sign_in
    from conntest.probes.clock import RunClock
    from conntest.probes.dns_probe import ResolverConfig
    from conntest.probes.identity_probe import probe_identity

    resolver = ResolverConfig(nameserver=args.nameserver, pinned=tuple(args.resolve))
    steps, address = await probe_identity(RunClock(30.0), authority, tenant, resolver, args.ca_file)
    if address is None:
        failed = next((s for s in steps if s.failed), None)
        why = failed.failure.message if failed and failed.failure else "unreachable"
        print(f"conntest: {authority} cannot be reached: {why}", file=stderr)
        return 2
    config = SignInConfig(
        client_id=args.client_id,
        authority=authority,
        tenant=tenant,
        user=args.user,
        address=address,
        cache_file=path,
        ca_file=args.ca_file,
        interactive=True,
        device_code=args.device_code,
    )
    result = await asyncio.to_thread(sign_in, config)
    if result.token is None:
        print(f"conntest: sign-in failed: {result.message}", file=stderr)
        return 2
    stdout.write(f"signed in as {result.account or args.user} ({result.flow}); saved in {path}\n")
    return 0
