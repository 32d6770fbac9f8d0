"""Audit of every lookup: who asked for which client, when, how, and what they got."""

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from dossier.web.auth import Reader
from storage import access


def audit(
    session: Session, request: Request, reader: Reader, action: str, client_id: int | None, status: int, **detail: Any
) -> None:
    """Record one request of ``reader`` in ``session`` (``client_id`` None when no client matched)."""
    access.record_audit(
        session,
        user_id=reader.user_id,
        action=action,
        client_id=client_id,
        status=status,
        scopes=reader.scope_key,
        path=request.url.path,
        **detail,
    )
