"""The one call every writer of history makes, in its own transaction: ``record_change``.

It flags the clients' rendered summaries stale, queues (or re-debounces) their refresh, and tells
important events (a closed deal, a complaint or escalation) from ordinary new data, so a refresh of
those runs at once. Readers learn about the change from the database (see ``summarizer.cache``).
A reader asking for a summary never built records a request the same way: it queues the client
once, flags nothing stale and leaves a queued client's debounce alone. Nothing else writes the queue.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import update
from sqlalchemy.orm import Session

from storage.models import Channel, RefreshRequest, RenderedSummary, utcnow
from storage.repository import dialect_insert
from storage.vocabulary import AGENT_SPEAKER, CLIENT_SIDE, closes_deal, complains

COMPLAINT, DEAL_CLOSED, NEW_CALL, NEW_DATA = "complaint", "deal closed", "new call", "new data"
SUMMARY_REQUESTED = "summary requested"
#: Why a client is queued, most telling first: one change of each reason decides a client's reason.
REASONS = (COMPLAINT, DEAL_CLOSED, NEW_CALL, NEW_DATA, SUMMARY_REQUESTED)
#: Reasons whose refresh is not debounced.
IMPORTANT = frozenset({COMPLAINT, DEAL_CLOSED})


class ChangeKind(StrEnum):
    INTERACTION = "new interaction"  # e-mail, chat message, CRM note
    CALL = "new call transcript"
    DEAL_STAGE = "deal stage"
    MERGE = "clients merged"  # a client took over another one's history
    SUMMARY_REQUESTED = "summary requested"  # a reader asked for a summary never built: no new history


class Change(NamedTuple):
    """One reason to refresh a client (a change to its history, or a request), with what is needed to tell
    whether it is important."""

    client_id: int
    kind: ChangeKind
    client_text: str = ""  # what the client's side said or what our notes say about them: complaints show here
    deal_stage: str | None = None  # the stage a deal moved to (DEAL_STAGE)


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    """What ``record_change`` queued: every changed client with the reason of its refresh."""

    reasons: dict[int, str]

    @property
    def important(self) -> frozenset[int]:
        """Clients whose refresh runs at once."""
        return frozenset(client_id for client_id, reason in self.reasons.items() if reason in IMPORTANT)


def interaction_change(row: Mapping[str, Any]) -> Change:
    """The change a new interaction row (as given to ``repository.insert_interactions``) makes."""
    said = "\n".join(filter(None, (row.get("subject"), row.get("body")))) if row["direction"] in CLIENT_SIDE else ""
    if row["channel"] == Channel.DEAL_EVENT:
        return Change(row["client_id"], ChangeKind.DEAL_STAGE, said, (row.get("meta") or {}).get("stage"))
    kind = ChangeKind.CALL if row["channel"] == Channel.CALL else ChangeKind.INTERACTION
    return Change(row["client_id"], kind, said)


def call_change(client_id: int, turns: Iterable[tuple[str, str]]) -> Change:
    """The change a new call transcript makes; ``turns`` are (speaker, text), anyone but our agent counts."""
    return Change(client_id, ChangeKind.CALL, "\n".join(text for speaker, text in turns if speaker != AGENT_SPEAKER))


def reason(change: Change) -> str:
    """Why ``change`` queues its client: a complaint, a closed deal, a new call, new data or a request."""
    if change.kind is ChangeKind.SUMMARY_REQUESTED:
        return SUMMARY_REQUESTED
    if complains(change.client_text):
        return COMPLAINT
    if change.kind is ChangeKind.DEAL_STAGE and closes_deal(change.deal_stage):
        return DEAL_CLOSED
    return NEW_CALL if change.kind is ChangeKind.CALL else NEW_DATA


def record_change(session: Session, changes: Iterable[Change]) -> ChangeSummary:
    """Flag the changed clients' summaries stale and queue their refresh, in the caller's transaction.

    The debounce counts from this change; a complaint or a closed deal makes the refresh important
    (run at once) with that reason. A client that was only requested is queued unless it already is,
    and nothing of it is flagged stale. Nothing is committed here.
    """
    reasons: dict[int, str] = {}
    for change in changes:
        why = reason(change)
        reasons[change.client_id] = min(why, reasons.get(change.client_id, why), key=REASONS.index)
    for why in REASONS:
        client_ids = sorted(client_id for client_id, r in reasons.items() if r == why)
        if why == SUMMARY_REQUESTED:
            _queue_unless_queued(session, client_ids, reason=why)
        else:
            _mark_stale(session, client_ids, reason=why, important=why in IMPORTANT)
    return ChangeSummary(reasons)


def _mark_stale(session: Session, client_ids: list[int], *, reason: str, important: bool) -> None:
    """Flag the clients' summaries stale and queue (or re-debounce) their refresh, one entry per client."""
    if not client_ids:
        return
    now = utcnow()
    session.execute(update(RenderedSummary).where(RenderedSummary.client_id.in_(client_ids)).values(stale=True))
    changes: dict[str, Any] = {"last_change_at": now}
    if important:
        changes.update(important=True, reason=reason)
    insert = dialect_insert(session, RefreshRequest)
    statement = insert.on_conflict_do_update(index_elements=["client_id"], set_=changes)
    rows = [
        {"client_id": client_id, "requested_at": now, "last_change_at": now, "reason": reason, "important": important}
        for client_id in client_ids
    ]
    session.execute(statement, rows)  # one executemany: pipelined on PostgreSQL, not a round trip per client


def _queue_unless_queued(session: Session, client_ids: list[int], *, reason: str) -> None:
    """Queue the clients for a refresh; a queued client stays as it is."""
    now = utcnow()
    for client_id in client_ids:
        session.execute(
            dialect_insert(session, RefreshRequest)
            .values(client_id=client_id, requested_at=now, last_change_at=now, reason=reason)
            .on_conflict_do_nothing(index_elements=["client_id"])
        )
