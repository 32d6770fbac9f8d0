"""Pre-meeting briefs: the brief of each client a meeting is with, mailed to its organiser before it starts.

A brief is composed once per meeting occurrence (its ``period_key`` names the event's UID and start), in
the organiser's language and from the sources they may read, every citation linked to its message page
when ``public_base_url`` is set. It goes to the ``Delivery`` outbox as an e-mail (kind ``meeting_brief``)
and, with a webhook URL, as the same content in JSON (kind ``meeting_webhook``, :mod:`.webhook` posts it).
"""

import hashlib
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dossier.delivery.citation_links import source_links, sources_text
from dossier.delivery.claims import Cited
from dossier.delivery.links import message_url
from dossier.delivery.templating import labels, output_language, render_template
from storage import summaries
from storage.deliveries import DeliveryKey, Message, find_delivery, queue_once
from storage.models import Client, Delivery, Meeting, User
from summarizer.notes import Citation

KIND = "meeting_brief"
WEBHOOK_KIND = "meeting_webhook"
#: The longest ``period_key`` the outbox holds; a longer event UID is replaced by its hash.
MAX_KEY = 64
TIME_FORMAT = "EEEE d MMMM y, HH:mm"


class BriefCitation(BaseModel):
    """A citation of a brief: its marker, what it cites, and its message page (with a public base URL)."""

    marker: str
    interaction_id: int
    at_seconds: float | None = None
    url: str | None = None


class BriefSentence(BaseModel):
    """A sentence of a client's brief and its citations."""

    text: str
    citations: list[BriefCitation]


class ClientBrief(BaseModel):
    """One client's brief as the organiser may read it."""

    id: int
    name: str
    card_url: str | None = None
    stale: bool = False  # newer history waits: the refresh before sending failed
    generated_at: datetime | None = None
    sentences: list[BriefSentence]


class MeetingBrief(BaseModel):
    """What a pre-meeting brief says: the meeting, its recipient and its clients' briefs (the webhook's JSON)."""

    kind: Literal["meeting_brief"] = "meeting_brief"
    meeting_uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    local_time: str  # the start as the recipient reads it, in the meeting's zone
    organizer: str
    attendees: list[str]
    language: str
    clients: list[ClientBrief]
    subject: str = ""
    text: str = ""  # the plain-text mail, for chat tools that show text


def occurrence_key(uid: str, starts_at: datetime) -> str:
    """What makes a meeting occurrence the same one in every run and calendar: its UID and UTC start."""
    start = f"{starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    key = f"event:{uid}:{start}"
    if len(key) > MAX_KEY:
        key = f"event:{hashlib.sha256(uid.encode()).hexdigest()[: MAX_KEY - len(start) - 7]}:{start}"
    return key


def local_time(moment: datetime, timezone: str, language: str) -> str:
    """``moment`` as a reader of ``language`` reads it in ``timezone`` (UTC when the zone is unknown)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone, timezone = ZoneInfo("UTC"), "UTC"
    return f"{format_datetime(moment, TIME_FORMAT, tzinfo=zone, locale=language)} ({timezone})"


def client_brief(
    session: Session, client: Client, *, scopes: tuple[str, ...], language: str, public_base_url: str | None
) -> ClientBrief:
    """The client's stored brief from exactly ``scopes`` in ``language``, each citation linked when there is an
    address; without a stored brief, no sentences."""
    row = summaries.get_rendered(session, client.id, summaries.scope_key(scopes), "brief", language)
    sentences = [] if row is None or row.content.get("empty") else row.content.get("sentences", [])
    return ClientBrief(
        id=client.id,
        name=client.name,
        card_url=f"{public_base_url.rstrip('/')}/clients/{client.id}" if public_base_url else None,
        stale=bool(row and row.stale),
        generated_at=row.generated_at if row else None,
        sentences=[
            BriefSentence(
                text=sentence["text"],
                citations=[_citation(Citation.model_validate(c), public_base_url) for c in sentence["citations"]],
            )
            for sentence in sentences
        ],
    )


def _citation(citation: Citation, public_base_url: str | None) -> BriefCitation:
    cited = Cited.of(citation)
    url = message_url(public_base_url, cited.interaction_id, cited.at_seconds) if public_base_url else None
    return BriefCitation(marker=cited.marker, interaction_id=cited.interaction_id, at_seconds=cited.at_seconds, url=url)


def compose_brief(
    meeting: Meeting, user: User, clients: list[ClientBrief], *, language: str, public_base_url: str | None
) -> MeetingBrief:
    """The brief for ``user`` about ``meeting`` with its clients' briefs, rendered (subject and text) in the
    user's language."""
    words = labels(output_language(user.language))["meeting"]
    brief = MeetingBrief(
        meeting_uid=meeting.uid,
        title=meeting.title or words["untitled"],
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        timezone=meeting.timezone,
        local_time=local_time(meeting.starts_at, meeting.timezone, output_language(user.language)),
        organizer=meeting.organizer or "",
        attendees=list(meeting.attendees),
        language=language,
        clients=clients,
    )
    brief.subject = words["subject"].format(time=brief.local_time, title=brief.title)
    brief.text = render_template("meeting_brief.txt.j2", **_context(brief, user, public_base_url))
    return brief


def render_html(brief: MeetingBrief, user: User, public_base_url: str | None) -> str:
    """The brief as the HTML part of its e-mail (every value escaped)."""
    return render_template("meeting_brief.html.j2", **_context(brief, user, public_base_url))


def _context(brief: MeetingBrief, user: User, public_base_url: str | None) -> dict[str, object]:
    words = labels(output_language(user.language))
    cites = [
        Cited(c.interaction_id, c.marker, c.at_seconds)
        for client in brief.clients
        for sentence in client.sentences
        for c in sentence.citations
    ]
    links = source_links(cites, public_base_url=public_base_url)
    return {
        "brief": brief,
        "user": user,
        "L": words,
        "client_names": ", ".join(client.name for client in brief.clients),
        "sources": sources_text(links, title=words["meeting"]["sources"]),
    }


def queue_brief(
    session: Session, meeting: Meeting, user: User, brief: MeetingBrief, *, webhook_url: str | None, html: str
) -> list[Delivery]:
    """The brief in the outbox, by e-mail and (with ``webhook_url``) as JSON: the deliveries stored now."""
    key = occurrence_key(meeting.uid, meeting.starts_at)
    client_id = brief.clients[0].id if brief.clients else None
    mail = Message(user.email or user.login, brief.subject, brief.text, html, client_id)
    stored = [queue_once(session, DeliveryKey(KIND, user.id, key), lambda: mail)]
    if webhook_url:
        posted = Message(webhook_url, brief.subject, brief.model_dump_json(), None, client_id)
        stored.append(queue_once(session, DeliveryKey(WEBHOOK_KIND, user.id, key), lambda: posted))
    return [delivery for delivery, new in stored if new]


def is_queued(session: Session, meeting: Meeting, user: User) -> bool:
    """Whether the brief of this meeting occurrence was queued for ``user`` before (by any run)."""
    return (
        find_delivery(session, DeliveryKey(KIND, user.id, occurrence_key(meeting.uid, meeting.starts_at))) is not None
    )
