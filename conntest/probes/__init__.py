"""Async probes: one module per protocol, each returning :class:`~conntest.model.Step` records.

Probes do not raise on network failures: a refused connection, a certificate
that fails verification or a ``535`` are facts recorded on a step for the
diagnosis.  Every network operation runs under a deadline taken from the
run's :class:`~conntest.probes.clock.RunClock`.
"""
