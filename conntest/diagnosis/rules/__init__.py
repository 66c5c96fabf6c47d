"""Small rule functions: observed steps in, candidate findings out.

Each rule looks at one kind of fact — a failed step (:mod:`.failed`), the DNS
answers, the TLS certificate, the advertised capabilities and the settings
(:mod:`.context`), the two sign-in results together and the password's shape
(:mod:`.signin`) — and proposes :class:`~.candidate.Candidate` findings naming a catalogue
code, a variant, the values for its templates and the evidence.  They are pure
functions of the steps, the profile and the context; the wording lives in
:mod:`conntest.diagnosis.catalogue`, the ordering in
:mod:`conntest.diagnosis.ranking`, the rendering in :mod:`conntest.diagnosis.templates`.

Import the rule modules themselves: this package re-exports nothing, so that
``explain`` (which needs :mod:`.text` and :mod:`.candidate` only) does not load
the rules that read a whole run (issue 12: cold start).
"""
