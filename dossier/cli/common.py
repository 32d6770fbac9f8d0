"""What every command group shares: the schema check before a command reads the database."""

from dossier.settings import get_settings
from storage.db import schema_revision
from storage.errors import DossierError


def require_schema() -> None:
    """Fail with a clear line when the database has not been initialised or is behind."""
    current, head = schema_revision(get_settings().database_url)
    if current != head:
        state = "is not initialised" if current is None else f"is at revision {current}, not {head}"
        raise DossierError(f"the database {state}: run `dossier init`")
