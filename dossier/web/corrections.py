"""The card's "something is missing or wrong": a reader's correction of a claim, or of the summary as a whole."""

import re
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dossier.corrections import correct
from dossier.web.audit import audit
from dossier.web.pages import FEEDBACK_PER_WINDOW, FEEDBACK_WINDOW, AuthReader, too_many_feedback
from dossier.web.templating import page_labels
from storage import corrections, repository
from storage.db import session_scope
from storage.models import User, utcnow

router = APIRouter(include_in_schema=False)
CLAIM_HASH = re.compile(r"[0-9a-f]{64}")


@router.post("/clients/{client_id}/corrections")
def send_correction(
    request: Request,
    reader: AuthReader,
    client_id: int,
    text: Annotated[str, Form()],
    claim: Annotated[str | None, Form()] = None,
) -> Response:
    """Store the reader's correction as their note, then go back to the card; it shows there once refreshed.

    Like feedback: a same-site form (the session cookie is SameSite=Lax, so no other site can post it), 422 for a
    text outside its size or a claim not in the summary the reader reads, 429 past the feedback rate.
    """
    labels = page_labels(request)["corrections"]
    if not text.strip() or len(text.strip()) > corrections.MAX_TEXT_CHARS:
        raise HTTPException(422, labels["bad_text"].format(chars=corrections.MAX_TEXT_CHARS))
    if claim and not CLAIM_HASH.fullmatch(claim):
        raise HTTPException(422, labels["unknown_claim"])
    with session_scope(request.app.state.database_url) as session:
        since = utcnow() - FEEDBACK_WINDOW
        if corrections.recent_correction_count(session, reader.user_id, since) >= FEEDBACK_PER_WINDOW:
            raise too_many_feedback(request)
        known = repository.get_client(session, client_id) is not None
        stored = None
        if not known:
            audit(session, request, reader, "correction", None, 404, requested=client_id)
        else:
            stored = correct(
                session,
                client_id=client_id,
                author=session.get_one(User, reader.user_id),
                scopes=reader.scopes,
                language=request.state.language,
                text=text,
                claim=claim or None,
            )
            if stored is not None:
                audit(session, request, reader, "correction", client_id, 303, note=stored.note.id, claim=claim)
    if not known:
        raise HTTPException(404, page_labels(request)["errors"]["no_client"].format(id=client_id))
    if stored is None:
        raise HTTPException(422, labels["unknown_claim"])
    return RedirectResponse(f"/clients/{client_id}?corrected=1#corrections", status_code=303)
