"""The Textual front end: ``conntest`` / ``conntest tui`` and ``conntest demo``.

Thin by design: screens and widgets collect settings and show results; one
worker (:class:`conntest.tui.runner.CheckRunner`) runs the engine and turns its
callbacks into messages.  Only ``conntest.cli`` imports this package, and only
for the ``tui``/``demo`` commands, so the headless path never loads Textual.
"""
