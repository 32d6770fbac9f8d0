"""What every command group shares: the schema check before a command reads the database, source set-up notes."""

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dossier.settings import get_settings
from storage.db import schema_revision
from storage.errors import DossierError

#: Where a source's password is read at each sync (never stored): an environment variable, or a file.
PasswordEnvOption = Annotated[
    str | None, typer.Option(help="The environment variable holding the password (read at each sync).")
]
PasswordFileOption = Annotated[Path | None, typer.Option(help="Or a file holding the password (read at each sync).")]


def require_schema() -> None:
    """Fail with a clear line when the database has not been initialised or is behind."""
    current, head = schema_revision(get_settings().database_url)
    if current != head:
        state = "is not initialised" if current is None else f"is at revision {current}, not {head}"
        raise DossierError(f"the database {state}: run `dossier init`")


def note_unset_password(console: Console, password_env: str | None) -> None:
    """Say so when the variable a new source reads its password from is not set in this environment."""
    if password_env and password_env not in os.environ:
        console.print(f"[yellow]note:[/] {password_env} is not set here; set it where `dossier sources sync` runs")
