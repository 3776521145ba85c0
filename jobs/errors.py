"""Errors a person can act on: the entry point prints them as one line and exits 2."""


class JobInputError(Exception):
    """The spec or an input is wrong: say what and how to fix it."""
