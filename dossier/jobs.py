"""Batch jobs that the Airflow DAGs call, one function per task; each is idempotent and returns ids or counts.

Nothing here imports Airflow: every job runs (and is tested) on its own, against ``database_url`` or the
configured database.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from dossier.delivery import digest, mailer, reports
from dossier.settings import get_settings
from ingest.pipeline import import_paths
from storage import summaries
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import (
    PUBLIC_SCOPE,
    Channel,
    Client,
    Deal,
    Delivery,
    Interaction,
    Recording,
    RenderedSummary,
    Report,
    User,
    utcnow,
)
from storage.recordings import DONE, pending_recordings
from storage.repository import find_client
from storage.vocabulary import (
    CLIENT_SIDE,
    WON_STAGE_SPELLINGS,
    closes_deal,
    complains,
    loses_deal,
)
from summarizer.redact import redact
from summarizer.service import summarize

MANAGER = "manager"

@dataclass(slots=True)
class BatchResult:
    """What refreshing one batch of clients did."""

    refreshed: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """An important event of a client: a closed deal or a complaint/escalation."""

    interaction_id: int
    client_id: int
    kind: str  # "deal won", "deal lost", "complaint"
    occurred_at: datetime
    text: str


# ------------------------------------------------------------------------------------------- helpers


def batches(ids: Iterable[int], size: int) -> list[list[int]]:
    """``ids`` cut into lists of at most ``size``, order kept."""
    ids = list(ids)
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def _summary(session: Session, client_id: int, format_name: str, language: str) -> str | None:
    """The client's stored summary in ``format_name``: in ``language`` if rendered in it, else in another."""
    return session.scalar(select(RenderedSummary.markdown).where(
        RenderedSummary.client_id == client_id, RenderedSummary.format == format_name)
        .order_by((RenderedSummary.language == language).desc(), RenderedSummary.id).limit(1))


def _brief(session: Session, client_id: int, language: str) -> str:
    """The client's brief for a reader of ``language``, or a placeholder."""
    return _summary(session, client_id, "brief", language) or "(no summary yet)"


# -------------------------------------------------------------------------------------------- ingest


def ingest_drop_folders(database_url: str | None = None) -> list[int]:
    """Import everything in the configured drop folders; return the ids of clients that got new data.

    Re-importing known content adds nothing (content hashes); the import queues the changed clients for a
    refresh, as important after a complaint, an escalation or a closed deal (see ``storage.changes``).
    """
    folders = [Path(folder) for folder in get_settings().drop_dirs]
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        raise DossierError(f"drop folder not found: {', '.join(missing)} (DOSSIER_DROP_DIRS)")
    if not folders:
        return []
    return sorted(import_paths(folders, database_url=database_url).changed_clients)


# ---------------------------------------------------------------------------------------- transcribe


def pending_recording_batches(batch_size: int | None = None, database_url: str | None = None) -> list[list[int]]:
    """Ids of recordings waiting for a transcript, in batches (one model load per batch)."""
    with session_scope(database_url) as session:
        ids = [recording.id for recording in pending_recordings(session)]
    return batches(ids, batch_size or get_settings().transcribe_batch_size)


def transcribe_batch(recording_ids: list[int], database_url: str | None = None) -> list[int]:
    """Transcribe these recordings (done ones are skipped); return the clients of the done ones.

    Storing a transcript queues its client's refresh in the same transaction (``storage.changes``).
    """
    from dossier.transcribe_job import (
        transcribe_recordings,  # being finished in parallel: imported late
    )

    transcribe_recordings(recording_ids=recording_ids, database_url=database_url)
    with session_scope(database_url) as session:
        return sorted(set(session.scalars(select(Recording.client_id).where(
            Recording.id.in_(recording_ids), Recording.status == DONE, Recording.client_id.is_not(None)))))


# ------------------------------------------------------------------------------------------- refresh


def dirty_clients(debounce: timedelta | None = None, database_url: str | None = None) -> list[int]:
    """Clients due a refresh, important ones first: debounced unless important."""
    wait = debounce if debounce is not None else timedelta(seconds=get_settings().refresh_debounce_seconds)
    with session_scope(database_url) as session:
        due = summaries.due_refreshes(session, debounce=wait)
        queue = summaries.queued_refreshes(session)
    return sorted(due, key=lambda client_id: not queue[client_id].important)


def active_clients(database_url: str | None = None) -> list[int]:
    """Every active client with history (the weekly full refresh)."""
    with session_scope(database_url) as session:
        return summaries.client_ids_with_history(session)


def refresh_clients(client_ids: list[int], engine_name: str | None = None,
                    database_url: str | None = None) -> BatchResult:
    """Rebuild these clients' summaries (only changed tree nodes); a failing client is recorded, not raised.

    Clients deleted or merged away since they were queued are skipped. Running it again after a crash
    redoes only what was not committed: each client commits on its own.
    """
    with session_scope(database_url) as session:
        existing = set(session.scalars(select(Client.id).where(Client.id.in_(client_ids))))
    refs = [str(client_id) for client_id in client_ids if client_id in existing]
    result = BatchResult()
    if not refs:
        return result
    report = summarize(refs, engine_name=engine_name, database_url=database_url)
    for client in report.results:
        if client.error:
            result.failed[client.client_id] = client.error
        else:
            result.refreshed.append(client.client_id)
    return result


def not_refreshed(client_ids: list[int], *, since: datetime, database_url: str | None = None) -> list[int]:
    """Those of ``client_ids`` without summaries rendered since ``since`` (their refresh failed or never ran)."""
    with session_scope(database_url) as session:
        rows = session.execute(select(RenderedSummary.client_id, func.min(RenderedSummary.generated_at))
                               .where(RenderedSummary.client_id.in_(client_ids), RenderedSummary.stale.is_(False))
                               .group_by(RenderedSummary.client_id))
        done = {client_id for client_id, oldest in rows if oldest >= since}
    return [client_id for client_id in client_ids if client_id not in done]


# ------------------------------------------------------------------------------------------- notify


def important_events(session: Session, client_ids: Iterable[int], *, since: datetime) -> list[Event]:
    """Closed deals and client complaints/escalations of these clients that occurred after ``since``.

    Only what every reader may see (the public scope, nothing privileged); the text is redacted.
    """
    rows = session.scalars(select(Interaction).where(
        Interaction.client_id.in_(list(client_ids)), Interaction.occurred_at >= since,
        Interaction.scope == PUBLIC_SCOPE, Interaction.privileged.is_(False))
        .order_by(Interaction.occurred_at, Interaction.id))
    events = []
    for row in rows:
        kind = _event_kind(row)
        if kind:
            text = redact(" ".join(filter(None, [row.subject, row.body])))[:300]
            events.append(Event(row.id, row.client_id, kind, row.occurred_at, text))
    return events


def _event_kind(row: Interaction) -> str | None:
    if row.channel == Channel.DEAL_EVENT:
        stage = str(row.meta.get("stage", ""))
        if closes_deal(stage):
            return "deal lost" if loses_deal(stage) else "deal won"
        return None
    if row.direction in CLIENT_SIDE and complains(f"{row.subject or ''}\n{row.body}"):
        return "complaint"
    return None


def fresh_clients(session: Session, client_ids: Iterable[int]) -> list[int]:
    """Those of ``client_ids`` whose summaries exist and none is stale."""
    rows = session.execute(select(RenderedSummary.client_id, func.max(RenderedSummary.stale.cast(Integer)))
                           .where(RenderedSummary.client_id.in_(list(client_ids))).group_by(RenderedSummary.client_id))
    return sorted(client_id for client_id, stale in rows if not stale)


def recipients(session: Session, client: Client) -> list[User]:
    """Who hears about a client's events: its owner, or every manager when it has none."""
    if client.owner_id is not None:
        return [session.get(User, client.owner_id)]
    return list(session.scalars(select(User).where(User.role == MANAGER).order_by(User.id)))


def notify_events(client_ids: list[int], *, now: datetime | None = None,
                  database_url: str | None = None) -> list[int]:
    """One ``notification`` delivery per recent important event and recipient; return the new delivery ids.

    Idempotent: an event already notified (same ``period_key``) is not sent again. Clients without fresh
    summaries (their refresh failed) are left for the run that refreshes them.
    """
    since = (now or utcnow()) - timedelta(days=get_settings().notify_max_age_days)
    created = []
    with session_scope(database_url) as session:
        for event in important_events(session, fresh_clients(session, client_ids), since=since):
            client = session.get(Client, event.client_id)
            for user in recipients(session, client):
                delivery = _notification(session, client, user, event)
                if delivery is not None:
                    created.append(delivery.id)
    return created


def _notification(session: Session, client: Client, user: User, event: Event) -> Delivery | None:
    """Queue the notification of ``event`` to ``user`` unless it exists already."""
    key = f"event:{event.interaction_id}"
    exists = session.scalar(select(Delivery.id).where(Delivery.kind == "notification", Delivery.user_id == user.id,
                                                      Delivery.period_key == key))
    if exists is not None:
        return None
    body = (f"{client.name}: {event.kind} on {event.occurred_at:%Y-%m-%d}.\n\n{event.text}\n\n"
            f"Updated brief:\n{_brief(session, client.id, user.language)}\n")
    delivery = Delivery(kind="notification", user_id=user.id, client_id=client.id, period_key=key,
                        recipient=user.email or user.login, subject=f"{client.name}: {event.kind}", text_body=body)
    session.add(delivery)
    session.flush()
    return delivery


# ------------------------------------------------------------------------------------------- digests


def digest_managers(database_url: str | None = None) -> list[int]:
    """Ids of the users who get a Monday digest: managers (their team's clients) and reps who own clients."""
    with session_scope(database_url) as session:
        return [user.id for user in digest.recipients(session)]


def build_digest(user_id: int, day: date, database_url: str | None = None) -> int:
    """Queue the user's digest for the ISO week of ``day`` (once per week) and send what is pending for
    them; an SMTP failure leaves it pending for the next run. Returns the delivery id."""
    with session_scope(database_url) as session:
        delivery, _ = digest.queue_digest(session, session.get(User, user_id), day)
        delivery_id = delivery.id
    with session_scope(database_url) as session:
        mailer.send_pending(session, kind=digest.KIND, user_ids=[user_id])
    return delivery_id


# ------------------------------------------------------------------------------------------- reports


def key_accounts(limit: int | None = None, database_url: str | None = None) -> list[int]:
    """The active clients with the most won deal value, then the most history: quarterly review targets."""
    won = (select(Deal.client_id, func.sum(Deal.amount).label("value"))
           .where(func.lower(Deal.stage).in_(sorted(WON_STAGE_SPELLINGS))).group_by(Deal.client_id).subquery())
    history = (select(Interaction.client_id, func.count().label("n"))
               .group_by(Interaction.client_id).subquery())
    query = (select(Client.id).join(history, history.c.client_id == Client.id)
             .outerjoin(won, won.c.client_id == Client.id).where(Client.is_active.is_(True))
             .order_by(func.coalesce(won.c.value, 0).desc(), history.c.n.desc(), Client.id)
             .limit(limit or get_settings().key_accounts))
    with session_scope(database_url) as session:
        return list(session.scalars(query))


def quarterly_review(client_id: int, day: date, database_url: str | None = None) -> int:
    """The review of the quarter before ``day`` for one client (once per quarter); return the report id."""
    period, start, end = reports.parse_quarter(reports.previous_quarter(day))
    params = {"from": start.isoformat(), "to": end.isoformat()}
    return _report(client_id, "quarterly", period, params, database_url)


def handover(client_ref: str, from_manager: str, to_manager: str, day: date,
             database_url: str | None = None) -> int:
    """The handover report of a client from one manager to another (once per day and pair); return its id.

    The client's summaries are refreshed first so the report is current.
    """
    with session_scope(database_url) as session:
        client = find_client(session, client_ref)
        if client is None:
            raise DossierError(f"no client matches {client_ref!r}")
        users = {ref: _find_user(session, ref) for ref in (from_manager, to_manager)}
        client_id = client.id
    failed = refresh_clients([client_id], database_url=database_url).failed
    if failed:
        raise DossierError(f"refreshing client {client_id} failed: {failed[client_id]}")
    params = {"from_manager": users[from_manager], "to_manager": users[to_manager]}
    return _report(client_id, "handover", day.isoformat(), params, database_url)


def _find_user(session: Session, ref: str) -> int:
    user_id = session.scalar(select(User.id).where((User.login == ref) | (User.email == ref.lower())))
    if user_id is None:
        raise DossierError(f"no user with login or e-mail {ref!r}")
    return user_id


def _report(client_id: int, kind: str, period: str, params: dict[str, Any], database_url: str | None) -> int:
    """Build and store a report unless the same one exists; return its id."""
    with session_scope(database_url) as session:
        for report in session.scalars(select(Report).where(Report.client_id == client_id, Report.kind == kind,
                                                           Report.period == period)):
            if report.params == params:
                return report.id
        client = session.get(Client, client_id)
        builder = reports.build_quarterly_review if kind == "quarterly" else reports.build_handover_report
        path = Path(get_settings().reports_dir) / kind / period / f"client-{client_id}-{_slug(params)}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(builder(session, client, kind, period, params), encoding="utf-8")
        report = Report(client_id=client_id, kind=kind, period=period, params=params, html_path=str(path.resolve()))
        session.add(report)
        session.flush()
        return report.id


def _slug(params: dict[str, Any]) -> str:
    return "-".join(str(value) for value in params.values()).replace("/", "_")
