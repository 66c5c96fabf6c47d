"""Moved to :mod:`conntest.results.thresholds` (below the renderers); kept for old imports."""

from conntest.results.thresholds import NO_THRESHOLDS, Range, Thresholds

__all__ = ["NO_THRESHOLDS", "Range", "Thresholds"]
