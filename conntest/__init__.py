"""conntest: a connectivity tester for legacy mail clients on Microsoft 365."""

__version__ = "0.1.0"
