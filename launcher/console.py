"""The launcher's one rich console: output to stdout, errors to stderr."""

from rich.console import Console

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)
