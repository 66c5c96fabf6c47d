"""Moved to :mod:`conntest.results.measures` (below the renderers); kept for old imports."""

from conntest.results.measures import (
    PHASES,
    CertificateExpiry,
    StepTiming,
    certificate_expiry,
    phases,
    step_timings,
)

__all__ = [
    "PHASES",
    "CertificateExpiry",
    "StepTiming",
    "certificate_expiry",
    "phases",
    "step_timings",
]
