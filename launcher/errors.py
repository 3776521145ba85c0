"""Errors a person can act on. The CLI prints them as one line and exits non-zero."""


class UserError(Exception):
    """What is wrong and how to fix it, in one line."""

    exit_code = 2


class EngineError(UserError):
    """The Docker engine cannot be reached or refuses a request."""

    exit_code = 3
