"""edgecompress's host launcher. ``__version__`` is the package's version, defined here alone:
pyproject.toml reads it (``[tool.setuptools.dynamic]``), ``edgecompress --version`` prints it."""

__version__ = "0.1.0"
