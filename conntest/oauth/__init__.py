"""Modern authentication: signing in with Microsoft (MSAL) for the XOAUTH2 probes.

Only :mod:`conntest.oauth.signin` imports MSAL, and only the ``--oauth`` path and
``conntest oauth`` import that module: a headless password check never loads
it (``sys.modules`` is checked by tests/integration/test_oauth_lab.py
``test_a_password_check_never_imports_msal``, test_oauth_headless.py
``test_a_password_batch_never_imports_msal``, and the lists of
tests/unit/test_import_hygiene.py and test_imports_per_command.py).  The rest
of the package is MSAL-free: :mod:`.result` (what a sign-in produced, for the
engine), :mod:`.transport` (the HTTPS client MSAL is given), :mod:`.cache`
(where the token cache lives), :mod:`.redirect` (the loopback listener of the
browser sign-in), :mod:`.lab_agent` (the lab's stand-in for the browser),
:mod:`.defaults` (the sign-in defaults of ``config.yaml``) and :mod:`.headless`
(the never-prompting sign-in of batch and ``serve`` accounts).
"""
