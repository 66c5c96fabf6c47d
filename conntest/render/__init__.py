"""Renderers: a :class:`~conntest.model.Report` in, text out.  No I/O, no exit codes."""
