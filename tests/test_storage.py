"""The schema: migrations build exactly the models, on SQLite and PostgreSQL, and are re-runnable."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from storage import repository
from storage.db import get_engine, schema_revision, session_scope, upgrade_schema
from storage.models import PUBLIC_SCOPE, Base, Scope


def test_migrations_match_models(database_url):
    with get_engine(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_reports_head(database_url):
    before = schema_revision(database_url)
    assert before[0] == before[1]
    assert upgrade_schema(database_url) == before[1]
    tables = set(inspect(get_engine(database_url)).get_table_names())
    assert {
        "clients",
        "contacts",
        "interactions",
        "quarantine",
        "summary_nodes",
        "audit_events",
        "feedback",
        "recordings",
        "transcript_segments",
        "users",
        "teams",
        "scope_grants",
    } <= tables


def test_public_scope_is_seeded(database_url):
    with session_scope(database_url) as session:
        assert session.scalar(select(Scope.name).where(Scope.name == PUBLIC_SCOPE)) == PUBLIC_SCOPE


def test_client_names_are_case_and_space_insensitive(database_url):
    with session_scope(database_url) as session:
        first = repository.get_or_create_client(session, "Alpha  Group")
        assert repository.get_or_create_client(session, "alpha group") == first
        assert repository.find_client(session, "ALPHA GROUP").id == first
        assert repository.find_client(session, str(first)).name == "Alpha Group"


def test_quarantine_is_stored_once(database_url):
    with session_scope(database_url) as session:
        for _ in range(2):
            repository.add_quarantine(
                session,
                source_path="x.eml",
                source_kind="email",
                item_ref=None,
                reason="empty file",
                raw=b"",
                import_run_id=None,
            )
        assert len(repository.quarantine_items(session)) == 1


def test_reading_the_revision_of_a_missing_sqlite_file_does_not_create_it(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from dossier.cli import app
    from dossier.settings import get_settings

    path = tmp_path / "nothing-here.db"
    assert schema_revision(f"sqlite:///{path}")[0] is None
    monkeypatch.setenv("DOSSIER_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["clients"])
    assert "not initialised" in str(result.exception)
    assert not path.exists() and list(tmp_path.iterdir()) == []
