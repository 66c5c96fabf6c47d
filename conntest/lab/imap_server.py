"""A small IMAP4rev1 server that answers like outlook.office365.com:993 (implicit TLS).

With ``ImapConfig.starttls`` it serves the port-143 way instead: a plain-text
greeting, ``STARTTLS``, then the same session over TLS.  Microsoft's texts for
that port are not documented (see :mod:`conntest.lab.texts`), and nothing but
CAPABILITY, STARTTLS, NOOP and LOGOUT is answered before TLS.

It implements what a connectivity check and a mail client's account set-up do:
greeting, CAPABILITY, ID, LOGIN, AUTHENTICATE PLAIN (with and without SASL-IR),
NAMESPACE, LIST/LSUB, STATUS, SELECT/EXAMINE of an empty mailbox, NOOP,
LOGOUT; literals (``{n}`` and ``{n+}``) anywhere.  Which replies a login and
the first mailbox command get depends on the scenario of the user who logs in
(see :class:`conntest.lab.scenarios.ImapBehaviour`).
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from conntest.lab import sasl, texts
from conntest.lab.channel import MAX_LINE, Channel, LineTooLong
from conntest.lab.identity_grants import IMAP_SCOPE, GrantBook
from conntest.lab.record import REDACTED, ConnectionLog, Record
from conntest.lab.scenarios import SCENARIOS, ImapBehaviour, Scenario
from conntest.lab.trailers import Trailers

_LITERAL = re.compile(r"\{(\d+)(\+?)\}$")
_MAILBOX_VERBS = frozenset({"SELECT", "EXAMINE", "NAMESPACE", "LIST", "LSUB", "STATUS"})
_KNOWN_VERBS = _MAILBOX_VERBS | {"CAPABILITY", "NOOP", "ID", "LOGOUT", "CLOSE", "UNSELECT"}
_STATUS_VALUES = {"MESSAGES": 0, "RECENT": 0, "UIDNEXT": 1, "UIDVALIDITY": 14, "UNSEEN": 0}


@dataclass(frozen=True)
class ImapConfig:
    """What every session on one IMAP listener shares."""

    listener: str
    scenario: str
    """The listener's scenario: fixed on a scenario's own listener, else the lab's default."""
    scenario_for: Callable[[str], Scenario]
    """The scenario that applies once a user name is known."""
    tls: ssl.SSLContext
    record: Record
    trailers: Trailers
    password: str
    auth_failure_delay_s: float = 0.0
    grants: GrantBook | None = None
    """Tokens the lab's identity platform issued; ``None``: every XOAUTH2 token is refused."""
    starttls: bool = False
    """Plain-text greeting and ``STARTTLS`` (port 143) instead of TLS from the first byte."""


class ImapServer:
    """The connection handler of one IMAP listener."""

    def __init__(self, config: ImapConfig) -> None:
        self.config = config

    async def __call__(self, channel: Channel) -> None:
        log = self.config.record.open(
            protocol="imap",
            listener=self.config.listener,
            scenario=self.config.scenario,
            peer=channel.peer,
        )
        try:
            await channel.open(None if self.config.starttls else self.config.tls)
            log.set_tls(channel.tls_version)
            await _ImapSession(self.config, channel, log).run()
        finally:
            log.close()


@dataclass(frozen=True)
class _Command:
    tag: str
    verb: str
    args: list[str]
    raw_args: str


class _ImapSession:
    def __init__(self, config: ImapConfig, channel: Channel, log: ConnectionLog) -> None:
        self.config = config
        self.channel = channel
        self.log = log
        self.behaviour: ImapBehaviour | None = None
        """Set by a successful login."""
        self.selected = False

    async def run(self) -> None:
        token = self.config.trailers.imap_token(self.config.trailers.backend())
        await self.channel.send(texts.IMAP_GREETING.format(token=token))
        while True:
            try:
                command = await self._read_command()
            except LineTooLong:
                await self.channel.send(texts.IMAP_LINE_TOO_LONG)
                return
            if command is None:
                await self.channel.send(texts.IMAP_BAD_COMMAND.format(tag="*"))
                continue
            if not await self._dispatch(command):
                return

    async def _read_command(self) -> _Command | None:
        """Read one command, literals included; ``None`` for a line without tag and verb."""
        tokens: list[str] = []
        raw: list[str] = []
        while True:
            text = (await self.channel.read_line()).decode("utf-8", "replace")
            literal = _LITERAL.search(text)
            if literal is None:
                tokens += _tokenize(text)
                raw.append(text)
                break
            tokens += _tokenize(text[: literal.start()])
            raw.append(text[: literal.start()])
            size = int(literal.group(1))
            if size > MAX_LINE:
                raise LineTooLong(f"literal of {size} bytes")
            if not literal.group(2):
                await self.channel.send(texts.IMAP_LITERAL_CONTINUE)
            value = (await self.channel.read_exactly(size)).decode("utf-8", "replace")
            tokens.append(value)
            raw.append(_quote(value))
        if len(tokens) < 2:
            return None
        parts = "".join(raw).split(" ", 2)
        return _Command(
            tag=tokens[0],
            verb=tokens[1].upper(),
            args=tokens[2:],
            raw_args=parts[2] if len(parts) > 2 else "",
        )

    async def _dispatch(self, cmd: _Command) -> bool:
        """Answer one command; False when the connection must close."""
        tag = cmd.tag
        if self.config.starttls and self.channel.tls_version is None:
            return await self._before_tls(cmd)
        if cmd.verb == "LOGIN":
            user = cmd.args[0] if cmd.args else ""
            self.log.command("LOGIN", f"{user} {REDACTED}".strip())
            return await self._login(cmd)
        if cmd.verb == "AUTHENTICATE":
            mechanism = cmd.args[0].upper() if cmd.args else ""
            self.log.command(
                "AUTHENTICATE", f"{mechanism} {REDACTED}" if len(cmd.args) > 1 else mechanism
            )
            return await self._authenticate(cmd)
        self.log.command(cmd.verb, cmd.raw_args, known=_KNOWN_VERBS)
        if cmd.verb == "CAPABILITY":
            capability = (
                texts.IMAP_CAPABILITY_POSTAUTH if self.behaviour else texts.IMAP_CAPABILITY_PREAUTH
            )
            await self.channel.send(capability, texts.IMAP_CAPABILITY_OK.format(tag=tag))
        elif cmd.verb == "NOOP":
            await self.channel.send(texts.IMAP_NOOP_OK.format(tag=tag))
        elif cmd.verb == "ID":
            await self.channel.send(texts.IMAP_ID, texts.IMAP_ID_OK.format(tag=tag))
        elif cmd.verb == "LOGOUT":
            await self.channel.send(
                texts.IMAP_BYE_SIGNING_OFF, texts.IMAP_LOGOUT_OK.format(tag=tag)
            )
            return False
        elif cmd.verb in _MAILBOX_VERBS:
            return await self._mailbox(cmd)
        elif cmd.verb in ("CLOSE", "UNSELECT") and self.selected:
            self.selected = False
            await self.channel.send(texts.IMAP_COMPLETED.format(tag=tag, verb=cmd.verb))
        elif cmd.verb in ("CLOSE", "UNSELECT"):
            await self.channel.send(texts.IMAP_BAD_STATE.format(tag=tag))
        else:
            await self.channel.send(texts.IMAP_BAD_COMMAND.format(tag=tag))
        return True

    async def _before_tls(self, cmd: _Command) -> bool:
        """Port 143 before STARTTLS: no sign-in, no mailbox (nothing secret in clear)."""
        tag = cmd.tag
        self.log.command(
            cmd.verb,
            "" if cmd.verb in ("LOGIN", "AUTHENTICATE") else cmd.raw_args,
            known=_KNOWN_VERBS | {"STARTTLS", "LOGIN", "AUTHENTICATE"},
        )
        if cmd.verb == "STARTTLS":
            await self.channel.send(texts.IMAP_STARTTLS_OK.format(tag=tag))
            await self.channel.start_tls(self.config.tls)  # a failed handshake ends it
            self.log.set_tls(self.channel.tls_version)
        elif cmd.verb == "CAPABILITY":
            await self.channel.send(
                texts.IMAP_STARTTLS_CAPABILITY, texts.IMAP_CAPABILITY_OK.format(tag=tag)
            )
        elif cmd.verb == "NOOP":
            await self.channel.send(texts.IMAP_NOOP_OK.format(tag=tag))
        elif cmd.verb == "LOGOUT":
            await self.channel.send(
                texts.IMAP_BYE_SIGNING_OFF, texts.IMAP_LOGOUT_OK.format(tag=tag)
            )
            return False
        else:
            if cmd.verb in ("LOGIN", "AUTHENTICATE"):
                self.log.begin_auth(cmd.verb if cmd.verb == "LOGIN" else "", in_clear=True)
                self.log.update_auth(credential_received=cmd.verb == "LOGIN")
            await self.channel.send(texts.IMAP_TLS_REQUIRED.format(tag=tag))
        return True

    async def _login(self, cmd: _Command) -> bool:
        self.log.begin_auth("LOGIN", in_clear=False)  # TLS from the first byte, or after STARTTLS
        if self.behaviour is not None:
            await self.channel.send(texts.IMAP_BAD_STATE.format(tag=cmd.tag))
            return True
        if len(cmd.args) != 2:
            await self.channel.send(texts.IMAP_BAD_SYNTAX.format(tag=cmd.tag))
            return True
        user, password = cmd.args
        self.log.update_auth(user=user, credential_received=True)
        return await self._judge(cmd.tag, user, password, ok=texts.IMAP_LOGIN_OK, login=True)

    async def _authenticate(self, cmd: _Command) -> bool:
        tag = cmd.tag
        mechanism = cmd.args[0].upper() if cmd.args else ""
        self.log.begin_auth(mechanism, in_clear=False)
        if self.behaviour is not None:
            await self.channel.send(texts.IMAP_BAD_STATE.format(tag=tag))
            return True
        if mechanism not in ("PLAIN", "XOAUTH2"):
            await self.channel.send(texts.IMAP_UNSUPPORTED_MECHANISM.format(tag=tag))
            return True
        if len(cmd.args) > 1:  # SASL-IR
            payload = cmd.args[1]
        else:
            await self.channel.send(texts.IMAP_SASL_CONTINUE)
            payload = (await self.channel.read_line()).decode("ascii", "replace").strip()
        if payload == "*":
            await self.channel.send(texts.IMAP_AUTHENTICATE_CANCELLED.format(tag=tag))
            return True
        self.log.update_auth(credential_received=True)
        credentials = sasl.plain(payload) if mechanism == "PLAIN" else None
        if credentials is not None:
            self.log.update_auth(user=credentials.user)
            return await self._judge(
                tag,
                credentials.user,
                credentials.password,
                ok=texts.IMAP_AUTHENTICATE_OK,
                login=False,
            )
        if mechanism == "XOAUTH2" and await self._xoauth2(tag, payload):
            return True
        # A malformed PLAIN payload, or an XOAUTH2 token the lab did not issue for IMAP.
        user = sasl.initial_user(mechanism, payload)
        if user:
            self.log.update_auth(user=user)
            self.log.set_user(user, self.config.scenario_for(user).name)
        await self._refuse_delay()
        await self.channel.send(texts.IMAP_AUTHENTICATE_FAILED.format(tag=tag))
        return True

    async def _xoauth2(self, tag: str, payload: str) -> bool:
        """Accept a token the identity platform issued for this user and IMAP; else False."""
        bearer = sasl.xoauth2(payload)
        grants = self.config.grants
        grant = grants.accepts(bearer.token, bearer.user, IMAP_SCOPE) if bearer and grants else None
        if bearer is None or grant is None:
            return False
        self.log.update_auth(user=bearer.user, accepted=True)
        self.log.set_user(bearer.user, grant.scenario)
        self.behaviour = SCENARIOS[grant.scenario].imap
        await self.channel.send(texts.IMAP_AUTHENTICATE_OK.format(tag=tag))
        return True

    async def _judge(self, tag: str, user: str, password: str, *, ok: str, login: bool) -> bool:
        scenario = self.config.scenario_for(user)
        self.log.set_user(user, scenario.name)
        behaviour = scenario.imap
        if behaviour.password_accepted and password == self.config.password:
            self.log.update_auth(accepted=True)
            self.behaviour = behaviour
            await self.channel.send(ok.format(tag=tag))
            return True
        refusal = behaviour.login_refusal if login else behaviour.authenticate_refusal
        await self._refuse_delay()
        if behaviour.bye_after_refusal:
            await self.channel.send(refusal.format(tag=tag), texts.IMAP_BYE_SIGNING_OFF)
            return False
        await self.channel.send(refusal.format(tag=tag))
        return True

    async def _refuse_delay(self) -> None:
        if self.config.auth_failure_delay_s > 0:
            await asyncio.sleep(self.config.auth_failure_delay_s)

    async def _mailbox(self, cmd: _Command) -> bool:
        tag, verb, args = cmd.tag, cmd.verb, cmd.args
        if self.behaviour is None:
            await self.channel.send(texts.IMAP_BAD_STATE.format(tag=tag))
            return True
        if self.behaviour.mailbox_refusal is not None:
            refusal = self.behaviour.mailbox_refusal.format(
                tag=tag, backoff_ms=self.config.trailers.backoff_ms()
            )
            await self.channel.send(refusal, texts.IMAP_BYE_CLOSED_14)
            return False
        completed = texts.IMAP_COMPLETED.format(tag=tag, verb=verb)
        if verb == "NAMESPACE":
            await self.channel.send(texts.IMAP_NAMESPACE, texts.IMAP_NAMESPACE_OK.format(tag=tag))
        elif verb in ("LIST", "LSUB") and len(args) == 2:
            line = texts.IMAP_LIST_ROOT if args[1] == "" else texts.IMAP_LIST_INBOX
            await self.channel.send(line.format(verb=verb), completed)
        elif verb in ("SELECT", "EXAMINE") and len(args) == 1:
            self.selected = True
            done = texts.IMAP_SELECT_OK if verb == "SELECT" else texts.IMAP_EXAMINE_OK
            await self.channel.send(*texts.IMAP_MAILBOX_UNTAGGED, done.format(tag=tag))
        elif verb == "STATUS" and len(args) >= 2:
            names = [a.strip("()").upper() for a in args[1:]]
            items = " ".join(f"{n} {_STATUS_VALUES[n]}" for n in names if n in _STATUS_VALUES)
            status = texts.IMAP_STATUS.format(mailbox=_quote(args[0]), items=items)
            await self.channel.send(status, completed)
        else:
            await self.channel.send(texts.IMAP_BAD_SYNTAX.format(tag=tag))
        return True


def _tokenize(text: str) -> list[str]:
    """Split on spaces; a quoted string is one token (unescaped); parentheses stay in atoms."""
    tokens: list[str] = []
    i, end = 0, len(text)
    while i < end:
        if text[i] == " ":
            i += 1
        elif text[i] == '"':
            i += 1
            chars: list[str] = []
            while i < end and text[i] != '"':
                if text[i] == "\\" and i + 1 < end:
                    i += 1
                chars.append(text[i])
                i += 1
            tokens.append("".join(chars))
            i += 1
        else:
            space = text.find(" ", i)
            space = end if space < 0 else space
            tokens.append(text[i:space])
            i = space
    return tokens


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
