"""Suggested CRM updates: stored once per client and key, listed, decided (accepted or rejected), and the
directory writes an accepted one makes; and how far each client's history has been read for them."""

import hashlib
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.errors import DossierError
from storage.models import (
    Contact,
    ContactKind,
    CrmSuggestion,
    Deal,
    Interaction,
    SuggestionScan,
    SuggestionStatus,
    utcnow,
)
from storage.repository import IN_CHUNK, dialect_insert, name_key, row_id

PHONE_KINDS = (ContactKind.PHONE.value, ContactKind.WHATSAPP.value)


class NewSuggestion(NamedTuple):
    """A proposal to store: its kind, key (what it proposes, in words), payload (JSON) and cited interactions."""

    kind: str
    key: str
    payload: dict[str, Any]
    source_ids: list[int]


def key_digest(key: str) -> str:
    """The stored form of a suggestion's key: its SHA-256, so that any key fits the unique index."""
    return hashlib.sha256(key.encode()).hexdigest()


# ------------------------------------------------------------------ reading history


def clients_to_scan(session: Session, client_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Clients with interactions newer than their last scan (of ``client_ids`` when given), each with the id
    its scan read up to (0: never scanned)."""
    newest = select(Interaction.client_id, func.max(Interaction.id).label("newest")).group_by(Interaction.client_id)
    if client_ids is not None:
        newest = newest.where(Interaction.client_id.in_(list(client_ids)))
    rows = newest.subquery()
    query = select(rows.c.client_id, func.coalesce(SuggestionScan.last_interaction_id, 0)).outerjoin(
        SuggestionScan, SuggestionScan.client_id == rows.c.client_id
    )
    query = query.where(rows.c.newest > func.coalesce(SuggestionScan.last_interaction_id, 0))
    return dict(session.execute(query.order_by(rows.c.client_id)).all())


def interactions_after(session: Session, client_id: int, after_id: int) -> list[Interaction]:
    """The client's interactions stored after ``after_id``, privileged ones left out, oldest id first."""
    return list(
        session.scalars(
            select(Interaction)
            .where(Interaction.client_id == client_id, Interaction.id > after_id, Interaction.privileged.is_(False))
            .order_by(Interaction.id)
        )
    )


def mark_scanned(session: Session, client_id: int, last_interaction_id: int) -> None:
    """Record that the client's history was read up to ``last_interaction_id``."""
    scan = session.get(SuggestionScan, client_id)
    if scan is None:
        session.add(SuggestionScan(client_id=client_id, last_interaction_id=last_interaction_id))
    else:
        scan.last_interaction_id = max(scan.last_interaction_id, last_interaction_id)
        scan.scanned_at = utcnow()
    session.flush()


def client_contacts(session: Session, client_id: int) -> list[Contact]:
    """The client's contacts, oldest first."""
    return list(session.scalars(select(Contact).where(Contact.client_id == client_id).order_by(Contact.id)))


def client_deals(session: Session, client_id: int) -> list[Deal]:
    """The client's deals."""
    return list(session.scalars(select(Deal).where(Deal.client_id == client_id).order_by(Deal.id)))


# ------------------------------------------------------------------ storing and listing


def add_suggestions(session: Session, client_id: int, proposals: Sequence[NewSuggestion]) -> int:
    """Store the proposals not stored before (by key); a pending one proposed again cites the new sources too.

    A decided one (accepted or rejected) stays as it was: it is never proposed again. Returns how many are new.
    """
    added = 0
    for proposal in proposals:
        digest = key_digest(proposal.key)
        inserted = session.execute(
            dialect_insert(session, CrmSuggestion)
            .values(
                client_id=client_id,
                kind=proposal.kind,
                key=digest,
                payload=proposal.payload,
                source_ids=sorted(set(proposal.source_ids)),
                status=SuggestionStatus.PENDING,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["client_id", "key"])
            .returning(CrmSuggestion.id)
        ).scalar_one_or_none()
        if inserted is not None:
            added += 1
            continue
        stored = session.scalars(
            select(CrmSuggestion).where(CrmSuggestion.client_id == client_id, CrmSuggestion.key == digest)
        ).one()
        cited = sorted({*stored.source_ids, *proposal.source_ids})
        if stored.status == SuggestionStatus.PENDING and cited != sorted(stored.source_ids):
            stored.source_ids = cited
    session.flush()
    return added


def list_suggestions(
    session: Session, *, client_id: int | None = None, status: str | None = SuggestionStatus.PENDING
) -> list[CrmSuggestion]:
    """Suggestions (of one client, of one status; None: every status), oldest first."""
    query = select(CrmSuggestion).order_by(CrmSuggestion.id)
    if client_id is not None:
        query = query.where(CrmSuggestion.client_id == client_id)
    if status is not None:
        query = query.where(CrmSuggestion.status == status)
    return list(session.scalars(query))


def readable_only(session: Session, suggestions: Sequence[CrmSuggestion], scopes: Sequence[str]) -> list[CrmSuggestion]:
    """Those of ``suggestions`` whose every source ``scopes`` may read (and none is privileged)."""
    wanted = sorted({source for suggestion in suggestions for source in suggestion.source_ids})
    readable: set[int] = set()
    for start in range(0, len(wanted), IN_CHUNK):
        readable.update(
            session.scalars(
                select(Interaction.id).where(
                    Interaction.id.in_(wanted[start : start + IN_CHUNK]),
                    Interaction.scope.in_(list(scopes)),
                    Interaction.privileged.is_(False),
                )
            )
        )
    return [suggestion for suggestion in suggestions if readable.issuperset(suggestion.source_ids)]


def get_suggestion(session: Session, suggestion_id: int | str) -> CrmSuggestion:
    """The suggestion with this id; a clear error when there is none."""
    found = session.get(CrmSuggestion, number) if (number := row_id(suggestion_id)) is not None else None
    if found is None:
        raise DossierError(f"no suggestion #{suggestion_id} (see `dossier suggestions list`)")
    return found


def decide(session: Session, suggestion: CrmSuggestion, status: SuggestionStatus, *, by: str) -> None:
    """Mark a pending suggestion accepted or rejected by ``by``; a clear error when it was decided already."""
    if suggestion.status != SuggestionStatus.PENDING:
        raise DossierError(f"suggestion #{suggestion.id} was {suggestion.status} by {suggestion.decided_by} already")
    suggestion.status = status
    suggestion.decided_by = by
    suggestion.decided_at = utcnow()
    session.flush()


# ------------------------------------------------------------------ directory writes


def write_person(
    session: Session,
    client_id: int,
    *,
    name: str,
    role: str | None,
    email: str | None,
    phone: str | None,
    replaces_phone: bool = False,
) -> list[Contact]:
    """Write a person to the client's directory: their e-mail and phone as contacts (added when missing), and
    their name and role (when given) on every contact of theirs. ``replaces_phone``: their other phones stay the
    client's contacts (they still identify its history) but no longer carry the person's name.

    A clear error when the e-mail or phone is another client's contact. Returns the person's contacts.
    """
    wanted = [(kind, value) for kind, value in ((ContactKind.EMAIL, email), (ContactKind.PHONE, phone)) if value]
    for kind, value in wanted:
        existing = session.scalars(select(Contact).where(Contact.kind == kind, Contact.value == value)).one_or_none()
        if existing is None:
            session.add(Contact(client_id=client_id, kind=kind, value=value, display_name=name, role=role))
        elif existing.client_id != client_id:
            raise DossierError(f"{value} is a contact of client #{existing.client_id} already")
    session.flush()
    key = name_key(name)
    values = {value for _kind, value in wanted}
    theirs = [
        contact
        for contact in client_contacts(session, client_id)
        if contact.value in values or (contact.display_name and name_key(contact.display_name) == key)
    ]
    for contact in theirs:
        if replaces_phone and contact.kind in PHONE_KINDS and contact.value != phone:
            contact.display_name = contact.role = None
        else:
            contact.display_name = name
            contact.role = role or contact.role
    session.flush()
    return [contact for contact in theirs if contact.display_name == name]
