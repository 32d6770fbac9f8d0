"""Corrections readers make on the card: a note by its author, marked as a correction of a claim (or of the summary
as a whole), visible to the scopes that may read what it corrects.

The note is an ordinary internal ``note`` interaction; what makes it a correction is its ``CorrectionMark`` row,
which only :func:`record_correction` writes. Text that looks like a correction is never one.
"""

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import repository
from storage.changes import Change, ChangeKind, record_change
from storage.errors import DossierError
from storage.models import (
    PUBLIC_SCOPE,
    Channel,
    CorrectionMark,
    Direction,
    Interaction,
    Scope,
    ScopeGrant,
    User,
    utcnow,
)

#: ``Interaction.source_kind`` of correction notes: where they come from (the card), not what makes them one.
SOURCE_KIND = "corrections"
MAX_TEXT_CHARS = 2000


class CorrectionTarget(NamedTuple):
    """The identity of a corrected claim: its kind, topic, the sha256 of its normalized text, its sources."""

    kind: str
    topic: str | None
    text_hash: str
    sources: tuple[int, ...]


class StoredCorrection(NamedTuple):
    """A correction note readable with some scopes, and its mark."""

    note: Interaction
    mark: CorrectionMark


def restrictive_scope(session: Session, scopes: Iterable[str]) -> str:
    """The most restrictive of ``scopes``: a scope other than the public one, the one granted to the fewest teams
    and users (then by name); the public scope only when there is no other."""
    private = sorted(set(scopes) - {PUBLIC_SCOPE})
    if not private:
        return PUBLIC_SCOPE
    grants = dict(
        session.execute(
            select(Scope.name, func.count(ScopeGrant.id))
            .join(ScopeGrant, ScopeGrant.scope_id == Scope.id, isouter=True)
            .where(Scope.name.in_(private))
            .group_by(Scope.name)
        ).all()
    )
    return min(private, key=lambda name: (grants.get(name, 0), name))


def record_correction(
    session: Session,
    *,
    client_id: int,
    author: User,
    text: str,
    reader_scopes: Sequence[str],
    claim: CorrectionTarget | None = None,
    engine: str | None = None,
) -> StoredCorrection:
    """Store ``text`` as ``author``'s correction note on the client, marked as correcting ``claim`` (or the summary
    as a whole), and queue the client's refresh.

    The note gets the most restrictive scope among the claim's sources that ``reader_scopes`` may read, or, with no
    claim, the most restrictive of ``reader_scopes``: nobody sees the correction who might not see what it is about.
    """
    text = " ".join(text.split())
    if not text:
        raise DossierError("a correction needs a text")
    if len(text) > MAX_TEXT_CHARS:
        raise DossierError(f"a correction is at most {MAX_TEXT_CHARS} characters")
    now = utcnow()
    scope = restrictive_scope(session, _source_scopes(session, claim, reader_scopes) if claim else reader_scopes)
    repository.ensure_scope(session, scope)
    fingerprint = hashlib.sha256(f"correction\0{client_id}\0{author.id}\0{now.isoformat()}\0{text}".encode())
    note = Interaction(
        client_id=client_id,
        channel=Channel.NOTE,
        direction=Direction.INTERNAL,
        author=author.name,
        author_contact=author.email,
        occurred_at=now,
        body=text,
        source_kind=SOURCE_KIND,
        source_ref=f"card correction by {author.login}",
        content_hash=fingerprint.hexdigest(),
        scope=scope,
    )
    session.add(note)
    session.flush()
    mark = CorrectionMark(
        interaction_id=note.id,
        client_id=client_id,
        user_id=author.id,
        claim_kind=claim.kind if claim else None,
        claim_topic=claim.topic if claim else None,
        claim_hash=claim.text_hash if claim else None,
        claim_sources=list(claim.sources) if claim else [],
        engine=engine,
        created_at=now,
    )
    session.add(mark)
    session.flush()
    record_change(session, [Change(client_id, ChangeKind.INTERACTION)])
    return StoredCorrection(note, mark)


def _source_scopes(session: Session, claim: CorrectionTarget, reader_scopes: Sequence[str]) -> list[str]:
    """The scopes of the claim's sources that ``reader_scopes`` may read (all of them, for a claim the reader saw)."""
    found = session.scalars(
        select(Interaction.scope).where(Interaction.id.in_(claim.sources), Interaction.scope.in_(list(reader_scopes)))
    )
    return sorted(set(found)) or list(reader_scopes)


def client_corrections(session: Session, client_id: int, scopes: Iterable[str]) -> list[StoredCorrection]:
    """The client's corrections whose notes ``scopes`` may read, oldest first."""
    rows = session.execute(
        select(Interaction, CorrectionMark)
        .join(CorrectionMark, CorrectionMark.interaction_id == Interaction.id)
        .where(
            Interaction.client_id == client_id,
            Interaction.scope.in_(list(scopes)),
            Interaction.privileged.is_(False),
        )
        .order_by(Interaction.occurred_at, Interaction.id)
    )
    return [StoredCorrection(note, mark) for note, mark in rows]


def recent_correction_count(session: Session, user_id: int, since: datetime) -> int:
    """How many corrections ``user_id`` has made since ``since`` (for rate limits across processes)."""
    return session.execute(
        select(func.count())
        .select_from(CorrectionMark)
        .where(CorrectionMark.user_id == user_id, CorrectionMark.created_at >= since)
    ).scalar_one()
