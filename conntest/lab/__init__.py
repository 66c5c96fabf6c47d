"""The lab: local servers on loopback that behave like the Microsoft 365 mail endpoints.

One :class:`Lab` serves every scenario in :data:`SCENARIOS` at once; a check
is pointed at a scenario with ``lab.endpoints(name).check_args()`` and
``--ca-file lab.ca_file``, and tests read what the servers received from
``lab.record``.  The replies are the verbatim texts of
``/work/shared/o365/responses.yaml`` (see :mod:`conntest.lab.texts`).

The core of conntest never imports this package; the lab imports nothing of
conntest.
"""

from conntest.lab.record import AuthAttempt, Command, Connection, DnsQuery, Record
from conntest.lab.runner import LAB_PASSWORD, Lab, LabEndpoints, run_lab
from conntest.lab.scenarios import SCENARIOS, Scenario

__all__ = [
    "LAB_PASSWORD",
    "SCENARIOS",
    "AuthAttempt",
    "Command",
    "Connection",
    "DnsQuery",
    "Lab",
    "LabEndpoints",
    "Record",
    "Scenario",
    "run_lab",
]
