"""The schema layer: every file conntest reads, loaded safely and checked against typed models.

* :mod:`conntest.schema.problem`: :class:`~conntest.schema.problem.Problem`,
  the one problem format (file, line, field path, expected, found);
* :mod:`conntest.schema.safe_yaml`: the one YAML loader (size and depth
  limits, aliases counted as expanded; merge keys, tags and complex keys
  refused), which keeps
  the line of every key;
* :mod:`conntest.schema.models`: the typed models of the batch file, the
  ``serve`` config and the lab's accounts file (profiles are
  :mod:`conntest.profile`), with a docstring per field;
* :mod:`conntest.schema.reader`: the model-driven reader that turns a loaded
  document into a dataclass, noting every problem.

The published JSON Schemas (``conntest schema KIND``) are generated from the
models by :mod:`conntest.json_schemas`, one level up, because they also cover
the profile model (:mod:`conntest.profile`), which builds on this package.

Nothing here touches the network, a UI or the lab.
"""
