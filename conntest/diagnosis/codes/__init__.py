"""The diagnosis codes, one module per thing they speak of; each exports ``ENTRIES``.

:mod:`conntest.diagnosis.catalogue` assembles them into one catalogue.
"""
