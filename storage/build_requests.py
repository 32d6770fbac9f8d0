"""Summaries readers asked for, queued for the batch: the web service never builds one itself.

A request names one client, scope set and language. Asking again before the batch ran adds nothing
(one row per request, kept in the database, so it survives a restart of either side); the batch
builds each request once and deletes it (``dossier summarize --dirty``, ``dossier.jobs``).
"""

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from storage.models import PUBLIC_SCOPE, BuildRequest, RenderedSummary, utcnow
from storage.repository import dialect_insert
from storage.summaries import clear_refresh, scope_key


class Requested(NamedTuple):
    """One summary set to build: a client's summaries from exactly ``scopes``, in ``language``."""

    client_id: int
    scopes: tuple[str, ...]
    language: str

    @property
    def key(self) -> str:
        return scope_key(self.scopes)


def request_build(session: Session, client_id: int, scopes: Iterable[str], language: str) -> None:
    """Queue the build of a client's summaries of ``scopes`` in ``language``; a queued one stays as it is."""
    session.execute(
        dialect_insert(session, BuildRequest)
        .values(client_id=client_id, scope_key=scope_key(scopes), language=language, requested_at=utcnow())
        .on_conflict_do_nothing(index_elements=["client_id", "scope_key", "language"])
    )


def pending_builds(session: Session, client_ids: Iterable[int] | None = None) -> list[Requested]:
    """Queued requests, oldest first; only those of ``client_ids`` when given."""
    query = select(BuildRequest).order_by(
        BuildRequest.requested_at, BuildRequest.client_id, BuildRequest.scope_key, BuildRequest.language
    )
    if client_ids is not None:
        query = query.where(BuildRequest.client_id.in_(list(client_ids)))
    return [Requested(row.client_id, tuple(row.scope_key.split("+")), row.language) for row in session.scalars(query)]


def requesting_clients(session: Session) -> list[int]:
    """Clients with a queued request, the longest waiting first."""
    rows = session.execute(
        select(BuildRequest.client_id, BuildRequest.requested_at).order_by(
            BuildRequest.requested_at, BuildRequest.client_id
        )
    )
    return list(dict.fromkeys(client_id for client_id, _at in rows))


def is_built(session: Session, request: Requested) -> bool:
    """Whether the requested summaries exist and none is stale (a refresh built them meanwhile)."""
    rendered = select(RenderedSummary.id).where(
        RenderedSummary.client_id == request.client_id,
        RenderedSummary.scope_key == request.key,
        RenderedSummary.language == request.language,
    )
    return bool(session.scalar(select(exists(rendered) & ~exists(rendered.where(RenderedSummary.stale.is_(True))))))


def clear_build(session: Session, request: Requested) -> None:
    """Drop a request once its summaries are built."""
    session.execute(
        delete(BuildRequest).where(
            BuildRequest.client_id == request.client_id,
            BuildRequest.scope_key == request.key,
            BuildRequest.language == request.language,
        )
    )


def settle_refresh(
    session: Session, built: Requested, refresh_languages: Iterable[str], *, started_at: datetime
) -> None:
    """After a public build: drop the client's queued refresh when the public summaries it renders (in
    ``refresh_languages``) are all fresh, unless new data arrived after ``started_at``."""
    if built.scopes == (PUBLIC_SCOPE,) and all(
        is_built(session, Requested(built.client_id, built.scopes, language)) for language in refresh_languages
    ):
        clear_refresh(session, built.client_id, started_at=started_at)
