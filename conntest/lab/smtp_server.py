"""A small ESMTP submission server that answers like smtp.office365.com:587.

Why not aiosmtpd: it has its own fixed texts for the very replies the lab must
replay verbatim (``530 Must issue a STARTTLS command first``, ``504 5.5.4``,
``500 Error: command … not recognized``) and its command loop is private, so
replaying Microsoft would mean overriding most of it.  This server is the
subset a client's account set-up uses: EHLO/HELO, STARTTLS, AUTH LOGIN (and
the refusals of PLAIN and of AUTH before STARTTLS), MAIL/RCPT/DATA, RSET,
NOOP, QUIT.

Microsoft's order is kept: the plaintext EHLO offers STARTTLS but no AUTH, the
one after TLS offers ``AUTH LOGIN XOAUTH2`` and no PLAIN.  A TLS 1.0/1.1
session completes its handshake and then gets ``421 4.7.66`` to its next
command, like the real service.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from conntest.lab import sasl, texts
from conntest.lab.channel import Channel, LineTooLong
from conntest.lab.identity_grants import SMTP_SCOPE, GrantBook
from conntest.lab.record import REDACTED, ConnectionLog, Record
from conntest.lab.scenarios import SCENARIOS, Scenario
from conntest.lab.tls import LEGACY_VERSIONS
from conntest.lab.trailers import Backend, Trailers

_KNOWN_VERBS = frozenset(
    {"EHLO", "HELO", "STARTTLS", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT"}
)


@dataclass(frozen=True)
class SmtpConfig:
    """What every session on one SMTP listener shares."""

    listener: str
    scenario: str
    """The listener's scenario: fixed on a scenario's own listener, else the lab's default."""
    scenario_for: Callable[[str], Scenario]
    """The scenario that applies once a user name is known."""
    tls: ssl.SSLContext
    record: Record
    trailers: Trailers
    password: str
    offers_starttls: bool = True
    auth_failure_delay_s: float = 0.0
    grants: GrantBook | None = None
    """Tokens the lab's identity platform issued; ``None``: every XOAUTH2 token is refused."""


class SmtpServer:
    """The connection handler of one SMTP listener."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def __call__(self, channel: Channel) -> None:
        log = self.config.record.open(
            protocol="smtp",
            listener=self.config.listener,
            scenario=self.config.scenario,
            peer=channel.peer,
        )
        try:
            await channel.open()
            session = SmtpSession(self.config, channel, log, self.config.trailers.backend())
            await session.greet()
            await session.run()
        finally:
            log.close()


class SmtpSession:
    """One SMTP conversation."""

    def __init__(
        self, config: SmtpConfig, channel: Channel, log: ConnectionLog, backend: Backend
    ) -> None:
        self.config = config
        self.channel = channel
        self.log = log
        self.backend = backend
        self.tls = False
        self.authenticated = False
        self.last_auth_error: str | None = None
        """The refusal of the last failed AUTH, without trailer: a later 530 quotes it."""
        self.sender = False
        self.recipients = False

    def trailer(self) -> str:
        return self.config.trailers.smtp_trailer(self.backend)

    def reply(self, template: str, **values: str) -> str:
        return template.format(trailer=self.trailer(), **values)

    async def greet(self) -> None:
        await self.channel.send(smtp_greeting(self.config.trailers, self.backend))

    async def run(self) -> None:
        while True:
            try:
                line = await self.channel.read_line()
            except LineTooLong:
                await self.channel.send(texts.SMTP_LINE_TOO_LONG)
                return
            verb, _, arg = line.decode("utf-8", "replace").strip().partition(" ")
            verb, arg = verb.upper(), arg.strip()
            self._record(verb, arg)
            if self.channel.tls_version in LEGACY_VERSIONS:
                await self.channel.send(texts.SMTP_TLS_LEGACY)
                return
            if not await self._dispatch(verb, arg):
                return

    async def _dispatch(self, verb: str, arg: str) -> bool:
        """Answer one command; False when the connection must close."""
        if verb == "AUTH":
            mechanism, _, initial = arg.partition(" ")
            await self._auth(mechanism.upper(), initial.strip() or None)
        elif verb == "EHLO":
            await self._ehlo(arg)
        elif verb == "HELO":
            await self.channel.send(texts.SMTP_HELO.format(hello=self._hello()))
        elif verb == "STARTTLS":
            await self._starttls()
        elif verb == "MAIL":
            await self._mail()
        elif verb == "RCPT":
            self.recipients = self.sender
            await self.channel.send(
                texts.SMTP_RECIPIENT_OK if self.sender else texts.SMTP_BAD_SEQUENCE
            )
        elif verb == "DATA":
            await self._data()
        elif verb == "RSET":
            self.sender = self.recipients = False
            await self.channel.send(texts.SMTP_RESET)
        elif verb == "NOOP":
            await self.channel.send(texts.SMTP_NOOP)
        elif verb == "QUIT":
            await self.channel.send(texts.SMTP_QUIT)
            return False
        else:
            shown = "".join(c for c in verb[:32] if c.isprintable())
            await self.channel.send(self.reply(texts.SMTP_UNRECOGNIZED_COMMAND, command=shown))
        return True

    def _record(self, verb: str, arg: str) -> None:
        """Log the command; AUTH keeps only its mechanism, unknown verbs only the fact."""
        if verb == "AUTH":
            mechanism, _, initial = arg.partition(" ")
            self.log.command(
                verb, f"{mechanism.upper()} {REDACTED}" if initial else mechanism.upper()
            )
        else:
            self.log.command(verb, arg, known=_KNOWN_VERBS)

    def _hello(self) -> str:
        return texts.SMTP_EHLO_HELLO.format(
            frontend=self.backend.name, client_ip=self.channel.peer[0]
        )

    async def _ehlo(self, arg: str) -> None:
        if not arg:
            await self.channel.send(texts.SMTP_SYNTAX)
            return
        self.sender = self.recipients = False
        keywords: tuple[str, ...] = (
            texts.SMTP_EHLO_AFTER_TLS if self.tls else texts.SMTP_EHLO_BEFORE_TLS
        )
        if not self.config.offers_starttls:
            keywords = tuple(k for k in keywords if k != "STARTTLS")
        lines = [self._hello(), *keywords]
        await self.channel.send(*(f"250-{line}" for line in lines[:-1]), f"250 {lines[-1]}")

    async def _starttls(self) -> None:
        if not self.config.offers_starttls:
            await self.channel.send(self.reply(texts.SMTP_UNRECOGNIZED_COMMAND, command="STARTTLS"))
            return
        if self.tls:
            await self.channel.send(texts.SMTP_BAD_SEQUENCE)
            return
        await self.channel.send(texts.SMTP_STARTTLS_READY)
        await self.channel.start_tls(self.config.tls)  # a failed handshake ends the connection
        self.tls = True
        self.sender = self.recipients = False
        self.log.set_tls(self.channel.tls_version)

    async def _auth(self, mechanism: str, initial: str | None) -> None:
        self.log.begin_auth(mechanism, in_clear=not self.tls)
        if initial is not None and mechanism != "LOGIN":  # PLAIN/XOAUTH2 carry the secret
            self.log.update_auth(credential_received=True)
        user = sasl.initial_user(mechanism, initial)
        if user:
            self._note_user(user)
        if self.authenticated:
            await self.channel.send(texts.SMTP_BAD_SEQUENCE)
        elif not mechanism:
            await self.channel.send(texts.SMTP_SYNTAX)
        elif not self.tls or mechanism not in ("LOGIN", "XOAUTH2"):
            await self.channel.send(self.reply(texts.SMTP_UNRECOGNIZED_AUTH))
        elif mechanism == "XOAUTH2":
            if initial is None:
                await self.channel.send(texts.SMTP_XOAUTH2_CHALLENGE)
                initial = (await self.channel.read_line()).decode("ascii", "replace").strip()
                if initial != "*":
                    self.log.update_auth(credential_received=True)
                    user = sasl.initial_user(mechanism, initial)
                    if user:
                        self._note_user(user)
            await self._xoauth2(initial)
        else:
            await self._auth_login(initial)

    async def _xoauth2(self, payload: str) -> None:
        """Accept a token the identity platform issued for this user and SMTP.

        A cancelled exchange (``*``) and an unknown token get ``535 5.7.3``, as
        Office 365 answers both (oauth.md §2); a valid token meets the
        scenario's switch (SMTP AUTH disabled refuses OAuth too).
        """
        bearer = sasl.xoauth2(payload)
        grants = self.config.grants
        grant = grants.accepts(bearer.token, bearer.user, SMTP_SCOPE) if bearer and grants else None
        if bearer is None or grant is None:
            await self._refuse(texts.SMTP_GENERIC_AUTH_FAILED)
            return
        self.log.set_user(bearer.user, grant.scenario)
        refusal = SCENARIOS[grant.scenario].smtp.oauth_refusal
        if refusal is not None:
            await self._refuse(refusal)
            return
        self.authenticated = True
        self.log.update_auth(accepted=True)
        await self.channel.send(texts.SMTP_AUTH_OK)

    async def _auth_login(self, initial: str | None) -> None:
        if initial is None:
            await self.channel.send(texts.SMTP_AUTH_USERNAME)
            initial = (await self.channel.read_line()).decode("ascii", "replace").strip()
            if initial == "*":
                await self.channel.send(texts.SMTP_AUTH_ABORTED)
                return
        user = sasl.b64text(initial)
        if user is None:
            await self.channel.send(texts.SMTP_BAD_BASE64)
            return
        scenario = self._note_user(user)
        await self.channel.send(texts.SMTP_AUTH_PASSWORD)
        answer = (await self.channel.read_line()).decode("ascii", "replace").strip()
        if answer == "*":
            await self.channel.send(texts.SMTP_AUTH_ABORTED)
            return
        self.log.update_auth(credential_received=True)
        password = sasl.b64text(answer)
        if password is None:
            await self.channel.send(texts.SMTP_BAD_BASE64)
            return
        if password == self.config.password:
            verdict = scenario.smtp.right_password
        else:
            verdict = scenario.smtp.wrong_password
        if verdict is None:
            self.authenticated = True
            self.log.update_auth(accepted=True)
            await self.channel.send(texts.SMTP_AUTH_OK)
        else:
            await self._refuse(verdict)

    def _note_user(self, user: str) -> Scenario:
        """Record the user of the current AUTH; its scenario decides the verdict."""
        scenario = self.config.scenario_for(user)
        self.log.update_auth(user=user)
        self.log.set_user(user, scenario.name)
        return scenario

    async def _refuse(self, template: str) -> None:
        self.last_auth_error = texts.without_trailer(template)
        if self.config.auth_failure_delay_s > 0:
            await asyncio.sleep(self.config.auth_failure_delay_s)
        await self.channel.send(self.reply(template))

    async def _mail(self) -> None:
        if not self.tls:
            await self.channel.send(self.reply(texts.SMTP_STARTTLS_REQUIRED))
        elif not self.authenticated and self.last_auth_error is not None:
            await self.channel.send(
                self.reply(texts.SMTP_NOT_AUTHENTICATED_AFTER, error=self.last_auth_error)
            )
        elif not self.authenticated:
            await self.channel.send(self.reply(texts.SMTP_NOT_AUTHENTICATED))
        else:
            self.sender = True
            await self.channel.send(texts.SMTP_SENDER_OK)

    async def _data(self) -> None:
        if not self.recipients:
            await self.channel.send(texts.SMTP_BAD_SEQUENCE)
            return
        await self.channel.send(texts.SMTP_START_DATA)
        while await self.channel.read_line() != b".":
            pass
        self.sender = self.recipients = False
        await self.channel.send(texts.SMTP_QUEUED)


def smtp_greeting(trailers: Trailers, backend: Backend | None = None) -> str:
    """The 220 banner: frontend name, RFC 2822 date and request id vary per connection."""
    return texts.SMTP_GREETING.format(
        frontend=(backend or trailers.backend()).name,
        date=trailers.smtp_date(),
        request_id=trailers.request_id(),
    )
