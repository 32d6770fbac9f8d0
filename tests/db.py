"""The test's database for code that names none: the one the ``database_url`` fixture sets up (conftest)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ingest import pipeline
from storage import db


def fixture_database_url() -> str:
    """The URL the ``database_url`` fixture put in ``DOSSIER_DATABASE_URL``."""
    return os.environ["DOSSIER_DATABASE_URL"]


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """``storage.db.session_scope`` on ``url``, by default the test's database."""
    with db.session_scope(url or fixture_database_url()) as session:
        yield session


def import_paths(paths: list[Path], *, database_url: str | None = None, **keywords: Any) -> pipeline.ImportReport:
    """``ingest.pipeline.import_paths`` into ``database_url``, by default the test's database."""
    return pipeline.import_paths(paths, database_url=database_url or fixture_database_url(), **keywords)
