"""Summaries end to end on the database: formats, incremental refresh, cache and staleness, privacy."""

import json
import os
from datetime import date, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from dossier.cli import app
from dossier.sample import generate_sample
from dossier.settings import get_settings
from ingest.pipeline import import_paths
from storage import repository
from storage.db import session_scope
from storage.models import Interaction, RefreshRequest, RenderedSummary, SummaryRun
from summarizer.cache import LocalCache, RedisCache
from summarizer.service import FORMATS, invalidate, read_summary, summarize

AS_OF = date(2026, 11, 21)
REDIS_URL = os.environ.get("DOSSIER_TEST_REDIS_URL")
runner = CliRunner()


@pytest.fixture
def sample(database_url, tmp_path):
    sample = generate_sample(tmp_path / "sample")
    with session_scope() as session:
        for user in sample.users:
            repository.upsert_user(session, login=user.login, name=user.name, email=user.email)
    import_paths([tmp_path / "sample"])
    return sample


def client_id(name: str) -> int:
    with session_scope() as session:
        return repository.find_client(session, name).id


def add_mail(tmp_path, sender: str, text: str, when: str, message_id: str) -> None:
    message = EmailMessage()
    message["From"], message["To"] = sender, "elena.sokolova@northwind-sales.example"
    message["Subject"], message["Date"], message["Message-ID"] = "Update", when, message_id
    message.set_content(text)
    path = tmp_path / f"{message_id.strip('<>')}.eml"
    path.write_bytes(bytes(message))
    invalidate(import_paths([path]).changed_clients)


def test_every_client_gets_all_four_formats_with_citations_to_its_own_history(sample):
    report = summarize(all_clients=True, as_of=AS_OF, languages=["en", "ru", "pl"])
    assert not report.failed and len(report.results) == len(sample.clients)
    with session_scope() as session:
        for client in sample.clients:
            cid = repository.find_client(session, client.name).id
            own = set(session.scalars(select(Interaction.id).where(Interaction.client_id == cid)))
            rows = session.scalars(select(RenderedSummary).where(RenderedSummary.client_id == cid)).all()
            assert {(r.format, r.language) for r in rows} == {(f, lang) for f in FORMATS for lang in ("en", "ru", "pl")}
            for row in rows:
                cited = {int(n) for n in __import__("re").findall(r"\[#(\d+)", row.markdown)}
                assert cited <= own, (client.name, row.format)
            brief = next(r for r in rows if r.format == "brief" and r.language == "en")
            assert client.name in brief.markdown


def test_new_message_recomputes_only_its_path_and_serves_stale_until_refreshed(sample, tmp_path):
    first = summarize(all_clients=True, as_of=AS_OF)  # also empties the queue the import filled
    alfa_first = next(r for r in first.results if r.name == "Alfa Group")
    before = read_summary("Alfa Group", "brief", "en")
    assert before is not None and not before.summary.stale
    add_mail(tmp_path, "ivan.petrov@alfa-grupp.ru", "Quote approved, please send the invoice by 30 November.",
             "Fri, 20 Nov 2026 10:00:00 +0300", "<new-1@alfa-grupp.ru>")
    stale = read_summary("Alfa Group", "brief", "en")
    assert stale.summary.stale and stale.summary.markdown == before.summary.markdown
    with session_scope() as session:
        assert session.get(RefreshRequest, client_id("Alfa Group")) is not None
    refresh = summarize(dirty=True, as_of=AS_OF, debounce=timedelta(0))
    assert [r.name for r in refresh.results] == ["Alfa Group"]
    result = refresh.results[0]
    assert 0 < result.nodes_recomputed <= 6 < alfa_first.nodes_recomputed
    assert result.prompt_tokens < 0.5 * alfa_first.prompt_tokens  # 500-interaction clients: see bench/
    fresh = read_summary("Alfa Group", "brief", "en")
    assert not fresh.summary.stale and fresh.summary.root_hash != before.summary.root_hash
    with session_scope() as session:
        assert session.get(RefreshRequest, client_id("Alfa Group")) is None


def test_unchanged_client_recomputes_nothing(sample):
    summarize(["Harbor & Finch"], as_of=AS_OF)
    again = summarize(["Harbor & Finch"], as_of=AS_OF)
    assert again.results[0].nodes_recomputed == 0 and again.results[0].prompt_tokens == 0


def test_debounce_holds_back_a_client_that_is_still_receiving_data(sample, tmp_path):
    summarize(all_clients=True, as_of=AS_OF)
    add_mail(tmp_path, "ivan.petrov@alfa-grupp.ru", "One more thing.", "Fri, 20 Nov 2026 11:00:00 +0300",
             "<new-2@alfa-grupp.ru>")
    assert summarize(dirty=True, debounce=timedelta(hours=1)).results == []
    assert [r.name for r in summarize(dirty=True, debounce=timedelta(0)).results] == ["Alfa Group"]


def test_privacy_redacted_and_privileged_excluded_everywhere(sample):
    summarize(all_clients=True, as_of=AS_OF, languages=["en", "pl"])
    with session_scope() as session:
        outputs = " ".join(r.markdown + json.dumps(r.content, ensure_ascii=False)
                           for r in session.scalars(select(RenderedSummary)))
    for secret in ("4111 1111 1111 1111", "4111111111111111", "44051401359", "PL61 1090 1014",
                   "1090 1014 0000 0712 1981 2874", "ryzyko sporu niskie"):
        assert secret not in outputs


def test_injection_in_a_message_changes_nothing(sample):
    summarize(all_clients=True, as_of=AS_OF)
    brennan = read_summary("Michael Brennan", "structured", "en").summary.markdown
    others = [c.name for c in sample.clients if c.name != "Michael Brennan"]
    assert not any(name in brennan for name in others)


def test_run_records_usage_and_a_failing_client_does_not_fail_the_batch(sample, monkeypatch):
    import summarizer.service as service

    real = service.summarize_client

    def flaky(session, client, *args, **kwargs):
        if client.name == "Harbor & Finch":
            raise TimeoutError("model timed out")
        return real(session, client, *args, **kwargs)

    monkeypatch.setattr(service, "summarize_client", flaky)
    report = summarize(all_clients=True, as_of=AS_OF)
    assert [r.name for r in report.failed] == ["Harbor & Finch"]
    assert len(report.results) - len(report.failed) == len(sample.clients) - 1
    with session_scope() as session:
        run = session.get(SummaryRun, report.run_id)
        assert run.failed == 1 and run.clients == len(sample.clients) and run.prompt_tokens > 0
        assert "model timed out" in run.errors[0]["error"]


def test_missing_summary_is_queued(sample):
    assert read_summary("Nordlicht Medizintechnik", "timeline", "en") is None
    with session_scope() as session:
        assert session.get(RefreshRequest, client_id("Nordlicht Medizintechnik")) is not None


@pytest.mark.skipif(not REDIS_URL, reason="set DOSSIER_TEST_REDIS_URL to test against a real Redis")
def test_redis_cache_serves_and_flags_stale(sample, tmp_path, monkeypatch):
    monkeypatch.setenv("DOSSIER_REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    RedisCache(REDIS_URL)._redis.flushdb()
    summarize(["Alfa Group"], as_of=AS_OF)
    view = read_summary("Alfa Group", "brief", "en")
    assert view.source == "cache" and not view.summary.stale
    add_mail(tmp_path, "ivan.petrov@alfa-grupp.ru", "Budget approved.", "Fri, 20 Nov 2026 12:00:00 +0300",
             "<new-3@alfa-grupp.ru>")
    stale = read_summary("Alfa Group", "brief", "en")
    assert stale.source == "cache" and stale.summary.stale


def test_redis_down_falls_back_to_the_database(sample, monkeypatch):
    summarize(["Alfa Group"], as_of=AS_OF)
    dead = RedisCache("redis://127.0.0.1:1/0")
    view = read_summary("Alfa Group", "brief", "en", cache=dead)
    assert view is not None and view.source == "database"
    dead.mark_stale([1])  # never raises


def test_local_cache_lru_and_stale():
    from datetime import datetime, timezone

    from summarizer.cache import CachedSummary, SummaryKey

    cache = LocalCache(max_entries=2)
    summary = CachedSummary("x", {}, "h", "grounded", datetime.now(timezone.utc))
    keys = [SummaryKey(n, "all", "brief", "en") for n in range(3)]
    for key in keys:
        cache.put(key, summary)
    assert cache.get(keys[0]) is None and cache.get(keys[2]).markdown == "x"
    cache.mark_stale([2])
    assert cache.get(keys[2]).stale
    cache.mark_fresh(2)
    assert not cache.get(keys[2]).stale


def test_cli_summarize_and_show(sample):
    result = runner.invoke(app, ["summarize", "--all"])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    shown = runner.invoke(app, ["show", "Bałtyk Logistyka", "--format", "actions", "--json"])
    data = json.loads(shown.output)
    assert data["format"] == "actions" and data["stale"] is False and data["content"]
    shown = runner.invoke(app, ["show", "Bałtyk Logistyka", "--format", "structured", "--lang", "pl"])
    assert shown.exit_code != 0  # only the configured languages are rendered
    result = runner.invoke(app, ["summarize", "Bałtyk Logistyka", "--lang", "pl"])
    assert result.exit_code == 0
    shown = runner.invoke(app, ["show", "Bałtyk Logistyka", "--format", "structured", "--lang", "pl"])
    assert shown.exit_code == 0 and "Bałtyk Logistyka" in shown.output
