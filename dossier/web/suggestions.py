"""Suggested CRM updates on the web: the card's pending list with accept / reject (POST forms, like feedback), and
``GET /api/suggestions``, their JSON for a CRM sync. A reader sees and decides only suggestions whose every source
they may read."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from dossier import suggestions as crm
from dossier.web.audit import audit
from dossier.web.auth import Reader, current_reader
from dossier.web.reading import reading_language
from dossier.web.templating import page_labels
from storage import access
from storage import suggestions as store
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import Client, CrmSuggestion, SuggestionStatus

router = APIRouter()
AuthReader = Annotated[Reader, Depends(current_reader)]
StatusQuery = Literal["pending", "accepted", "rejected", "all"]
#: The notices the card shows after a decision (``?suggestion=…``).
DECISIONS = ("accepted", "rejected")


def card_suggestions(session: Session, client_id: int, scopes: tuple[str, ...]) -> list[dict[str, Any]]:
    """The client's pending suggestions that ``scopes`` may read, as the card shows them."""
    pending = store.readable_only(session, store.list_suggestions(session, client_id=client_id), scopes)
    return [
        {
            "id": row.id,
            "kind": row.kind,
            "changes": [change._asdict() for change in crm.changes(row)],
            "citations": [{"interaction_id": source} for source in row.source_ids],
        }
        for row in pending
    ]


def _readable(session: Session, reader: Reader, client_id: int, suggestion_id: int) -> CrmSuggestion | None:
    try:
        found = store.get_suggestion(session, suggestion_id)
    except DossierError:
        return None
    if found.client_id != client_id or not store.readable_only(session, [found], reader.scopes):
        return None
    return found


@router.post("/clients/{client_id}/suggestions/{suggestion_id}/{decision}", include_in_schema=False)
def decide(
    request: Request, reader: AuthReader, client_id: int, suggestion_id: int, decision: Literal["accept", "reject"]
) -> Response:
    """Accept (write the contact or the deal stage) or reject a pending suggestion, then go back to the card.

    404 for a suggestion the reader may not read, 409 for one decided already or that cannot be written.
    """
    request.state.language = reading_language(reader.language, None)
    labels = page_labels(request)["suggestions"]
    problem = None
    with session_scope(request.app.state.database_url) as session:
        suggestion = _readable(session, reader, client_id, suggestion_id)
        if suggestion is None:
            audit(session, request, reader, f"suggestion.{decision}", None, 404, suggestion_id=suggestion_id)
        else:
            act = crm.accept if decision == "accept" else crm.reject
            try:
                with session.begin_nested():
                    act(session, suggestion, login=reader.login, user_id=reader.user_id)
            except DossierError as error:
                problem = str(error)
                audit(session, request, reader, f"suggestion.{decision}", client_id, 409, suggestion_id=suggestion_id)
    if suggestion is None:
        raise HTTPException(404, labels["no_suggestion"].format(id=suggestion_id))
    if problem is not None:
        raise HTTPException(409, labels["conflict"].format(id=suggestion_id, reason=problem))
    outcome = "accepted" if decision == "accept" else "rejected"
    return RedirectResponse(f"/clients/{client_id}?suggestion={outcome}#suggestions", status_code=303)


@router.get("/api/suggestions", tags=["api"], summary="Suggested CRM updates, for a CRM sync")
def export(
    request: Request,
    reader: AuthReader,
    client: Annotated[
        str | None, Query(description="A client id, e-mail, name or domain (default: every client).")
    ] = None,
    status: StatusQuery = "pending",
) -> JSONResponse:
    """Suggestions whose every source the reader may read, oldest first: kind, payload, cited interactions,
    status and who decided them when."""
    with session_scope(request.app.state.database_url) as session:
        found = access.find_client_ref(session, client) if client is not None else None
        if client is not None and found is None:
            audit(session, request, reader, "api.suggestions", None, 404, ref=client)
            payload = None
        else:
            rows = store.list_suggestions(
                session,
                client_id=found.id if found else None,
                status=None if status == "all" else SuggestionStatus(status),
            )
            rows = store.readable_only(session, rows, reader.scopes)
            names = dict(session.execute(select(Client.id, Client.name)).all())
            payload = [crm.as_json(row, names[row.client_id]) for row in rows]
            audit(session, request, reader, "api.suggestions", found.id if found else None, 200, count=len(payload))
    if payload is None:
        raise HTTPException(404, f"no client matches {client!r}")
    return JSONResponse({"suggestions": payload})
