"""The error every layer raises for a user-facing problem; the CLI reports it as one clear line."""


class DossierError(Exception):
    """A user-facing error: bad arguments, unknown client, unreadable configuration."""
