"""Asking for a summary in a language: a missing one is queued alone, an unsupported one is a clear error."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from dossier.cli import app
from dossier.engines import read_summary, summarize
from dossier.settings import get_settings
from storage.errors import DossierError
from storage.models import RefreshRequest, RenderedSummary, SummaryRun
from summarizer.render import available_languages
from tests.db import session_scope
from tests.summary_history import CLIENT, add_rep, import_mail

runner = CliRunner()


@pytest.fixture
def client_id(database_url: str, tmp_path: Path) -> int:
    """A client with a generated e-mail, summarized in English only; the refresh queue is empty."""
    add_rep()
    client_id = import_mail(tmp_path / "mail", 2, "We would like to order 5 pallets, delivery by 30 November.")
    assert not summarize([str(client_id)], languages=["en"]).failed
    assert not queued(client_id)
    return client_id


def queued(client_id: int) -> bool:
    with session_scope() as session:
        return session.get(RefreshRequest, client_id) is not None


def stale_rows(client_id: int) -> int:
    with session_scope() as session:
        return session.scalar(
            select(func.count())
            .select_from(RenderedSummary)
            .where(RenderedSummary.client_id == client_id, RenderedSummary.stale.is_(True))
        )


def configure_languages(monkeypatch: pytest.MonkeyPatch, languages: str) -> None:
    monkeypatch.setenv("DOSSIER_SUMMARY_LANGUAGES", languages)
    get_settings.cache_clear()


def test_a_missing_language_queues_its_build_and_leaves_the_other_languages_fresh(client_id, monkeypatch):
    configure_languages(monkeypatch, "en,ru")
    assert read_summary(str(client_id), "brief", "ru") is None
    assert queued(client_id) and stale_rows(client_id) == 0
    english = read_summary(str(client_id), "brief", "en")
    assert english is not None and not english.summary.stale
    refresh = summarize(dirty=True, debounce=timedelta(0))
    assert [r.client_id for r in refresh.results] == [client_id] and not refresh.failed
    russian = read_summary(str(client_id), "brief", "ru")
    assert russian is not None and not russian.summary.stale and not queued(client_id)


def test_a_language_refreshes_do_not_build_is_not_queued(client_id):
    assert read_summary(str(client_id), "brief", "pl") is None  # only en is configured
    assert not queued(client_id) and stale_rows(client_id) == 0


def test_cli_show_of_a_missing_language_says_what_happens(client_id, monkeypatch):
    configure_languages(monkeypatch, "en,ru")
    shown = runner.invoke(app, ["show", CLIENT, "--lang", "ru"])
    assert shown.exit_code == 1 and isinstance(shown.exception, DossierError)
    assert "no brief summary in ru" in str(shown.exception) and "a build for ru is queued" in str(shown.exception)
    assert queued(client_id) and stale_rows(client_id) == 0
    configure_languages(monkeypatch, "en")
    shown = runner.invoke(app, ["show", CLIENT, "--lang", "pl"])
    message = str(shown.exception)
    assert "nothing is queued" in message and f"dossier summarize '{CLIENT}' --lang pl" in message
    english = runner.invoke(app, ["show", CLIENT, "--json"])
    assert english.exit_code == 0 and '"stale": false' in english.output


def test_an_unsupported_language_is_a_clear_error_and_queues_nothing(client_id):
    assert "de" not in available_languages()
    supported = ", ".join(available_languages())
    with pytest.raises(DossierError, match=f"cannot be written in 'de'; supported languages: {supported}"):
        read_summary(str(client_id), "brief", "de")
    shown = runner.invoke(app, ["show", CLIENT, "--lang", "de"])
    assert shown.exit_code == 1 and f"supported languages: {supported}" in str(shown.exception)
    assert not queued(client_id) and stale_rows(client_id) == 0


def test_cli_summarize_in_an_unsupported_language_fails_before_it_starts(client_id):
    with session_scope() as session:
        runs = session.scalar(select(func.count()).select_from(SummaryRun))
    result = runner.invoke(app, ["summarize", CLIENT, "--lang", "de"])
    assert result.exit_code == 1 and f"supported languages: {', '.join(available_languages())}" in str(result.exception)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(SummaryRun)) == runs
