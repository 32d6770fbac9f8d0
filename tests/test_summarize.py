"""Summaries end to end on the database: formats, incremental refresh, cache and staleness, privacy."""

import json
import os
import time
from datetime import UTC, date, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from dossier.cli import app
from dossier.demo.sample import generate_sample
from dossier.engines import read_summary, summarize
from dossier.settings import get_settings
from storage import repository
from storage.models import Contact, ContactKind, Interaction, RefreshRequest, RenderedSummary, SummaryRun
from summarizer.cache import LocalCache, RedisCache
from summarizer.engines import EngineError
from summarizer.engines.base import Usage
from summarizer.service import FORMATS, ClientResult, SummarizeReport, reachable_contacts
from tests.db import import_paths, session_scope
from tests.fake_engine import FakeEngine, register
from tests.summary_history import add_rep, import_mail

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
    import_paths([path])


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
    add_mail(
        tmp_path,
        "ivan.petrov@alfa-grupp.ru",
        "Quote approved, please send the invoice by 30 November.",
        "Fri, 20 Nov 2026 10:00:00 +0300",
        "<new-1@alfa-grupp.ru>",
    )
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
    add_mail(
        tmp_path,
        "ivan.petrov@alfa-grupp.ru",
        "One more thing.",
        "Fri, 20 Nov 2026 11:00:00 +0300",
        "<new-2@alfa-grupp.ru>",
    )
    assert summarize(dirty=True, debounce=timedelta(hours=1)).results == []
    assert [r.name for r in summarize(dirty=True, debounce=timedelta(0)).results] == ["Alfa Group"]


def test_privacy_redacted_and_privileged_excluded_everywhere(sample):
    summarize(all_clients=True, as_of=AS_OF, languages=["en", "pl"])
    with session_scope() as session:
        outputs = " ".join(
            r.markdown + json.dumps(r.content, ensure_ascii=False) for r in session.scalars(select(RenderedSummary))
        )
    for secret in (
        "4111 1111 1111 1111",
        "4111111111111111",
        "44051401359",
        "PL61 1090 1014",
        "1090 1014 0000 0712 1981 2874",
        "ryzyko sporu niskie",
    ):
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
    reader = RedisCache(REDIS_URL, verify_seconds=0.5)
    view = read_summary("Alfa Group", "brief", "en", cache=reader)
    assert view.source == "cache" and not view.summary.stale
    add_mail(
        tmp_path,
        "ivan.petrov@alfa-grupp.ru",
        "Budget approved.",
        "Fri, 20 Nov 2026 12:00:00 +0300",
        "<new-3@alfa-grupp.ru>",
    )
    time.sleep(0.6)  # nobody tells the cache: the database's stale flag reaches readers within verify_seconds
    stale = read_summary("Alfa Group", "brief", "en", cache=reader)
    assert stale.source == "database" and stale.summary.stale
    again = read_summary("Alfa Group", "brief", "en", cache=reader)
    assert again.source == "cache" and again.summary.stale


def test_redis_down_falls_back_to_the_database(sample, monkeypatch):
    summarize(["Alfa Group"], as_of=AS_OF)
    dead = RedisCache("redis://127.0.0.1:1/0")
    view = read_summary("Alfa Group", "brief", "en", cache=dead)
    assert view is not None and view.source == "database"


def test_local_cache_lru_and_newer_versions():
    from datetime import datetime

    from summarizer.cache import CachedSummary, SummaryKey

    cache = LocalCache(max_entries=2)
    summary = CachedSummary("x", {}, "h", "grounded", datetime.now(UTC))
    keys = [SummaryKey(n, "all", "brief", "en") for n in range(3)]
    for key in keys:
        cache.put(key, summary)
    assert cache.get(keys[0]) is None and cache.get(keys[2]).markdown == "x"
    cache.put(keys[2], CachedSummary("y", {}, "h2", "grounded", datetime.now(UTC)))
    assert cache.get(keys[2]).markdown == "y"  # a newer version replaces the entry


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


class RefusingEngine(FakeEngine):
    """Fails on any chunk that contains :data:`REFUSED`, as a model endpoint rejecting a request would."""

    name = "refusing"

    def map(self, items):
        if any(REFUSED in item.text for item in items):
            raise EngineError("the model endpoint rejected the request (HTTP 400)")
        return super().map(items)


REFUSED = "refuse-this-chunk"


@pytest.fixture
def refusing_engine(monkeypatch):
    register(monkeypatch, RefusingEngine)


def failure_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("failed:")]


def test_cli_summarize_exits_1_and_names_each_failed_client_with_the_reason(database_url, tmp_path, refusing_engine):
    add_rep()
    import_mail(tmp_path, 2, f"Please quote 5 pallets. {REFUSED}", client="Crate Makers")
    import_mail(tmp_path, 3, "Please quote 7 pallets.", client="Box Sellers")
    some = runner.invoke(app, ["summarize", "--all", "--engine", "refusing"])
    assert some.exit_code == 1, some.output
    assert failure_lines(some.output) == ["failed: Crate Makers: the model endpoint rejected the request (HTTP 400)"]
    import_mail(tmp_path, 4, f"And 2 crates. {REFUSED}", client="Box Sellers")
    every = runner.invoke(app, ["summarize", "--all", "--engine", "refusing"])
    assert every.exit_code == 1 and "0 clients summarized" in every.output
    assert sorted(failure_lines(every.output)) == [
        f"failed: {name}: the model endpoint rejected the request (HTTP 400)"
        for name in ("Box Sellers", "Crate Makers")
    ]


def test_demo_exit_status_reports_failed_clients_and_transcriptions():
    from dossier.cli.demo import demo_problems
    from dossier.transcribe_job import TranscribeReport
    from ingest.pipeline import ImportReport
    from summarizer.service import ClientResult, SummarizeReport

    imported = ImportReport(imported=5)
    clean = SummarizeReport(run_id=1, engine="grounded", results=[ClientResult(1, "Crate Makers")])
    assert demo_problems(imported, TranscribeReport(transcribed=2), clean) == []
    failed = SummarizeReport(
        run_id=2,
        engine="grounded",
        results=[
            ClientResult(1, "Crate Makers", error="the model endpoint rejected the request"),
            ClientResult(2, "Box Sellers"),
        ],
    )
    assert demo_problems(imported, TranscribeReport(transcribed=2), failed) == [
        "summarizing Crate Makers failed: the model endpoint rejected the request"
    ]
    problems = demo_problems(ImportReport(), TranscribeReport(quarantined=1), clean)
    assert problems == [
        "the import read no interaction",
        "1 call recordings could not be transcribed (see `dossier quarantine`)",
    ]


def test_a_failed_commit_leaves_no_new_cache_entry(database_url, tmp_path):
    """The cache learns a summary only once the database holds it: a commit that fails caches nothing."""
    from sqlalchemy import event

    from storage.models import PUBLIC_SCOPE, Client
    from summarizer.cache import SummaryKey
    from summarizer.service import summarize_client

    add_rep()
    client_id = import_mail(tmp_path, 2, "Please quote 5 pallets, delivery by 30 November.")
    cache = LocalCache()
    keys = [SummaryKey(client_id, PUBLIC_SCOPE, name, "en") for name in FORMATS]

    def disk_full(session):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), session_scope(database_url) as session:
        event.listen(session, "before_commit", disk_full)
        summarize_client(session, session.get(Client, client_id), [FakeEngine()], languages=["en"], cache=cache)
    assert [cache.get(key) for key in keys] == [None] * len(keys)
    with session_scope(database_url) as session:
        assert session.scalars(select(RenderedSummary).where(RenderedSummary.client_id == client_id)).all() == []

    with session_scope(database_url) as session:
        summarize_client(session, session.get(Client, client_id), [FakeEngine()], languages=["en"], cache=cache)
        assert cache.get(keys[0]) is None  # not before the commit either
    assert all(cache.get(key).markdown for key in keys)


def test_the_run_line_reports_model_tokens_only_for_a_model_and_drops_only_for_recomputed_nodes() -> None:
    reread = ClientResult(1, "a", nodes_total=7, nodes_recomputed=0, prompt_tokens=900)
    deterministic = SummarizeReport(run_id=1, engine="grounded", results=[reread], usage=Usage(prompt_tokens=900))
    assert deterministic.summary() == "1 client summarized with grounded, 0 failed; 0/7 tree nodes recomputed"
    built = ClientResult(2, "b", nodes_total=1, nodes_recomputed=1, ungrounded=2)
    usage = Usage(prompt_tokens=50, completion_tokens=9, calls=1)
    model = SummarizeReport(run_id=2, engine="llamacpp", results=[reread, built], usage=usage)
    assert model.summary() == (
        "2 clients summarized with llamacpp, 0 failed; 1/8 tree nodes recomputed; "
        "50 prompt + 9 completion model tokens in 1 call; 2 ungrounded statements dropped"
    )


def test_a_summary_header_lists_how_to_reach_the_client_without_storage_prefixes() -> None:
    """E-mail addresses and phones as written, a messenger account after its name, no domain, no ``kind:``."""
    contacts = [
        Contact(kind=ContactKind.DOMAIN, value="alpha.example"),
        Contact(kind=ContactKind.EMAIL, value="anna@alpha.example"),
        Contact(kind=ContactKind.PHONE, value="+48600123456"),
        Contact(kind=ContactKind.TELEGRAM, value="anna_alpha"),
    ]
    assert reachable_contacts(contacts) == ["anna@alpha.example", "+48600123456", "Telegram anna_alpha"]
