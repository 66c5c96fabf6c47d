"""OAuth2 codes: sign-in with modern authentication (XOAUTH2), token and consent errors.

Empty until the OAuth2 probes land; registered in :mod:`conntest.diagnosis.catalogue`
so that their codes join the catalogue, the docs and the overlap test by being added
here.
"""

from __future__ import annotations

from conntest.diagnosis.vocabulary import CatalogueEntry

ENTRIES: tuple[CatalogueEntry, ...] = ()
