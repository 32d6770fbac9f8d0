"""Meetings read from calendars, and which clients they are with (by the attendees' e-mail addresses and domains)."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import Client, Contact, ContactKind, Meeting, User


def replace_meetings(session: Session, source_id: int, found: list[Meeting]) -> None:
    """The source's meetings are now ``found``: what its previous sync stored is dropped."""
    session.execute(delete(Meeting).where(Meeting.source_id == source_id))
    session.add_all(found)


def meetings_starting(session: Session, start: datetime, end: datetime) -> list[Meeting]:
    """The meetings starting in ``[start, end]``, by start; an event held in several calendars (same UID and
    start) once."""
    rows = session.scalars(
        select(Meeting)
        .where(Meeting.starts_at >= start, Meeting.starts_at <= end)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    unique: dict[tuple[str, datetime], Meeting] = {}
    for row in rows:
        unique.setdefault((row.uid, row.starts_at), row)
    return list(unique.values())


def organiser(session: Session, meeting: Meeting) -> User | None:
    """The Dossier user who organises ``meeting`` (by e-mail address), if the organiser is one."""
    if not meeting.organizer:
        return None
    return session.scalar(select(User).where(func.lower(User.email) == meeting.organizer))


def source_meeting_counts(session: Session) -> dict[int, int]:
    """How many meetings each calendar source holds, by source id."""
    rows = session.execute(select(Meeting.source_id, func.count()).group_by(Meeting.source_id))
    return dict(rows.all())  # a Result itself has keys(): dict() would take it for a mapping


def clients_of_attendees(session: Session, addresses: Iterable[str]) -> list[int]:
    """The active clients that ``addresses`` (lower-case e-mails) belong to, in the order met: an address that is a
    client's e-mail contact names it, else its domain when that is a client's domain contact."""
    addresses = list(addresses)
    domains = {address: address.rpartition("@")[2] for address in addresses}
    rows = session.execute(
        select(Contact.kind, Contact.value, Contact.client_id)
        .join(Client, Client.id == Contact.client_id)
        .where(
            Client.is_active.is_(True),
            ((Contact.kind == ContactKind.EMAIL) & Contact.value.in_(addresses))
            | ((Contact.kind == ContactKind.DOMAIN) & Contact.value.in_(set(domains.values()))),
        )
    )
    owners = {(kind, value): client_id for kind, value, client_id in rows}
    found = (
        owners.get((ContactKind.EMAIL, address)) or owners.get((ContactKind.DOMAIN, domains[address]))
        for address in addresses
    )
    return list(dict.fromkeys(client_id for client_id in found if client_id is not None))
