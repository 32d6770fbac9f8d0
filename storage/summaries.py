"""Reads and writes for the summarizer: sources, tree nodes, rendered summaries, the refresh queue."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from storage.models import (
    Client,
    Interaction,
    RefreshRequest,
    RenderedSummary,
    SummaryNode,
    SummaryRun,
    utcnow,
)

NodeKey = tuple[str, datetime, int]  # (level, bucket_start, chunk)


def scope_key(scopes: Iterable[str]) -> str:
    """The canonical name of a set of visibility scopes."""
    return "+".join(sorted(set(scopes)))


def source_interactions(session: Session, client_id: int, scopes: Iterable[str]) -> list[Interaction]:
    """A client's interactions readable with ``scopes``, privileged ones excluded, oldest first."""
    return list(
        session.scalars(
            select(Interaction)
            .where(
                Interaction.client_id == client_id,
                Interaction.scope.in_(list(scopes)),
                Interaction.privileged.is_(False),
            )
            .order_by(Interaction.occurred_at, Interaction.id)
        )
    )


def client_ids_with_history(session: Session) -> list[int]:
    """Every active client that has at least one interaction."""
    return list(
        session.scalars(
            select(Client.id)
            .where(Client.is_active.is_(True), Client.id.in_(select(Interaction.client_id).distinct()))
            .order_by(Client.id)
        )
    )


def load_nodes(session: Session, client_id: int, key: str) -> dict[NodeKey, SummaryNode]:
    """The stored tree of a client for one scope key."""
    nodes = session.scalars(select(SummaryNode).where(SummaryNode.client_id == client_id, SummaryNode.scope_key == key))
    return {(n.level, n.bucket_start, n.chunk): n for n in nodes}


def save_nodes(session: Session, new: list[dict[str, Any]], changed: list[tuple[SummaryNode, dict[str, Any]]]) -> None:
    """Insert new tree nodes in bulk and overwrite changed ones with their new values."""
    now = utcnow()
    if new:
        session.execute(insert(SummaryNode), [{**values, "created_at": now} for values in new])
    for node, values in changed:
        for name, value in values.items():
            setattr(node, name, value)
        node.created_at = now


def delete_nodes(session: Session, nodes: Iterable[SummaryNode]) -> None:
    """Remove tree nodes that no longer exist (their bucket lost all its sources)."""
    ids = [n.id for n in nodes if n.id is not None]
    if ids:
        session.execute(delete(SummaryNode).where(SummaryNode.id.in_(ids)))


def save_rendered(
    session: Session,
    *,
    client_id: int,
    key: str,
    format: str,
    language: str,
    root_hash: str,
    engine: str,
    markdown: str,
    content: dict[str, Any],
) -> RenderedSummary:
    """Store a rendered summary (fresh: not stale), replacing the previous one."""
    row = get_rendered(session, client_id, key, format, language) or RenderedSummary(
        client_id=client_id, scope_key=key, format=format, language=language
    )
    row.root_hash, row.engine, row.markdown, row.content = root_hash, engine, markdown, content
    row.stale, row.generated_at = False, utcnow()
    session.add(row)
    return row


def newest_root(session: Session, client_id: int, scopes: Iterable[str], language: str) -> SummaryNode | None:
    """The root of the client's newest tree built from exactly ``scopes``: the ``language`` tree when an engine
    translates (its key ends in the language), else the newest; None before the client is summarized for them."""
    prefix = scope_key(scopes) + "@"
    roots = session.scalars(
        select(SummaryNode)
        .where(
            SummaryNode.client_id == client_id,
            SummaryNode.level == "root",
            SummaryNode.chunk == 0,  # the last fold of the root level; earlier folds hold part of it
            SummaryNode.scope_key.startswith(prefix, autoescape=True),
        )
        .order_by(SummaryNode.created_at.desc())
    ).all()
    return next((row for row in roots if row.scope_key.endswith(f":{language}")), roots[0] if roots else None)


def get_rendered(session: Session, client_id: int, key: str, format: str, language: str) -> RenderedSummary | None:
    """The stored rendering of one summary, or None."""
    return session.scalar(
        select(RenderedSummary).where(
            RenderedSummary.client_id == client_id,
            RenderedSummary.scope_key == key,
            RenderedSummary.format == format,
            RenderedSummary.language == language,
        )
    )


def rendered_summary(session: Session, client_id: int, format: str, language: str) -> RenderedSummary | None:
    """The client's stored summary in ``format`` (any scope): in ``language`` if rendered in it, else the
    first one rendered in another language; None when there is none."""
    return session.scalar(
        select(RenderedSummary)
        .where(RenderedSummary.client_id == client_id, RenderedSummary.format == format)
        .order_by((RenderedSummary.language == language).desc(), RenderedSummary.id)
        .limit(1)
    )


def rendered_markdown(session: Session, client_id: int, format: str, language: str) -> str | None:
    """The Markdown of :func:`rendered_summary`; None when there is none."""
    summary = rendered_summary(session, client_id, format, language)
    return summary.markdown if summary is not None else None


def fresh_clients(session: Session, client_ids: Iterable[int]) -> list[int]:
    """Those of ``client_ids`` that have rendered summaries and none of them stale, in id order."""
    stale = select(RenderedSummary.client_id).where(RenderedSummary.stale.is_(True))
    return list(
        session.scalars(
            select(RenderedSummary.client_id)
            .distinct()
            .where(RenderedSummary.client_id.in_(list(client_ids)), RenderedSummary.client_id.not_in(stale))
            .order_by(RenderedSummary.client_id)
        )
    )


def refreshed_since(session: Session, client_ids: Iterable[int], *, since: datetime) -> set[int]:
    """Those of ``client_ids`` whose fresh (not stale) summaries were all rendered at or after ``since``."""
    rows = session.execute(
        select(RenderedSummary.client_id, func.min(RenderedSummary.generated_at))
        .where(RenderedSummary.client_id.in_(list(client_ids)), RenderedSummary.stale.is_(False))
        .group_by(RenderedSummary.client_id)
    )
    return {client_id for client_id, oldest in rows if oldest >= since}


def due_refreshes(session: Session, *, debounce: timedelta, now: datetime | None = None) -> list[int]:
    """Clients whose last change is older than ``debounce`` (important ones at once)."""
    cutoff = (now or utcnow()) - debounce
    return list(
        session.scalars(
            select(RefreshRequest.client_id)
            .where((RefreshRequest.last_change_at <= cutoff) | RefreshRequest.important.is_(True))
            .order_by(RefreshRequest.requested_at)
        )
    )


def queued_refreshes(session: Session) -> dict[int, RefreshRequest]:
    """The whole refresh queue by client id."""
    return {r.client_id: r for r in session.scalars(select(RefreshRequest))}


def clear_refresh(session: Session, client_id: int, *, started_at: datetime) -> None:
    """Drop a client's queue entry unless new data arrived after the refresh started."""
    session.execute(
        delete(RefreshRequest).where(RefreshRequest.client_id == client_id, RefreshRequest.last_change_at <= started_at)
    )


def start_summary_run(session: Session, engine: str) -> SummaryRun:
    """Record the start of a summarize run."""
    run = SummaryRun(engine=engine, errors=[])
    session.add(run)
    session.flush()
    return run


def finish_summary_run(session: Session, run: SummaryRun) -> None:
    """Record the end of a summarize run."""
    run.finished_at = datetime.now(UTC)
    session.add(run)
