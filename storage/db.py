"""Engines, sessions and schema upgrades (Alembic) for SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session as Session  # re-exported: the type every caller of session_scope holds
from sqlalchemy.orm import sessionmaker

MIGRATIONS = "storage:migrations"  # the package resource, as Alembic reads it (importlib.resources)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """The shared engine for ``url``."""
    return make_engine(url)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session on ``url`` that commits on success and rolls back on error."""
    session = sessionmaker(get_engine(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_schema(url: str) -> str:
    """Create or upgrade the schema of ``url`` to the newest migration; return the revision reached."""
    engine = get_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return ScriptDirectory.from_config(config).get_current_head() or ""


def _missing_sqlite_file(url: str) -> bool:
    """Whether ``url`` names an SQLite file that does not exist (connecting would create it empty)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return False
    return not Path(database).exists()


def schema_revision(url: str) -> tuple[str | None, str]:
    """(the schema revision of the database at ``url`` or None, the newest revision this code knows)."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""
    if _missing_sqlite_file(url):  # reading never creates the file: `dossier init` does
        return None, head
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision(), head
