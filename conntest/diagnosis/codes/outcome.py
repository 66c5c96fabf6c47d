"""Codes for the run as a whole: everything worked, a text nobody knows, or conntest itself failed.

Data only; :mod:`conntest.diagnosis.catalogue` assembles the modules of this package.
"""

from __future__ import annotations

from conntest.diagnosis.vocabulary import CatalogueEntry, Variant, remedies
from conntest.finding import Severity

ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="ok",
        severity=Severity.OK,
        layer="result",
        title="{client} can reach and sign in to Microsoft 365",
        meaning="Every step {client} needs worked: {summary}.",
        evidence=(
            "No step failed and no critical finding: for IMAP the LOGIN (and, if run, the first "
            "mailbox command) succeeded, for SMTP the AUTH succeeded. {summary} lists them. "
            "Variant preauth: the IMAP greeting was '* PREAUTH' and the mailbox opened without "
            "a sign-in."
        ),
        remedy=remedies("Nothing to fix."),
        variants={
            "connectivity": Variant(
                title="The servers answer {client}'s settings (sign-in not tested)",
                detail=(
                    "Every step up to sign-in worked: {summary}. No password was given, so "
                    "conntest did not try to sign in."
                ),
                remedy=remedies(
                    "Nothing to fix in the connection; run the check with a password to test "
                    "the sign-in."
                ),
            ),
            "preauth": Variant(
                title="{client} reaches the mailbox; the IMAP server asked for no password",
                detail=(
                    "Every step worked: {summary}. The IMAP server signed the connection in "
                    "with its greeting ('* PREAUTH'), before any sign-in, so the password (or "
                    "token) was neither asked for nor sent, and this check did not test it. "
                    "The server identifies the client some other way (its network address, "
                    "for one); Microsoft 365 greets with '* OK' and asks for a sign-in."
                ),
                remedy=remedies(
                    "Nothing to fix in the connection. The password is tested only where a "
                    "server asks for it."
                ),
            ),
            "explain": Variant(
                title="This is a normal server reply, not an error",
                detail=(
                    "'{sentence}' is what Microsoft's server says when this step works. If "
                    "something fails, the error is in a later line: paste that one."
                ),
                remedy=remedies("Nothing to fix here."),
            ),
        },
    ),
    CatalogueEntry(
        code="unrecognised",
        severity=Severity.UNKNOWN,
        layer="result",
        title="conntest does not know this answer",
        meaning=(
            "The text '{sentence}' is not in conntest's catalogue, so conntest cannot say what it "
            "means{where}. It is not a confirmation that anything works."
        ),
        evidence=(
            "A reply or pasted text that matches no pattern and no success form. Variant "
            "refused: a greeting that refuses the session (IMAP '* BYE', an SMTP 4xx/5xx) in "
            "words conntest does not know; step-refused: a later step of a check that failed "
            "on such an answer. Either way the client cannot go on (critical); in a pasted text "
            "(`conntest explain`) an unknown text stays unknown. A reply that carries a "
            "standard code no entry claims (IMAP's RFC 5530 codes such as [UNAVAILABLE], "
            "POP3's [SYS/TEMP], an SMTP 4xx) is told with that code's standard meaning "
            "(variant standard-code; in a check, a sentence after the refusal), never as a "
            "refused password."
        ),
        remedy=remedies(
            "Keep the full text: your administrator or Microsoft support can look it up, and "
            "reporting it lets conntest learn it."
        ),
        decisive=False,
        variants={
            "refused": Variant(
                title="{host} refused the session in its greeting",
                detail=(
                    "Instead of a greeting, {host} answered '{sentence}': it takes no "
                    "{protocol_name} session from this device now. conntest does not know these "
                    "words, so it cannot say why; a server that is overloaded, shutting down or "
                    "refusing this address answers this way, and so does another server than "
                    "the intended one."
                ),
                remedy=remedies(
                    "Try again in a few minutes and from another network; check that {settings} "
                    "name {expected_host}. Keep the full text for your administrator."
                ),
                severity=Severity.CRITICAL,
            ),
            "standard-code": Variant(
                title="conntest knows only the standard meaning of this answer",
                detail=(
                    "The server answered '{sentence}'. {standard} conntest does not know this "
                    "answer from Microsoft 365, so it cannot say more about the cause."
                ),
                remedy=remedies(
                    "Act on the standard meaning above; if the answer stays, keep the full text "
                    "for your administrator or Microsoft support, and report it so that "
                    "conntest learns it."
                ),
            ),
            "step-refused": Variant(
                title="{host} refused {phase} in words conntest does not know",
                detail=(
                    "At {phase} ({protocol_name}), {host} answered '{sentence}', and {client} "
                    "cannot go on from there. conntest does not know these words, so it cannot "
                    "say why; the check failed all the same."
                ),
                severity=Severity.CRITICAL,
            ),
        },
    ),
    CatalogueEntry(
        code="internal-error",
        severity=Severity.UNKNOWN,
        layer="result",
        title="conntest could not complete the check",
        meaning="{message}",
        evidence="A step failed as internal (a bug in conntest), or no step was recorded.",
        remedy=remedies(
            "Run the check again; if it repeats, report it with the output of `conntest check "
            "--json`."
        ),
        decisive=False,
    ),
)
