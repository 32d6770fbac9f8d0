"""The batch jobs behind the Airflow DAGs, without Airflow: idempotent, small results, failures reported."""

from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dossier import jobs
from dossier.delivery import digest
from dossier.delivery.reports import make_report, parse_quarter, previous_quarter
from dossier.settings import get_settings
from storage import repository
from storage.errors import DossierError
from storage.models import (
    Client,
    Delivery,
    Interaction,
    QuarantineItem,
    RefreshRequest,
    Report,
    User,
)
from tests.db import session_scope

pytestmark = pytest.mark.usefixtures("database_url")


def count(model) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


def client_id(name: str) -> int:
    with session_scope() as session:
        return repository.find_client(session, name).id


@pytest.fixture
def ingested(drop: Path) -> list[int]:
    return jobs.ingest_drop_folders()


def test_batches_and_periods() -> None:
    assert jobs.batches(range(5), 2) == [[0, 1], [2, 3], [4]]
    assert jobs.batches([], 3) == []
    assert parse_quarter(previous_quarter(date(2026, 1, 1))) == ("2025Q4", date(2025, 10, 1), date(2026, 1, 1))
    assert parse_quarter(previous_quarter(date(2026, 10, 1))) == ("2026Q3", date(2026, 7, 1), date(2026, 10, 1))
    assert previous_quarter(date(2026, 5, 17)) == "2026Q1"
    assert digest.Period.containing(date(2026, 11, 23)).key == "2026-W48"  # the digest job's week


def test_ingest_imports_once_and_quarantines_broken_inputs(ingested: list[int]) -> None:
    assert len(ingested) == 5
    interactions, quarantined = count(Interaction), count(QuarantineItem)
    assert interactions > 50 and quarantined >= 5
    assert jobs.ingest_drop_folders() == []
    assert (count(Interaction), count(QuarantineItem)) == (interactions, quarantined)


def test_a_missing_drop_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_DROP_DIRS", str(tmp_path / "nowhere"))
    get_settings.cache_clear()
    with pytest.raises(DossierError, match="drop folder not found"):
        jobs.ingest_drop_folders()


def test_complaints_are_important_and_come_first(ingested: list[int]) -> None:
    with session_scope() as session:
        queue = {r.client_id: r for r in session.scalars(select(RefreshRequest))}
    important = [cid for cid, request in queue.items() if request.important]
    assert {queue[cid].reason for cid in important} <= {"deal closed", "complaint"}
    assert "complaint" in {queue[cid].reason for cid in important}
    assert sorted(jobs.dirty_clients(debounce=timedelta(days=1))) == sorted(important)
    due = jobs.dirty_clients(debounce=timedelta(0))
    assert sorted(due) == sorted(ingested) and set(due[: len(important)]) == set(important)


def test_refresh_reports_a_failing_client_and_keeps_it_queued(
    ingested: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from summarizer import service

    bad = client_id("Harbor & Finch")
    real = service.summarize_client

    def flaky(session, client, *args, **kwargs):
        if client.id == bad:
            raise TimeoutError("model timed out")
        return real(session, client, *args, **kwargs)

    monkeypatch.setattr(service, "summarize_client", flaky)
    result = jobs.refresh_clients([*ingested, 99999])
    assert sorted(result.refreshed) == sorted(set(ingested) - {bad})
    assert list(result.failed) == [bad] and "model timed out" in result.failed[bad]
    assert jobs.dirty_clients(debounce=timedelta(0)) == [bad]
    assert jobs.not_refreshed(ingested, since=repository.utcnow() - timedelta(minutes=5)) == [bad]


def test_notifications_once_per_event_to_the_owner(ingested: list[int]) -> None:
    jobs.refresh_clients(ingested)
    created = jobs.notify_events(ingested)
    assert created and jobs.notify_events(ingested) == []
    with session_scope() as session:
        rows = session.scalars(select(Delivery).where(Delivery.kind == "notification")).all()
        kinds = {row.subject.split(": ")[-1] for row in rows}
        owners = {row.client_id: session.get(Client, row.client_id).owner_id for row in rows}
        assert all(owners[row.client_id] == row.user_id for row in rows)
    assert {"deal won", "complaint"} <= kinds
    assert len(rows) == len(created)


def test_a_notification_is_framed_in_its_readers_language(ingested: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_SUMMARY_LANGUAGES", "en,ru")
    get_settings.cache_clear()
    jobs.refresh_clients(ingested)
    with session_scope() as session:
        for user in session.scalars(select(User)):
            user.language = "ru"
    assert jobs.notify_events(ingested)
    with session_scope() as session:
        rows = session.scalars(select(Delivery).where(Delivery.kind == "notification")).all()
        kinds = {row.subject.split(": ")[-1] for row in rows}
    assert {"сделка выиграна", "жалоба"} <= kinds
    assert all("Обновлённая сводка:" in row.text_body and "Updated brief" not in row.text_body for row in rows)


def test_old_events_are_not_notified(ingested: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    jobs.refresh_clients(ingested)
    monkeypatch.setenv("DOSSIER_NOTIFY_MAX_AGE_DAYS", "0")
    get_settings.cache_clear()
    assert jobs.notify_events(ingested) == []


def test_a_client_not_refreshed_is_not_notified_yet(ingested: list[int]) -> None:
    assert jobs.notify_events(ingested) == []


def test_digests_once_per_recipient_and_week(ingested: list[int]) -> None:
    recipients = jobs.digest_managers()
    with session_scope() as session:
        users = [session.get(User, user_id) for user_id in recipients]
        assert {"manager"} <= {user.role for user in users}
        managers = [user for user in users if user.role == "manager"]
        assert sorted(c.id for m in managers for c in digest.clients_of(session, m)) == sorted(ingested)
    first = [jobs.build_digest(m, date(2026, 11, 23)) for m in recipients]
    assert [jobs.build_digest(m, date(2026, 11, 27)) for m in recipients] == first
    assert count(Delivery) == len(recipients)


def test_quarterly_reviews_for_key_accounts_once(ingested: list[int]) -> None:
    accounts = jobs.key_accounts(limit=3)
    assert len(accounts) == 3 and set(accounts) <= set(ingested)
    jobs.refresh_clients(accounts)
    ids = [jobs.quarterly_review(cid, date(2026, 10, 1)) for cid in accounts]
    assert [jobs.quarterly_review(cid, date(2026, 10, 1)) for cid in accounts] == ids
    with session_scope() as session:
        reports = session.scalars(select(Report)).all()
        assert {r.period for r in reports} == {"2026Q3"} and all(Path(r.html_path).is_file() for r in reports)


def test_handover_refreshes_and_reports_once(ingested: list[int]) -> None:
    report = jobs.handover("Alfa Group", "esokolova", "mkowalski", date(2026, 11, 21))
    assert jobs.handover("Alfa Group", "esokolova", "mkowalski", date(2026, 11, 21)) == report
    assert jobs.not_refreshed([client_id("Alfa Group")], since=repository.utcnow() - timedelta(minutes=5)) == []
    with pytest.raises(DossierError, match="no user"):
        jobs.handover("Alfa Group", "esokolova", "nobody", date(2026, 11, 21))
    with pytest.raises(DossierError, match="no client"):
        jobs.handover("No Such Client", "esokolova", "mkowalski", date(2026, 11, 21))


def test_a_new_complaint_is_important_and_notified_redacted(drop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs.ingest_drop_folders()
    jobs.refresh_clients(jobs.active_clients())
    jobs.notify_events(jobs.active_clients())
    message = EmailMessage()
    message["From"], message["To"] = "Ivan Petrov <ivan.petrov@alfa-grupp.ru>", "elena.sokolova@northwind-sales.example"
    message["Subject"], message["Message-ID"] = "Formal complaint", "<complaint.1@alfa-grupp.ru>"
    message["Date"] = format_datetime(repository.utcnow())
    message.set_content("We file a formal complaint: the refund to card 4111 1111 1111 1111 never arrived.")
    (drop / "complaint.eml").write_bytes(bytes(message))
    alfa = client_id("Alfa Group")
    assert jobs.ingest_drop_folders() == [alfa]
    assert jobs.dirty_clients(debounce=timedelta(days=1)) == [alfa]  # important: no debounce
    jobs.refresh_clients([alfa])
    monkeypatch.setenv("DOSSIER_NOTIFY_MAX_AGE_DAYS", "1")
    get_settings.cache_clear()
    [delivery_id] = jobs.notify_events([alfa])
    with session_scope() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery.subject == "Alfa Group: complaint" and "formal complaint" in delivery.text_body
        assert "4111" not in delivery.text_body


@pytest.fixture
def account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """A client with one note, its account manager and a colleague taking it over; reports go to tmp_path."""
    monkeypatch.setenv("DOSSIER_REPORTS_DIR", str(tmp_path / "reports"))
    get_settings.cache_clear()
    with session_scope() as session:
        repository.upsert_user(session, login="rep-a", name="Rep A", email="rep-a@example.test", language="pl")
        repository.upsert_user(session, login="rep-b", name="Rep B", email="rep-b@example.test", language="ru")
        account_id = repository.get_or_create_client(session, "Generated Client 7")
        repository.set_client_owner(session, account_id, "rep-a")
        repository.insert_interactions(
            session,
            [
                {
                    "client_id": account_id,
                    "channel": "note",
                    "direction": "internal",
                    "occurred_at": repository.utcnow(),
                    "body": "Generated note: the client asked for a price list.",
                    "source_kind": "notes",
                    "source_ref": "generated#1",
                    "content_hash": "generated-note-1",
                }
            ],
        )
    return account_id


def test_the_same_report_asked_twice_from_the_cli_or_a_job_is_one_report_row(account: int, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint", reason="the CLI writes PDFs (the reports extra)")
    day, ref = date(2026, 11, 21), str(account)
    quarterly = make_report("quarterly", ref, as_of=day)
    assert make_report("quarterly", ref, as_of=day).report_id == quarterly.report_id  # the CLI again
    assert jobs.quarterly_review(account, day) == quarterly.report_id  # the DAG, the same quarter and reader

    handover = jobs.handover(ref, "rep-a", "rep-b", day)  # the DAG: HTML only
    assert jobs.handover(ref, "rep-a", "rep-b", day) == handover
    written = make_report("handover", ref, to="rep-b", as_of=day, out=tmp_path / "mine.pdf")  # the CLI wants a PDF
    assert written.report_id == handover and written.pdf_path.read_bytes().startswith(b"%PDF")
    assert count(Report) == 2
    with session_scope() as session:
        row = session.get(Report, handover)
        assert (row.period, row.params["to"], row.params["language"]) == ("2026-11-21", "rep-b", "ru")
        assert Path(row.pdf_path) == (tmp_path / "mine.pdf").resolve()

    assert make_report("handover", ref, to="rep-a", as_of=day).report_id != handover  # another reader: another one
    assert count(Report) == 3


def test_a_recorded_report_is_written_again_once_the_client_history_changed(account: int) -> None:
    day, ref = date(2026, 11, 21), str(account)
    first = make_report("quarterly", ref, as_of=day, pdf=False)
    assert not make_report("quarterly", ref, as_of=day, pdf=False).new  # nothing changed: the same files
    with session_scope() as session:
        note = {
            "client_id": account,
            "channel": "note",
            "direction": "internal",
            "occurred_at": repository.utcnow(),
            "body": "Generated note: the client signed the renewal.",
            "source_kind": "notes",
            "source_ref": "generated#2",
            "content_hash": "generated-note-2",
        }
        repository.insert_interactions(session, [note])
    again = make_report("quarterly", ref, as_of=day, pdf=False)
    assert again.new and again.report_id == first.report_id  # written anew, still one report row
    assert count(Report) == 1
