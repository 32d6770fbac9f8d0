"""The pre-call brief service: JSON lookups and the client card, authenticated, scoped and audited."""

from dossier.web.app import create_app

__all__ = ["create_app"]
