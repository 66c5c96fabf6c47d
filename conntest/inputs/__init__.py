"""Everything a person types or a file holds, checked once, for every front end.

The CLI, the batch command, ``serve`` and the TUI all take their inputs
through this package, so that an address, a password, a ``HOST:PORT`` or a
timeout is refused the same way wherever it comes from, *before* anything is
sent:

* :mod:`conntest.inputs.values`: pure validators of single values (address,
  host and port, name server, pin, network, seconds, CA file); each raises
  :class:`~conntest.inputs.values.InvalidValue` saying what was expected and
  what was found;
* :mod:`conntest.inputs.passwords`: where a password comes from and how it is
  read (bounded, with a deadline, only from a regular file, a pipe, standard
  input or a terminal);
* :mod:`conntest.inputs.selection`: which profiles a run tests;
* :mod:`conntest.inputs.argtypes`: argparse ``type=`` converters that import
  what they need only when a value is given (building a parser stays cheap).

The embedded lab of ``--lab`` is started by :mod:`conntest.embedded_lab`, a
sibling of this package rather than part of it, because the lab itself uses
these validators (its accounts file) and a package should not import back
from what imports it.

The submodules are imported by name; this package imports none of them, so
that importing one stays cheap.
"""
