"""Modern authentication: signing in with Microsoft (MSAL) for the XOAUTH2 probes.

Only :mod:`conntest.oauth.signin` imports MSAL, and only the ``--oauth`` path and
``conntest oauth`` import that module: a headless password check never loads
it (tests/unit/test_import_hygiene_oauth.py checks ``sys.modules``).  The rest
of the package is MSAL-free: :mod:`.result` (what a sign-in produced, for the
engine), :mod:`.transport` (the HTTPS client MSAL is given), :mod:`.cache`
(where the token cache lives), :mod:`.redirect` (the loopback listener of the
browser sign-in), :mod:`.defaults` (the sign-in defaults of ``config.yaml``) and
:mod:`.headless` (the never-prompting sign-in of batch and ``serve`` accounts).
"""
