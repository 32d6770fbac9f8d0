"""The storage queries the batch jobs use (``dossier.jobs`` holds no SQL), each on a real, generated database."""

import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage import repository, summaries
from storage.db import session_scope
from storage.deliveries import DeliveryKey, Message, find_delivery, queue_once
from storage.models import Client, Delivery, Recording, Report, utcnow
from storage.recordings import DONE, QUARANTINED, clients_of_done
from storage.reports import ReportKey, find_report, key_accounts, save_report

NOW = utcnow()


def new_clients(url: str, *names: str) -> list[int]:
    with session_scope(url) as session:
        return [repository.get_or_create_client(session, name) for name in names]


def interaction(client_id: int, number: int, *, days_ago: float = 0, **values: Any) -> dict[str, Any]:
    """A generated note row as ``repository.insert_interactions`` takes it."""
    return {
        "client_id": client_id,
        "channel": "note",
        "direction": "internal",
        "body": f"generated note {number}",
        "occurred_at": NOW - timedelta(days=days_ago),
        "source_kind": "notes",
        "source_ref": f"gen#{number}",
        "content_hash": f"generated-{number}",
        **values,
    }


def add_interactions(url: str, rows: list[dict[str, Any]]) -> None:
    with session_scope(url) as session:
        repository.insert_interactions(session, rows)


def render(
    url: str,
    client_id: int,
    language: str,
    markdown: str,
    *,
    format: str = "brief",
    key: str = "all",
    stale: bool = False,
    age: timedelta = timedelta(0),
) -> None:
    with session_scope(url) as session:
        row = summaries.save_rendered(
            session,
            client_id=client_id,
            key=key,
            format=format,
            language=language,
            root_hash="h",
            engine="generated",
            markdown=markdown,
            content={},
        )
        row.stale, row.generated_at = stale, utcnow() - age


def test_a_brief_is_found_in_the_readers_language_else_in_another(database_url: str) -> None:
    both, other_only, none = new_clients(database_url, "Gen One", "Gen Two", "Gen Three")
    render(database_url, both, "en", "english brief")
    render(database_url, both, "pl", "polski brief")
    render(database_url, both, "pl", "polski handover", format="handover")
    render(database_url, other_only, "ru", "русский brief")
    with session_scope(database_url) as session:
        assert summaries.rendered_markdown(session, both, "brief", "pl") == "polski brief"
        assert summaries.rendered_markdown(session, both, "brief", "en") == "english brief"
        assert summaries.rendered_markdown(session, both, "brief", "de") == "english brief"  # the first one rendered
        assert summaries.rendered_markdown(session, other_only, "brief", "en") == "русский brief"
        assert summaries.rendered_markdown(session, none, "brief", "en") is None


def test_fresh_clients_and_clients_refreshed_since(database_url: str) -> None:
    fresh, partly_stale, old, never = new_clients(database_url, "Gen A", "Gen B", "Gen C", "Gen D")
    render(database_url, fresh, "en", "a")
    render(database_url, fresh, "en", "a", format="handover")
    render(database_url, partly_stale, "en", "b")
    render(database_url, partly_stale, "en", "b", format="handover", stale=True)
    render(database_url, old, "en", "c", age=timedelta(hours=2))
    ids = [fresh, partly_stale, old, never]
    with session_scope(database_url) as session:
        assert summaries.fresh_clients(session, ids) == sorted([fresh, old])
        assert summaries.refreshed_since(session, ids, since=NOW - timedelta(minutes=5)) == {fresh, partly_stale}
        assert summaries.refreshed_since(session, ids, since=NOW - timedelta(days=1)) == {fresh, partly_stale, old}
        assert summaries.fresh_clients(session, []) == []


def test_the_clients_of_transcribed_recordings(database_url: str) -> None:
    first, second, third = new_clients(database_url, "Gen Calls 1", "Gen Calls 2", "Gen Calls 3")
    with session_scope(database_url) as session:
        for number, client_id in enumerate((first, first, second, third)):
            repository.add_recording(
                session,
                client_id=client_id,
                path=f"/gen/{number}.wav",
                content_hash=f"audio-{number}",
                started_at=None,
                agent=None,
                direction="inbound",
                language=None,
                meta={},
            )
        recordings = session.scalars(select(Recording).order_by(Recording.id)).all()
        for recording, status in zip(recordings, (DONE, DONE, QUARANTINED, DONE), strict=True):
            recording.status = status
        ids = [recording.id for recording in recordings]
    with session_scope(database_url) as session:
        assert clients_of_done(session, ids) == sorted([first, third])
        assert clients_of_done(session, ids[1:3]) == [first]
        assert clients_of_done(session, [ids[-1] + 100]) == []


def test_existing_clients_and_users_by_role(database_url: str) -> None:
    kept, merged = new_clients(database_url, "Gen Keep", "Gen Drop")
    with session_scope(database_url) as session:
        repository.merge_clients(session, keep=kept, drop=merged)
        second = repository.upsert_user(session, login="gen-m2", name="M2", role="manager")
        repository.upsert_user(session, login="gen-rep", name="Rep")
        first = repository.upsert_user(session, login="gen-m1", name="M1", role="rep")
        repository.upsert_user(session, login="gen-m1", name="M1", role="manager")  # promoted
    with session_scope(database_url) as session:
        assert repository.existing_client_ids(session, [kept, merged, 10**6]) == {kept}
        assert [user.id for user in repository.users_with_role(session, "manager")] == sorted([first, second])
        assert repository.users_with_role(session, "operator") == []


def test_public_interactions_since_leave_out_older_private_and_privileged_ones(database_url: str) -> None:
    mine, other = new_clients(database_url, "Gen Events", "Gen Other")
    with session_scope(database_url) as session:
        repository.ensure_scope(session, "gen-private")
    add_interactions(
        database_url,
        [
            interaction(mine, 1, days_ago=1),
            interaction(mine, 2, days_ago=3),
            interaction(mine, 3, days_ago=10),
            interaction(mine, 4, days_ago=2, scope="gen-private"),
            interaction(mine, 5, days_ago=2, privileged=True),
            interaction(other, 6, days_ago=1),
        ],
    )
    with session_scope(database_url) as session:
        found = repository.public_interactions_since(session, [mine], since=NOW - timedelta(days=5))
        assert [row.body for row in found] == ["generated note 2", "generated note 1"]  # oldest first
        both = repository.public_interactions_since(session, [mine, other], since=NOW - timedelta(days=5))
        assert {row.client_id for row in both} == {mine, other}


def test_key_accounts_rank_won_deal_value_then_history(database_url: str) -> None:
    big, small, busy, quiet, inactive, silent = new_clients(
        database_url, "Gen Big", "Gen Small", "Gen Busy", "Gen Quiet", "Gen Inactive", "Gen Silent"
    )
    with session_scope(database_url) as session:
        for number, (client_id, stage, amount) in enumerate(
            [
                (big, "Closed-Won", 500.0),
                (big, "closed_won", 200.0),
                (small, "won", 300.0),
                (busy, "negotiation", 9000.0),
                (inactive, "won", 10000.0),
                (silent, "won", 10000.0),
            ]
        ):
            repository.upsert_deal(
                session, client_id, f"D-{number}", name=None, stage=stage, amount=amount, currency="EUR", at=NOW
            )
        session.get_one(Client, inactive).is_active = False
    add_interactions(
        database_url,
        [interaction(client_id, number) for number, client_id in enumerate([big, small, busy, busy, quiet, inactive])],
    )
    with session_scope(database_url) as session:
        assert key_accounts(session, limit=10) == [big, small, busy, quiet]  # no history: silent is left out
        assert key_accounts(session, limit=2) == [big, small]


def test_a_message_is_queued_once_per_key(database_url: str) -> None:
    with session_scope(database_url) as session:
        user = repository.upsert_user(session, login="gen-reader", name="Reader", email="reader@example.test")
    key = DeliveryKey("notification", user, "event:1")
    composed: list[int] = []

    def compose() -> Message:
        composed.append(1)
        return Message(recipient="reader@example.test", subject="s", text_body="t")

    with session_scope(database_url) as session:
        first, new = queue_once(session, key, compose)
        assert new and first.status == "pending" and first.id is not None
    with session_scope(database_url) as session:
        again, new = queue_once(session, key, compose)
        assert (again.id, new, len(composed)) == (first.id, False, 1)  # not composed again
        other, new = queue_once(session, key._replace(period_key="event:2"), compose)
        assert new and other.id != first.id


def test_a_message_queued_meanwhile_by_another_run_is_returned_not_duplicated(database_url: str) -> None:
    with session_scope(database_url) as session:
        user = repository.upsert_user(session, login="gen-reader", name="Reader", email="reader@example.test")
    key = DeliveryKey("digest", user, "2026-W48")

    def store_in_another_run() -> None:
        with session_scope(database_url) as session:
            queue_once(session, key, lambda: Message("reader@example.test", "theirs", "their text"))

    def compose() -> Message:  # runs after this run found nothing stored: the other run stores it first
        other = threading.Thread(target=store_in_another_run)
        other.start()
        other.join()
        return Message("reader@example.test", "mine", "my text")

    with session_scope(database_url) as session:
        delivery, new = queue_once(session, key, compose)
        assert (new, delivery.subject) == (False, "theirs")
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
        assert find_delivery(session, key).text_body == "their text"


def test_a_report_is_recorded_once_per_key(database_url: str, tmp_path: Path) -> None:
    [client_id] = new_clients(database_url, "Gen Reported")
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    key = ReportKey(client_id, "handover", "2026-11-21", "gen-reader", "pl")
    with session_scope(database_url) as session:
        assert find_report(session, key) is None
        first = save_report(session, key, as_of=date(2026, 11, 21), html_path=html, pdf_path=None).id
    with session_scope(database_url) as session:
        again = save_report(session, key, as_of=date(2026, 11, 22), html_path=html, pdf_path=pdf)
        assert again.id == first and Path(again.pdf_path) == pdf.resolve()
        assert {k: again.params[k] for k in ("to", "language", "as_of")} == {
            "to": "gen-reader",
            "language": "pl",
            "as_of": "2026-11-22",
        }
        others = [
            save_report(session, changed, as_of=date(2026, 11, 21), html_path=html, pdf_path=None).id
            for changed in (
                key._replace(reader=None),
                key._replace(language="en"),
                key._replace(period="2026-11-22"),
                key._replace(kind="quarterly"),
            )
        ]
        assert len({first, *others}) == 5
        assert find_report(session, key).id == first
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 5


@pytest.mark.parametrize("ids", [[], [10**6]])
def test_queries_of_no_or_unknown_clients_find_nothing(database_url: str, ids: list[int]) -> None:
    with session_scope(database_url) as session:
        assert summaries.refreshed_since(session, ids, since=NOW) == set()
        assert repository.public_interactions_since(session, ids, since=NOW - timedelta(days=1)) == []
        assert repository.existing_client_ids(session, ids) == set()
