"""The digits image folder for tests: the writer lives in the launcher (the ``quick`` campaign
uses it too); tests import it from here as before."""

from launcher.study.digits import write_digits_folder

__all__ = ["write_digits_folder"]
