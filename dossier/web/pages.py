"""Server-rendered pages: login, client search, the client card, source messages, and feedback."""

import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dossier.corrections import correctable_claims, read_tree
from dossier.settings import get_settings
from dossier.web.audit import audit
from dossier.web.auth import (
    COOKIE_NAME,
    Presented,
    Reader,
    current_reader,
    end_session,
    load_reader,
    start_session,
)
from dossier.web.reading import queue_build, reading_language
from dossier.web.suggestions import card_suggestions
from dossier.web.templating import page_labels, templates
from ingest.normalize import normalize_phone
from storage import access, repository
from storage.db import session_scope
from storage.models import Client, Contact, utcnow
from summarizer.redact import redact
from summarizer.service import FORMATS

router = APIRouter(include_in_schema=False)


async def reader_in_language(request: Request, reader: Annotated[Reader, Depends(current_reader)]) -> Reader:
    """FastAPI dependency: the authenticated reader; their pages (errors too) are in their language."""
    request.state.language = reading_language(reader.language, None)
    return reader


AuthReader = Annotated[Reader, Depends(reader_in_language)]
#: The card reloads itself this often while a missing summary waits for the batch to build it.
BUILDING_RELOAD_SECONDS = 3
#: Feedback a user may send per ``FEEDBACK_WINDOW`` (counted in the database, so across server processes).
FEEDBACK_PER_WINDOW = 20
FEEDBACK_WINDOW = timedelta(minutes=1)
MAX_COMMENT_CHARS = 4000
ROOT_HASH = re.compile(r"[0-9a-f]{64}")


def safe_next(target: str | None) -> str:
    """A local path to go back to after login (never another site)."""
    return target if target and target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return templates.TemplateResponse(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    """Check the API token and open a login session: its secret (never the token) goes in an HttpOnly,
    SameSite=Lax cookie that lasts as long as the session."""
    reader = load_reader(request.app.state.database_url, Presented(access.API_TOKEN, token.strip()))
    if reader is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": safe_next(next), "error": page_labels(request)["login"]["unknown_token"]},
            status_code=401,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        start_session(request, reader),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=int(request.app.state.session_lifetime.total_seconds()),
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the login session (it stops working at once) and clear its cookie."""
    if secret := request.cookies.get(COOKIE_NAME):
        end_session(request, secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@router.get("/", response_class=HTMLResponse)
def search(request: Request, reader: AuthReader, q: str | None = None) -> Response:
    """Find a client by phone number, id, e-mail, name or domain and open their card."""
    if not q:
        return templates.TemplateResponse(request, "search.html", {"reader": reader, "q": "", "error": None})
    with session_scope(request.app.state.database_url) as session:
        number = normalize_phone(q, get_settings().default_phone_region)
        client = (number and access.find_client_by_phone(session, number)) or access.find_client_ref(session, q)
        client_id = client.id if client else None
        if client_id is None:
            audit(session, request, reader, "page.search", None, 404, query=q)
    if client_id is None:
        return templates.TemplateResponse(
            request,
            "search.html",
            {"reader": reader, "q": q, "error": page_labels(request)["search"]["no_match"].format(query=q)},
            status_code=404,
        )
    return RedirectResponse(f"/clients/{client_id}", status_code=303)


@router.get("/clients/{client_id}", response_class=HTMLResponse)
def card(
    request: Request, reader: AuthReader, client_id: int, feedback: str | None = None, corrected: bool = False
) -> Response:
    """Brief, structured summary, timeline and action items, each citation a link to its source.

    What exists is shown (stale ones marked); missing ones say they are being prepared, their build queued.
    """
    language: str = request.state.language
    summaries = request.app.state.summaries
    with session_scope(request.app.state.database_url) as session:
        client = repository.get_client(session, client_id)
        if client is None:
            audit(session, request, reader, "page.card", None, 404, requested=client_id)
        else:
            shown = {
                "id": client_id,
                "name": client.name,
                "contacts": [contact_line(c) for c in client.contacts],
            }
            views = {name: summaries.read(client_id, client.name, name, language, reader.scopes) for name in FORMATS}
            building = any(view is None for view in views.values())
            queue_build(session, client_id, reader.scopes, language, list(views.values()))
            correctable = correctable_claims(read_tree(session, client_id, reader.scopes, language))
            suggested = card_suggestions(session, client_id, reader.scopes)
            audit(session, request, reader, "page.card", client_id, 202 if building else 200, language=language)
    if client is None:
        raise HTTPException(404, page_labels(request)["errors"]["no_client"].format(id=client_id))
    return templates.TemplateResponse(
        request,
        "card.html",
        {
            "reader": reader,
            "client": shown,
            "views": views,
            "building": building,
            "reload_seconds": BUILDING_RELOAD_SECONDS,
            "feedback": feedback if feedback in access.VERDICTS else None,
            "correctable": correctable,
            "corrected": corrected,
            "suggestions": suggested,
        },
    )


@router.post("/clients/{client_id}/feedback")
def send_feedback(
    request: Request,
    reader: AuthReader,
    client_id: int,
    verdict: Annotated[str, Form()],
    format: Annotated[str, Form()] = "brief",
    root_hash: Annotated[str | None, Form()] = None,
    comment: Annotated[str | None, Form()] = None,
) -> Response:
    """Store "useful" or "something missing" for the summary shown, then go back to the card.

    422 for a value outside its set or size, 429 once the user sent ``FEEDBACK_PER_WINDOW`` in the window.
    """
    if problem := feedback_problem(verdict, format, root_hash, comment):
        raise HTTPException(422, problem)
    with session_scope(request.app.state.database_url) as session:
        if access.recent_feedback_count(session, reader.user_id, utcnow() - FEEDBACK_WINDOW) >= FEEDBACK_PER_WINDOW:
            raise too_many_feedback(request)
        known = repository.get_client(session, client_id) is not None
        if known:
            access.store_feedback(
                session,
                user_id=reader.user_id,
                client_id=client_id,
                format=format,
                verdict=verdict,
                root_hash=root_hash or None,
                comment=comment,
            )
        audit(
            session,
            request,
            reader,
            "feedback",
            client_id if known else None,
            303 if known else 404,
            verdict=verdict,
            format=format,
        )
    if not known:
        raise HTTPException(404, page_labels(request)["errors"]["no_client"].format(id=client_id))
    return RedirectResponse(f"/clients/{client_id}?feedback={verdict}#feedback", status_code=303)


@router.get("/messages/{interaction_id}", response_class=HTMLResponse)
def message(request: Request, reader: AuthReader, interaction_id: int, at: float | None = None) -> Response:
    """One source message, note or call (its transcript, the moment ``at`` seconds marked); redacted."""
    with session_scope(request.app.state.database_url) as session:
        item = access.readable_interaction(session, interaction_id, reader.scopes)
        if item is None:
            audit(session, request, reader, "page.message", None, 404, interaction_id=interaction_id)
        else:
            segments = [
                {"start": s.start_s, "end": s.end_s, "speaker": s.speaker or "", "text": redact(s.text)}
                for s in access.transcript(session, item)
            ]
            client_name = session.get(Client, item.client_id).name
            shown = {
                "id": item.id,
                "client_id": item.client_id,
                "client_name": client_name,
                "channel": item.channel,
                "direction": item.direction,
                "author": item.author,
                "occurred_at": item.occurred_at,
                "subject": redact(item.subject or ""),
                "body": redact(item.body),
                "quoted": redact(item.quoted_text or ""),
                "attachments": item.attachments or [],
            }
            audit(session, request, reader, "page.message", item.client_id, 200, interaction_id=interaction_id, at=at)
    if item is None:
        raise HTTPException(404, page_labels(request)["errors"]["no_message"].format(id=interaction_id))
    return templates.TemplateResponse(
        request,
        "message.html",
        {"reader": reader, "item": shown, "segments": segments, "current": _segment_at(segments, at), "at": at},
    )


def contact_line(contact: Contact) -> str:
    """A contact as the card lists it: "email: anna@example.com (Anna Nowak, CEO)"."""
    person = ", ".join(filter(None, (contact.display_name, contact.role)))
    return f"{contact.kind}: {contact.value}" + (f" ({person})" if person else "")


def too_many_feedback(request: Request) -> HTTPException:
    """The 429 for a reader who sent ``FEEDBACK_PER_WINDOW`` feedbacks or corrections in the window."""
    window = int(FEEDBACK_WINDOW.total_seconds())
    return HTTPException(
        429,
        page_labels(request)["feedback"]["too_many"].format(count=FEEDBACK_PER_WINDOW, seconds=window),
        headers={"Retry-After": str(window)},
    )


def feedback_problem(verdict: str, format: str, root_hash: str | None, comment: str | None) -> str | None:
    """Why a feedback form cannot be stored, or None when it can."""
    if verdict not in access.VERDICTS:
        return f"verdict must be one of: {', '.join(access.VERDICTS)}"
    if format not in FORMATS:
        return f"format must be one of: {', '.join(FORMATS)}"
    if root_hash and not ROOT_HASH.fullmatch(root_hash):
        return "root_hash must be 64 lowercase hexadecimal characters (or absent)"
    if comment and len(comment.strip()) > MAX_COMMENT_CHARS:
        return f"the comment is longer than {MAX_COMMENT_CHARS} characters"
    return None


def _segment_at(segments: list[dict], at: float | None) -> int | None:
    """Index of the segment playing at ``at`` seconds (the last one started by then; citations carry
    whole seconds, so a start within the same second counts), or None."""
    if at is None or not segments:
        return None
    started = [index for index, segment in enumerate(segments) if segment["start"] < at + 1]
    return started[-1] if started else 0
