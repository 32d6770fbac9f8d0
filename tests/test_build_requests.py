"""Summaries readers ask for are queued in the database and built by the batch: once each, then cleared."""

from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from dossier import jobs
from dossier.cli import app
from dossier.engines import summarize
from storage import build_requests, repository
from storage.build_requests import Requested, request_build
from storage.changes import Change, ChangeKind, record_change
from storage.db import get_engine, session_scope
from storage.models import BuildRequest, RefreshRequest, RenderedSummary
from tests.db import import_paths

REP_EMAIL = "robin.rep@seller-side.example"
SCOPED = ("all", "legal")


@dataclass(frozen=True, slots=True)
class Clients:
    """Two generated clients with one e-mail each, in the test's database."""

    url: str
    pallets: int
    crates: int

    def ask(self, client_id: int, scopes: tuple[str, ...], language: str) -> None:
        """What the web service does for a summary that is missing."""
        with session_scope(self.url) as session:
            request_build(session, client_id, scopes, language)

    def queued(self) -> set[tuple[int, str, str]]:
        with session_scope(self.url) as session:
            return set(session.execute(select(BuildRequest.client_id, BuildRequest.scope_key, BuildRequest.language)))

    def rendered(self, client_id: int) -> dict[tuple[str, str], bool]:
        """(scope key, language) of the client's rendered summaries -> whether any of them is stale."""
        found: dict[tuple[str, str], bool] = {}
        with session_scope(self.url) as session:
            for key, language, stale in session.execute(
                select(RenderedSummary.scope_key, RenderedSummary.language, RenderedSummary.stale).where(
                    RenderedSummary.client_id == client_id
                )
            ):
                found[(key, language)] = found.get((key, language), False) or stale
        return found

    def build(self) -> jobs.BuildResult:
        return jobs.build_requested(database_url=self.url)


def import_mail(url: str, folder: Path, number: int, text: str, client: str) -> int:
    """Import one generated e-mail from ``client`` to our rep; the client's id."""
    slug = client.lower().replace(" ", "-")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = f"buyer@{slug}.example", REP_EMAIL, f"Order {number}"
    message["Date"], message["Message-ID"] = f"Mon, {number:02d} Nov 2026 10:00:00 +0000", f"<o{number}@{slug}.example>"
    message.set_content(text)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}-{number}.eml"
    path.write_bytes(bytes(message))
    [client_id] = import_paths([path], database_url=url, client=client).changed_clients
    return client_id


@pytest.fixture
def clients(database_url: str, tmp_path: Path) -> Clients:
    """Public summaries in English built for both clients; nothing queued."""
    with session_scope(database_url) as session:
        repository.upsert_user(session, login="rrep", name="Robin Rep", email=REP_EMAIL)
    made = Clients(
        database_url,
        import_mail(database_url, tmp_path, 2, "We would like to order 5 pallets by 30 November.", "Pallet Buyers Ltd"),
        import_mail(database_url, tmp_path, 3, "Please quote 20 crates.", "Crate Makers Ltd"),
    )
    assert not summarize([str(made.pallets), str(made.crates)], languages=["en"], database_url=database_url).failed
    with session_scope(database_url) as session:
        session.execute(RefreshRequest.__table__.delete())
    return made


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, tuple[str, ...], list[str]]]:
    """Every summary build the batch consumer runs: (client id, scopes, languages)."""
    calls: list[tuple[int, tuple[str, ...], list[str]]] = []
    real = jobs.summarize_client

    def counted(session, client, engines, **options):
        calls.append((client.id, options["scopes"], options["languages"]))
        return real(session, client, engines, **options)

    monkeypatch.setattr(jobs, "summarize_client", counted)
    return calls


def test_duplicate_requests_collapse_and_survive_a_restart(clients):
    for _ in range(3):
        clients.ask(clients.pallets, ("legal", "all", "legal"), "pl")
    clients.ask(clients.crates, ("all",), "ru")
    get_engine(clients.url).dispose()  # as after a restart: nothing of the old connections or memory
    get_engine.cache_clear()
    assert clients.queued() == {(clients.pallets, "all+legal", "pl"), (clients.crates, "all", "ru")}
    with session_scope(clients.url) as session:
        assert build_requests.pending_builds(session, [clients.pallets]) == [Requested(clients.pallets, SCOPED, "pl")]


def test_the_batch_builds_each_request_once_and_clears_it(clients, builds):
    for _ in range(3):
        clients.ask(clients.pallets, SCOPED, "pl")
    result = clients.build()
    assert result.failed == {} and result.built == [Requested(clients.pallets, SCOPED, "pl")]
    assert builds == [(clients.pallets, SCOPED, ["pl"])]
    assert clients.queued() == set()
    assert clients.rendered(clients.pallets) == {("all", "en"): False, ("all+legal", "pl"): False}
    assert clients.rendered(clients.crates) == {("all", "en"): False}
    assert clients.build().built == [] and len(builds) == 1


def test_a_scoped_build_leaves_the_public_refresh_queued(clients):
    with session_scope(clients.url) as session:
        record_change(session, [Change(clients.pallets, ChangeKind.INTERACTION)])
    clients.ask(clients.pallets, SCOPED, "en")
    assert clients.build().failed == {}
    with session_scope(clients.url) as session:
        assert session.get(RefreshRequest, clients.pallets) is not None
    assert clients.rendered(clients.pallets) == {("all", "en"): True, ("all+legal", "en"): False}


def test_a_request_a_refresh_built_meanwhile_is_cleared_without_a_build(clients, builds):
    clients.ask(clients.crates, ("all",), "en")
    assert clients.build().built == [Requested(clients.crates, ("all",), "en")]
    assert builds == [] and clients.queued() == set()


def test_a_failed_build_stays_queued_and_the_others_are_built(clients, monkeypatch):
    real = jobs.summarize_client

    def flaky(session, client, engines, **options):
        if client.id == clients.pallets:
            raise RuntimeError("model server down")
        return real(session, client, engines, **options)

    monkeypatch.setattr(jobs, "summarize_client", flaky)
    clients.ask(clients.pallets, SCOPED, "en")
    clients.ask(clients.crates, SCOPED, "en")
    result = clients.build()
    assert result.built == [Requested(clients.crates, SCOPED, "en")]
    assert result.failed == {Requested(clients.pallets, SCOPED, "en"): "model server down"}
    assert clients.queued() == {(clients.pallets, "all+legal", "en")}
    assert ("all+legal", "en") not in clients.rendered(clients.pallets)


def test_the_refresh_jobs_and_summarize_dirty_build_the_requests(clients, builds):
    clients.ask(clients.crates, SCOPED, "ru")
    assert jobs.dirty_clients(database_url=clients.url) == [clients.crates]
    result = jobs.refresh_clients(jobs.dirty_clients(database_url=clients.url), database_url=clients.url)
    assert result.refreshed == [clients.crates] and result.failed == {}
    assert (clients.crates, SCOPED, ["ru"]) in builds and clients.queued() == set()
    clients.ask(clients.pallets, SCOPED, "pl")
    output = CliRunner().invoke(app, ["summarize", "--dirty"])
    assert output.exit_code == 0, output.output
    assert "1 requested summaries built, 0 failed" in output.output
    assert clients.rendered(clients.pallets)[("all+legal", "pl")] is False and clients.queued() == set()
