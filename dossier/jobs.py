"""Batch jobs that the Airflow DAGs call, one function per task; each is idempotent and returns ids or counts.

Nothing here imports Airflow: every job runs (and is tested) on its own, against ``database_url`` or the
configured database.
"""

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from dossier.calendar_sync import sync_calendar_source
from dossier.delivery import citation_links, digest, mailer, meeting_briefs, reports, webhook
from dossier.delivery.claims import Cited
from dossier.delivery.people import find_user
from dossier.delivery.templating import labels as delivery_labels
from dossier.delivery.templating import output_language
from dossier.engines import engine_spec, summarize
from dossier.imap_sync import sync_source
from dossier.settings import get_settings
from dossier.suggestions import propose_for_clients
from ingest.pipeline import import_paths
from storage import build_requests, calendar_sources, imap_sources, meetings, summaries
from storage import reports as report_store
from storage.access import readable_scopes
from storage.build_requests import Requested
from storage.db import Session
from storage.db import session_scope as url_session_scope
from storage.deliveries import DeliveryKey, Message, queue_once
from storage.errors import DossierError
from storage.models import Channel, Client, Delivery, Interaction, Meeting, User, utcnow
from storage.periods import previous_quarter
from storage.recordings import clients_of_done, pending_recordings
from storage.repository import existing_client_ids, find_client, public_interactions_since, users_with_role
from storage.vocabulary import CLIENT_SIDE, closes_deal, complains, loses_deal
from summarizer.cache import make_cache
from summarizer.engines import Engine
from summarizer.notes import Citation
from summarizer.redact import redact
from summarizer.render import available_languages
from summarizer.service import make_engines, summarize_client

MANAGER = "manager"
NOTIFICATION = "notification"


def session_scope(database_url: str | None) -> AbstractContextManager[Session]:
    """A session on ``database_url``, by default the configured database (what every job here opens)."""
    return url_session_scope(database_url or get_settings().database_url)


@dataclass(slots=True)
class BatchResult:
    """What refreshing one batch of clients did."""

    refreshed: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class BuildResult:
    """What building the summaries readers asked for did (see ``storage.build_requests``)."""

    built: list[Requested] = field(default_factory=list)
    failed: dict[Requested, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """An important event of a client: a closed deal or a complaint/escalation."""

    interaction_id: int
    client_id: int
    kind: str  # "deal won", "deal lost", "complaint"
    occurred_at: datetime
    text: str


# ------------------------------------------------------------------------------------------- helpers


def batches(ids: Iterable[int], size: int | None = None) -> list[list[int]]:
    """``ids`` cut into lists of at most ``size`` (default ``DOSSIER_REFRESH_BATCH_SIZE``), order kept."""
    ids = list(ids)
    size = size or get_settings().refresh_batch_size
    return [ids[start : start + size] for start in range(0, len(ids), size)]


# -------------------------------------------------------------------------------------------- ingest


def ingest_drop_folders(database_url: str | None = None) -> list[int]:
    """Import everything in the configured drop folders; return the ids of clients that got new data.

    Re-importing known content adds nothing (content hashes); the import queues the changed clients for a
    refresh, as important after a complaint, an escalation or a closed deal (see ``storage.changes``).
    """
    settings = get_settings()
    folders = [Path(folder) for folder in settings.drop_dirs]
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        raise DossierError(f"drop folder not found: {', '.join(missing)} (DOSSIER_DROP_DIRS)")
    if not folders:
        return []
    return sorted(
        import_paths(
            folders, database_url=database_url or settings.database_url, options=settings.import_options()
        ).changed_clients
    )


def mailbox_names(database_url: str | None = None) -> list[str]:
    """Names of the IMAP sources (`dossier sources add imap`): one mapped sync task each."""
    with session_scope(database_url) as session:
        return imap_sources.source_names(session)


def sync_mailbox(name: str, database_url: str | None = None) -> list[int]:
    """Fetch one IMAP source's new mail; return the ids of clients that got new data.

    Raises when the mailbox could not be read (after storing what it read), so only its own task fails.
    """
    report = sync_source(name, database_url=database_url)
    if report.error:
        raise DossierError(f"mailbox {name}: {report.error}")
    return sorted(report.changed_clients)


def propose_suggestions(client_ids: list[int] | None = None, database_url: str | None = None) -> list[int]:
    """Suggest CRM updates (contacts, titles, deal stages) from every client's history stored since the last
    run (of ``client_ids`` when given); return the ids of clients that got new suggestions. Idempotent: what was
    proposed, accepted or rejected before is not proposed again."""
    with session_scope(database_url) as session:
        added = propose_for_clients(session, client_ids, phone_region=get_settings().default_phone_region)
    return sorted(added)


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
        return clients_of_done(session, recording_ids)


# ------------------------------------------------------------------------------------------- refresh


def dirty_clients(debounce: timedelta | None = None, database_url: str | None = None) -> list[int]:
    """Clients a reader asked a summary of (first: someone waits), then those due a refresh, important ones
    first: debounced unless important."""
    wait = debounce if debounce is not None else timedelta(seconds=get_settings().refresh_debounce_seconds)
    with session_scope(database_url) as session:
        requested = build_requests.requesting_clients(session)
        due = summaries.due_refreshes(session, debounce=wait)
        queue = summaries.queued_refreshes(session)
    return list(dict.fromkeys(requested + sorted(due, key=lambda client_id: not queue[client_id].important)))


def active_clients(database_url: str | None = None) -> list[int]:
    """Every active client with history (the weekly full refresh)."""
    with session_scope(database_url) as session:
        return summaries.client_ids_with_history(session)


def refresh_clients(
    client_ids: list[int], engine_name: str | None = None, database_url: str | None = None
) -> BatchResult:
    """Rebuild these clients' summaries (only changed tree nodes); a failing client is recorded, not raised.

    Then the summaries readers asked for of these clients are built (:func:`build_requested`); a client
    whose requested build fails counts as failed. Clients deleted or merged away since they were queued
    are skipped. Running it again after a crash redoes only what was not committed: each client commits
    on its own.
    """
    with session_scope(database_url) as session:
        existing = existing_client_ids(session, client_ids)
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
    for request, error in build_requested(sorted(existing), engine_name, database_url).failed.items():
        result.failed.setdefault(request.client_id, f"summary of {request.key} in {request.language}: {error}")
    result.refreshed = [client_id for client_id in result.refreshed if client_id not in result.failed]
    return result


def build_requested(
    client_ids: list[int] | None = None, engine_name: str | None = None, database_url: str | None = None
) -> BuildResult:
    """Build the summaries readers asked for (the web service queues them), each once, and clear the requests.

    Only the requests of ``client_ids`` when given. A request whose summaries a refresh built meanwhile is
    cleared without a build; a failed build stays queued for the next run and never stops the others. A
    public build that leaves nothing for the client's queued refresh to do settles that refresh too.
    """
    settings = get_settings()
    engine, cache = engine_spec(engine_name, settings), make_cache(settings.redis_url)
    engines: dict[str, list[Engine]] = {}  # by language, loaded once per run
    result = BuildResult()
    with session_scope(database_url) as session:
        for request in build_requests.pending_builds(session, client_ids):
            try:
                if not build_requests.is_built(session, request):
                    if request.language not in engines:
                        engines[request.language] = make_engines(engine, [request.language])
                    started = utcnow()
                    summarize_client(
                        session,
                        session.get_one(Client, request.client_id),
                        engines[request.language],
                        languages=[request.language],
                        scopes=request.scopes,
                        cache=cache,
                    )
                    build_requests.settle_refresh(session, request, settings.summary_languages, started_at=started)
                build_requests.clear_build(session, request)
                session.commit()
                result.built.append(request)
            except Exception as error:  # noqa: BLE001 - one failed build never stops the others
                session.rollback()
                result.failed[request] = str(error) or type(error).__name__
    return result


def not_refreshed(client_ids: list[int], *, since: datetime, database_url: str | None = None) -> list[int]:
    """Those of ``client_ids`` without summaries rendered since ``since`` (their refresh failed or never ran)."""
    with session_scope(database_url) as session:
        done = summaries.refreshed_since(session, client_ids, since=since)
    return [client_id for client_id in client_ids if client_id not in done]


# ------------------------------------------------------------------------------------------- notify


def important_events(session: Session, client_ids: Iterable[int], *, since: datetime) -> list[Event]:
    """Closed deals and client complaints/escalations of these clients that occurred after ``since``.

    Only what every reader may see (the public scope, nothing privileged); the text is redacted.
    """
    events = []
    for row in public_interactions_since(session, client_ids, since=since):
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


def recipients(session: Session, client: Client) -> list[User]:
    """Who hears about a client's events: its owner, or every manager when it has none."""
    if client.owner_id is not None:
        return [session.get_one(User, client.owner_id)]
    return users_with_role(session, MANAGER)


def notify_events(client_ids: list[int], *, now: datetime | None = None, database_url: str | None = None) -> list[int]:
    """One ``notification`` delivery per recent important event and recipient; return the new delivery ids.

    Idempotent: an event already notified (same ``period_key``) is not sent again. Clients without fresh
    summaries (their refresh failed) are left for the run that refreshes them.
    """
    since = (now or utcnow()) - timedelta(days=get_settings().notify_max_age_days)
    created = []
    with session_scope(database_url) as session:
        for event in important_events(session, summaries.fresh_clients(session, client_ids), since=since):
            client = session.get_one(Client, event.client_id)
            for user in recipients(session, client):
                delivery = _notification(session, client, user, event, public_base_url=get_settings().public_base_url)
                if delivery is not None:
                    created.append(delivery.id)
    return created


def _notification(
    session: Session, client: Client, user: User, event: Event, *, public_base_url: str | None = None
) -> Delivery | None:
    """Queue the notification of ``event`` to ``user``; None when it was queued before (by any run). With
    ``public_base_url`` (the web app's address) it ends with the addresses of the event and of what the brief
    cites."""

    def compose() -> Message:
        brief = summaries.rendered_summary(session, client.id, "brief", user.language)
        labels = delivery_labels(output_language(brief.language if brief else user.language))
        frames = labels["notification"]
        what = frames["events"][event.kind.replace(" ", "_")]
        event_cite = Cited.of(Citation(interaction_id=event.interaction_id))
        cited = [event_cite, *citation_links.summary_citations(brief.content if brief else {})]
        links = citation_links.source_links(cited, public_base_url=public_base_url)
        body = (
            f"{frames['event'].format(client=client.name, event=what, date=f'{event.occurred_at:%Y-%m-%d}')}\n\n"
            f"{event.text}{' ' + event_cite.marker if links else ''}\n\n"
            f"{frames['updated_brief']}\n{brief.markdown if brief else frames['no_summary']}\n"
        )
        if links:
            body = f"{body.rstrip()}\n\n{citation_links.sources_text(links, title=labels['digest']['sources'])}"
        return Message(
            recipient=user.email or user.login,
            subject=frames["subject"].format(client=client.name, event=what),
            text_body=body,
            client_id=client.id,
        )

    delivery, new = queue_once(session, DeliveryKey(NOTIFICATION, user.id, f"event:{event.interaction_id}"), compose)
    return delivery if new else None


# ------------------------------------------------------------------------------------------- digests


def digest_managers(database_url: str | None = None) -> list[int]:
    """Ids of the users who get a Monday digest: managers (their team's clients) and reps who own clients."""
    with session_scope(database_url) as session:
        return [user.id for user in digest.recipients(session)]


def build_digest(user_id: int, day: date, database_url: str | None = None) -> int:
    """Queue the user's digest for the ISO week of ``day`` (once per week) and send what is pending for
    them; an SMTP failure leaves it pending for the next run. Returns the delivery id."""
    with session_scope(database_url) as session:
        delivery, _ = digest.queue_digest(
            session, session.get_one(User, user_id), day, public_base_url=get_settings().public_base_url
        )
        delivery_id = delivery.id
    with session_scope(database_url) as session:
        mailer.send_pending(session, kind=digest.KIND, user_ids=[user_id])
    return delivery_id


# ------------------------------------------------------------------------------------------- reports


def key_accounts(limit: int | None = None, database_url: str | None = None) -> list[int]:
    """The active clients with the most won deal value, then the most history: quarterly review targets."""
    with session_scope(database_url) as session:
        return report_store.key_accounts(session, limit=limit or get_settings().key_accounts)


def quarterly_review(client_id: int, day: date, database_url: str | None = None) -> int:
    """The review (HTML) of the quarter before ``day`` for one client; return the report id.

    Once per quarter: the same review made by ``dossier report quarterly`` counts (see ``reports.make_report``).
    """
    return reports.make_report(
        "quarterly",
        str(client_id),
        quarter=previous_quarter(day),
        as_of=day,
        pdf=False,
        database_url=database_url,
        public_base_url=get_settings().public_base_url,
    ).report_id


def handover(client_ref: str, from_manager: str, to_manager: str, day: date, database_url: str | None = None) -> int:
    """The handover report (HTML) of a client from one manager to another, for the new one; return its id.

    Once per day and new manager: the same report made by ``dossier report handover --to`` counts (see
    ``reports.make_report``). The client's summaries are refreshed first so the report is current.
    """
    with session_scope(database_url) as session:
        client = find_client(session, client_ref)
        if client is None:
            raise DossierError(f"no client matches {client_ref!r}")
        for ref in (from_manager, to_manager):
            find_user(session, ref)
        client_id = client.id
    failed = refresh_clients([client_id], database_url=database_url).failed
    if failed:
        raise DossierError(f"refreshing client {client_id} failed: {failed[client_id]}")
    return reports.make_report(
        "handover",
        str(client_id),
        to=to_manager,
        as_of=day,
        pdf=False,
        database_url=database_url,
        public_base_url=get_settings().public_base_url,
    ).report_id


# ------------------------------------------------------------------------------------------ meetings


@dataclass(slots=True)
class BriefRun:
    """What one pre-meeting brief run did: deliveries stored now, meetings left out and why, what was sent."""

    queued: list[int] = field(default_factory=list)
    not_users: list[str] = field(default_factory=list)  # organisers who are no Dossier user (their meetings)
    unmatched: int = 0  # meetings with no known client among their attendees
    sent: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def summary(self) -> str:
        organisers = f" ({', '.join(sorted(set(self.not_users)))})" if self.not_users else ""
        return (
            f"{len(self.queued)} briefs queued, {len(self.sent)} sent, {len(self.pending)} pending, "
            f"{len(self.failed)} failed; skipped: {len(self.not_users)} meetings whose organiser is no user"
            f"{organisers}, {self.unmatched} meetings with no known client"
        )


def calendar_names(database_url: str | None = None) -> list[str]:
    """Names of the calendar sources (`dossier sources add ics|caldav`): one mapped sync task each."""
    with session_scope(database_url) as session:
        return calendar_sources.source_names(session)


def sync_calendar(name: str, *, now: datetime | None = None, database_url: str | None = None) -> int:
    """Read one calendar's meetings of the coming days; return how many occurrences it holds.

    Raises when the calendar could not be read (its meetings from the last good sync stay), so only its own
    task fails.
    """
    report = sync_calendar_source(name, now=now, database_url=database_url)
    if report.error:
        raise DossierError(f"calendar {name}: {report.error}")
    return report.occurrences


def send_meeting_briefs(*, now: datetime | None = None, database_url: str | None = None) -> BriefRun:
    """Brief the organiser of each meeting with known clients that starts within ``DOSSIER_MEETING_LEAD_MINUTES``.

    Once per meeting occurrence and organiser (a re-run or a second calendar holding the event sends nothing
    new); the clients' briefs are refreshed first when stale, in the organiser's language and from the sources
    they may read. A meeting whose organiser is no user, or without a known client, is counted and skipped.
    """
    settings = get_settings()
    start = now or utcnow()
    run, due = BriefRun(), []
    with session_scope(database_url) as session:
        lead = timedelta(minutes=settings.meeting_lead_minutes)
        for meeting in meetings.meetings_starting(session, start, start + lead):
            user = meetings.organiser(session, meeting)
            client_ids = meetings.clients_of_attendees(session, meeting.attendees)
            if user is None:
                run.not_users.append(meeting.organizer or "(no organiser)")
            elif not client_ids:
                run.unmatched += 1
            elif not meeting_briefs.is_queued(session, meeting, user):
                language = user.language if user.language in available_languages() else settings.summary_languages[0]
                due.append((meeting.id, user.id, client_ids, readable_scopes(session, user), language))
    for meeting_id, user_id, client_ids, scopes, language in due:
        _refresh_stale(client_ids, scopes, language, database_url)
        with session_scope(database_url) as session:
            meeting, user = session.get(Meeting, meeting_id), session.get_one(User, user_id)
            if meeting is None:  # a sync replaced it meanwhile: the next run sees the new one
                continue
            clients = [
                meeting_briefs.client_brief(
                    session, client, scopes=scopes, language=language, public_base_url=settings.public_base_url
                )
                for client in (session.get(Client, client_id) for client_id in client_ids)
                if client is not None
            ]
            brief = meeting_briefs.compose_brief(
                meeting, user, clients, language=language, public_base_url=settings.public_base_url
            )
            html = meeting_briefs.render_html(brief, user, settings.public_base_url)
            stored = meeting_briefs.queue_brief(
                session, meeting, user, brief, webhook_url=settings.meeting_webhook_url, html=html
            )
            run.queued.extend(delivery.id for delivery in stored)
    with session_scope(database_url) as session:
        for report in (
            mailer.send_pending(session, kind=meeting_briefs.KIND, settings=settings),
            webhook.post_pending(session, kind=meeting_briefs.WEBHOOK_KIND),
        ):
            run.sent.extend(report.sent)
            run.pending.extend(report.pending)
            run.failed.extend(report.failed)
    return run


def _refresh_stale(client_ids: list[int], scopes: tuple[str, ...], language: str, database_url: str | None) -> None:
    """Build now those of the clients' summaries (from ``scopes``, in ``language``) that are missing or stale; a
    failed build leaves the stale brief (flagged so) and stays queued."""
    with session_scope(database_url) as session:
        stale = [cid for cid in client_ids if not build_requests.is_built(session, Requested(cid, scopes, language))]
        for client_id in stale:
            build_requests.request_build(session, client_id, scopes, language)
    if stale:
        build_requested(stale, database_url=database_url)
