"""Suggested CRM updates end to end: propose them from clients' new history, accept one (write the contact or
the deal stage, with an audit event) or reject one (recording who did), and their JSON for a CRM sync."""

import hashlib
from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from ingest.crm_csv import describe_deal_event
from storage import access, repository
from storage import suggestions as store
from storage.changes import Change, ChangeKind, record_change
from storage.models import PUBLIC_SCOPE, Channel, CrmSuggestion, Direction, Interaction, SuggestionStatus, utcnow
from summarizer.sources import to_source_item
from summarizer.suggestions import (
    KnownContact,
    KnownDeal,
    NewMessage,
    Payload,
    PersonUpdate,
    StageUpdate,
    SuggestionKind,
    propose,
)


class FieldChange(NamedTuple):
    """One field a suggestion changes: its name, the value the directory holds (None: none) and the new one."""

    field: str
    old: str | None
    new: str


PAYLOAD = TypeAdapter[PersonUpdate | StageUpdate](Payload)
ACCEPTED_ACTION, REJECTED_ACTION = "suggestion.accept", "suggestion.reject"


def propose_for_clients(
    session: Session, client_ids: Sequence[int] | None = None, *, phone_region: str
) -> dict[int, int]:
    """Read the new history of every client (of ``client_ids`` when given) since its last scan and store what
    it suggests; return {client id: suggestions added} of the clients that got any. Idempotent."""
    added: dict[int, int] = {}
    for client_id, after in store.clients_to_scan(session, client_ids).items():
        interactions = store.interactions_after(session, client_id, after)
        messages = [NewMessage(to_source_item(row), row.author_contact) for row in interactions]
        known = [
            KnownContact(c.kind, c.value, c.display_name, c.role) for c in store.client_contacts(session, client_id)
        ]
        deals = [
            KnownDeal(d.external_id, d.name, d.stage, d.updated_at) for d in store.client_deals(session, client_id)
        ]
        proposals = [
            store.NewSuggestion(s.kind, s.key, s.payload.model_dump(mode="json"), s.source_ids)
            for s in propose(messages, known, deals, phone_region=phone_region)
        ]
        count = store.add_suggestions(session, client_id, proposals)
        if interactions:
            store.mark_scanned(session, client_id, interactions[-1].id)
        if count:
            added[client_id] = count
    return added


def payload_of(suggestion: CrmSuggestion) -> PersonUpdate | StageUpdate:
    """A stored suggestion's typed payload."""
    return PAYLOAD.validate_python(suggestion.payload)


def accept(session: Session, suggestion: CrmSuggestion, *, login: str, user_id: int | None) -> None:
    """Write what the suggestion proposes (the contact, or the deal stage as a deal event), mark it accepted by
    ``login`` and record an audit event; a clear error when it was decided already or cannot be written."""
    store.decide(session, suggestion, SuggestionStatus.ACCEPTED, by=login)
    payload = payload_of(suggestion)
    if isinstance(payload, PersonUpdate):
        person = payload.person
        store.write_person(
            session,
            suggestion.client_id,
            name=person.name,
            role=person.role,
            email=person.email,
            phone=person.phone,
            replaces_phone=suggestion.kind == SuggestionKind.PHONE_CHANGE,
        )
    else:
        _move_deal(session, suggestion, payload, author=login)
    access.record_audit(
        session,
        user_id=user_id,
        action=ACCEPTED_ACTION,
        client_id=suggestion.client_id,
        suggestion_id=suggestion.id,
        kind=suggestion.kind,
        payload=suggestion.payload,
    )


def reject(session: Session, suggestion: CrmSuggestion, *, login: str, user_id: int | None) -> None:
    """Mark the suggestion rejected by ``login`` (it is never proposed again) and record an audit event."""
    store.decide(session, suggestion, SuggestionStatus.REJECTED, by=login)
    access.record_audit(
        session,
        user_id=user_id,
        action=REJECTED_ACTION,
        client_id=suggestion.client_id,
        suggestion_id=suggestion.id,
        kind=suggestion.kind,
    )


def _move_deal(session: Session, suggestion: CrmSuggestion, update: StageUpdate, *, author: str) -> None:
    """The deal moved to the suggested stage, recorded as a deal event of the client's history (in the scope of
    the sources it was read from) so that summaries, notifications and the timeline see it."""
    now = utcnow()
    deal_id = repository.upsert_deal(
        session,
        suggestion.client_id,
        update.deal_id,
        name=update.deal_name,
        stage=update.stage,
        amount=None,
        currency=None,
        at=now,
    )
    meta: dict[str, Any] = {
        "deal_id": update.deal_id,
        "deal_name": update.deal_name,
        "stage": update.stage,
        "amount": None,
        "currency": None,
        "reason": update.evidence,
        "suggestion_id": suggestion.id,
    }
    scopes = {row.scope for source in suggestion.source_ids if (row := session.get(Interaction, source))}
    session.add(
        Interaction(
            client_id=suggestion.client_id,
            channel=Channel.DEAL_EVENT,
            direction=Direction.INTERNAL,
            author=author,
            occurred_at=now,
            body=describe_deal_event(meta),
            source_kind="suggestions",
            source_ref=f"suggestion #{suggestion.id}",
            external_id=update.deal_id,
            content_hash=hashlib.sha256(f"suggestion:{suggestion.id}".encode()).hexdigest(),
            scope=min(scopes - {PUBLIC_SCOPE}, default=PUBLIC_SCOPE),
            deal_id=deal_id,
            meta=meta,
        )
    )
    session.flush()
    record_change(session, [Change(suggestion.client_id, ChangeKind.DEAL_STAGE, deal_stage=update.stage)])


def changes(suggestion: CrmSuggestion) -> list[FieldChange]:
    """What accepting the suggestion changes, field by field (name, role, email, phone; deal, stage)."""
    payload = payload_of(suggestion)
    if isinstance(payload, StageUpdate):
        return [
            FieldChange("deal", None, payload.deal_name or payload.deal_id),
            FieldChange("stage", payload.previous_stage, payload.stage),
        ]
    before = payload.previous.model_dump() if payload.previous else {}
    after = payload.person.model_dump()
    return [
        FieldChange(name, None if value == before.get(name) else before.get(name), value)
        for name, value in after.items()
        if value is not None and (name == "name" or value != before.get(name))
    ]


def as_json(suggestion: CrmSuggestion, client_name: str) -> dict[str, Any]:
    """A suggestion for a CRM sync: what it proposes, its sources and status, and who decided it when."""
    return {
        "id": suggestion.id,
        "client": {"id": suggestion.client_id, "name": client_name},
        "kind": suggestion.kind,
        "status": suggestion.status,
        "payload": suggestion.payload,
        "source_ids": suggestion.source_ids,
        "created_at": suggestion.created_at.isoformat(),
        "decided_by": suggestion.decided_by,
        "decided_at": suggestion.decided_at.isoformat() if suggestion.decided_at else None,
    }
