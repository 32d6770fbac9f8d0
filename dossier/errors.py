"""Errors that the CLI reports as one clear line instead of a traceback."""


class DossierError(Exception):
    """A user-facing error: bad arguments, unknown client, unreadable configuration."""
