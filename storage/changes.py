"""The one call every writer of history makes, in its own transaction: ``record_change``.

It flags the clients' rendered summaries stale, queues (or re-debounces) their refresh, and tells
important events (a closed deal, a complaint or escalation) from ordinary new data, so a refresh of
those runs at once. Readers learn about the change from the database (see ``summarizer.cache``).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from storage import summaries
from storage.models import Channel
from storage.vocabulary import AGENT_SPEAKER, CLIENT_SIDE, closes_deal, complains

COMPLAINT, DEAL_CLOSED, NEW_CALL, NEW_DATA = "complaint", "deal closed", "new call", "new data"
#: Why a client is queued, most telling first: one change of each reason decides a client's reason.
REASONS = (COMPLAINT, DEAL_CLOSED, NEW_CALL, NEW_DATA)
#: Reasons whose refresh is not debounced.
IMPORTANT = frozenset({COMPLAINT, DEAL_CLOSED})


class ChangeKind(StrEnum):
    INTERACTION = "new interaction"  # e-mail, chat message, CRM note
    CALL = "new call transcript"
    DEAL_STAGE = "deal stage"
    MERGE = "clients merged"  # a client took over another one's history


class Change(NamedTuple):
    """One change to a client's history, with what is needed to tell whether it is important."""

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
    """Why ``change`` queues its client: a complaint, a closed deal, a new call or new data."""
    if complains(change.client_text):
        return COMPLAINT
    if change.kind is ChangeKind.DEAL_STAGE and closes_deal(change.deal_stage):
        return DEAL_CLOSED
    return NEW_CALL if change.kind is ChangeKind.CALL else NEW_DATA


def record_change(session: Session, changes: Iterable[Change]) -> ChangeSummary:
    """Flag the changed clients' summaries stale and queue their refresh, in the caller's transaction.

    The debounce counts from this change; a complaint or a closed deal makes the refresh important
    (run at once) with that reason. Nothing is committed here.
    """
    reasons: dict[int, str] = {}
    for change in changes:
        why = reason(change)
        reasons[change.client_id] = min(why, reasons.get(change.client_id, why), key=REASONS.index)
    for why in REASONS:
        summaries.mark_stale(session, [client_id for client_id, r in reasons.items() if r == why],
                             reason=why, important=why in IMPORTANT)
    return ChangeSummary(reasons)
