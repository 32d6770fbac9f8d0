"""Shared fixtures: a fresh, migrated database per test on SQLite, or on PostgreSQL in CI.

Set ``DOSSIER_TEST_POSTGRES_URL`` (an admin URL such as
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) to run the suite against PostgreSQL.
"""

import importlib
import itertools
import os
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dossier.demo import register_team
from dossier.demo.sample import generate_broken_inputs, generate_sample
from dossier.settings import get_settings
from storage.db import get_engine, upgrade_schema

POSTGRES_ADMIN_URL = os.environ.get("DOSSIER_TEST_POSTGRES_URL")

# The CLI's module-level Rich consoles fix their width to $COLUMNS when one is set as they are built (pytest-xdist
# workers start with COLUMNS=80): build them all now without it, so that the COLUMNS each test passes to its
# command invocation counts.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)
for _module in pkgutil.iter_modules(importlib.import_module("dossier.cli").__path__, "dossier.cli."):
    importlib.import_module(_module.name)
TEMPLATE_DB = f"dossier_test_template_{os.getpid()}"  # one per process: xdist workers build theirs side by side
REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
_db_numbers = itertools.count()


def _admin_execute(*statements: str) -> None:
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def _database_url(name: str) -> str:
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """A migrated PostgreSQL template database that each test's database is copied from."""
    if not POSTGRES_ADMIN_URL:
        yield None
        return
    _admin_execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)", f"CREATE DATABASE {TEMPLATE_DB}")
    url = _database_url(TEMPLATE_DB)
    upgrade_schema(url)
    get_engine(url).dispose()
    yield TEMPLATE_DB
    _admin_execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")


@pytest.fixture
def database_url(tmp_path: Path, postgres_template: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database at the newest schema, configured as ``DOSSIER_DATABASE_URL``."""
    if postgres_template:
        name = f"dossier_test_{os.getpid()}_{next(_db_numbers)}"
        _admin_execute(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
        url = _database_url(name)
    else:
        url = f"sqlite:///{tmp_path / 'dossier.db'}"
        upgrade_schema(url)
    monkeypatch.setenv("DOSSIER_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_engine(url).dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()
    if postgres_template:
        _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Tests never read the developer's .env or environment, and run in a scratch directory."""
    for key in list(os.environ):
        if key.startswith("DOSSIER_") and key != "DOSSIER_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def drop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A drop folder holding the sample and some broken inputs; our team registered; every event recent."""
    folder = tmp_path / "drop"
    register_team(generate_sample(folder / "sample"))
    generate_broken_inputs(folder / "broken")
    monkeypatch.setenv("DOSSIER_DROP_DIRS", str(folder))
    monkeypatch.setenv("DOSSIER_NOTIFY_MAX_AGE_DAYS", "3650")
    monkeypatch.setenv("DOSSIER_REPORTS_DIR", str(tmp_path / "reports"))
    get_settings.cache_clear()
    return folder
