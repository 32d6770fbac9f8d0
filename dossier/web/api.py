"""JSON endpoints: the cached summary of a client looked up by incoming phone number, id or e-mail."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from dossier.settings import get_settings
from dossier.web.audit import audit
from dossier.web.auth import Reader, current_reader
from dossier.web.reading import UnknownLanguage, queue_build, reading_language
from ingest.normalize import normalize_phone
from storage import access
from storage.db import session_scope
from summarizer.service import SummaryView

router = APIRouter(prefix="/api", tags=["api"])
FormatName = Literal["brief", "structured", "timeline", "actions"]
RETRY_AFTER_SECONDS = 5
AuthReader = Annotated[Reader, Depends(current_reader)]
LangQuery = Annotated[str | None, Query(description="Output language (default: the reader's).")]


@dataclass(frozen=True, slots=True)
class Lookup:
    """The client a request names, or why none matched; ``detail`` goes to the audit record."""

    client: access.ClientRef | None
    problem: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def summary_payload(view: SummaryView) -> dict[str, Any]:
    """A summary as JSON: its content, whether newer data waits (``stale``) and when it was generated."""
    summary = view.summary
    return {
        "client": {"id": view.client_id, "name": view.client_name},
        "format": view.format,
        "language": view.language,
        "stale": summary.stale,
        "generated_at": summary.generated_at.isoformat(),
        "engine": summary.engine,
        "root_hash": summary.root_hash,
        "source": view.source,
        "markdown": summary.markdown,
        "content": summary.content,
        "card_url": f"/clients/{view.client_id}",
    }


def answer(
    request: Request, reader: Reader, action: str, find: Callable[[Session], Lookup], format_name: str, lang: str | None
) -> JSONResponse:
    """The summary the reader may see (200, stale while a build waits), a queued build (202) or no client (404).

    Builds are queued for the batch, never run here; every answer is audited.
    """
    try:
        language = reading_language(reader.language, lang)
    except UnknownLanguage as error:
        raise HTTPException(400, str(error)) from None
    summaries = request.app.state.summaries
    with session_scope(request.app.state.database_url) as session:
        lookup = find(session)
        client = lookup.client
        view = summaries.read(client.id, client.name, format_name, language, reader.scopes) if client else None
        status = 404 if client is None else 202 if view is None else 200
        if client is not None:
            queue_build(session, client.id, reader.scopes, language, [view])
        audit(
            session, request, reader, action, client.id if client else None, status, format=format_name, **lookup.detail
        )
    if client is None:
        raise HTTPException(404, lookup.problem)
    if view is None:
        return JSONResponse(
            {
                "status": "queued",
                "client": {"id": client.id, "name": client.name},
                "detail": f"no {format_name} for {client.name} yet; its build is queued, "
                f"retry in {RETRY_AFTER_SECONDS} s",
            },
            status_code=202,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JSONResponse(summary_payload(view))


@router.get("/incoming-call", summary="Brief of the client calling from a phone number")
def incoming_call(
    request: Request,
    reader: AuthReader,
    phone: Annotated[str, Query(min_length=1, description="The caller's number, written any way.")],
    region: Annotated[str | None, Query(description="Country of numbers without +code.")] = None,
    format: FormatName = "brief",
    lang: LangQuery = None,
) -> JSONResponse:
    """Look the caller up by phone (normalised to E.164) and return their cached summary."""
    region = region or get_settings().default_phone_region

    number = normalize_phone(phone, region)

    def find(session: Session) -> Lookup:
        if number is None:
            return Lookup(None, f"{phone!r} is not a valid phone number (read with region {region})", {"phone": phone})
        return Lookup(
            access.find_client_by_phone(session, number), f"no client has the phone number {number}", {"phone": number}
        )

    return answer(request, reader, "api.incoming_call", find, format, lang)


@router.get("/clients/{ref}", summary="Summary of a client by id or e-mail")
def client_summary(
    request: Request, reader: AuthReader, ref: str, format: FormatName = "brief", lang: LangQuery = None
) -> JSONResponse:
    """Look a client up by id or e-mail (or name, domain, handle) and return their cached summary."""
    return answer(
        request,
        reader,
        "api.client",
        lambda session: Lookup(access.find_client_ref(session, ref), f"no client matches {ref!r}", {"ref": ref}),
        format,
        lang,
    )
