"""The Microsoft identity platform conntest signs in with unless told otherwise.

Plain constants in a module of their own: the ``--authority`` help quotes
them, and building the parser must not import :mod:`conntest.oauth.result`
(dataclasses, inspect, ast: about 20 ms of every start; issue 12).
"""

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_TENANT = "organizations"
