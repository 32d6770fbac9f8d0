"""Alembic environment: runs on the connection handed in by ``storage.db.upgrade_schema``."""

from alembic import context
from sqlalchemy import Connection, create_engine

from storage.errors import DossierError
from storage.models import Base

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise DossierError("no database to migrate: set sqlalchemy.url or run storage.db.upgrade_schema")
    with create_engine(url).begin() as own_connection:
        run_migrations(own_connection)
