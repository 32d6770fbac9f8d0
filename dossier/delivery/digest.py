"""The Monday digest: per manager (and per rep, for their own clients) what changed in the past week.

For each client: activity, what changed, new risks, tone trend, overdue promises on both sides and
upcoming deadlines, every statement cited. Rendered as plain text and HTML in the reader's language and
kept in the ``Delivery`` outbox once per user and ISO week; :mod:`dossier.delivery.mailer` sends it.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dossier.delivery.citation_links import source_links, sources_text
from dossier.delivery.claims import (
    Cited,
    ClientTree,
    Item,
    activity,
    chronological,
    day_start,
    latest_first,
    load_tree,
    one_per_source,
    overdue_promises,
    promise_item,
    quoted_item,
    risk_weight,
    shown,
    tone_line,
    upcoming,
)
from dossier.delivery.people import People, find_user, people_of
from dossier.delivery.templating import (
    Labels,
    channel_names,
    labels,
    output_language,
    render_template,
)
from storage.deliveries import DeliveryKey, Message, queue_once
from storage.errors import DossierError
from storage.models import Client, Delivery, User
from storage.periods import iso_week, iso_week_monday
from summarizer.merge import normalize
from summarizer.notes import Claim, ClaimKind, Notes, Side

KIND = "digest"
TOP_CLIENTS = 10
MAX_ITEMS = 6  # per client and section
DEADLINE_HORIZON = timedelta(days=14)
TONE_MONTHS = 4  # months the tone trend looks back
ACTION_SECTIONS = frozenset({"overdue_us", "overdue_client", "upcoming"})
CHANGE_KINDS = (ClaimKind.STATUS, ClaimKind.AGREEMENT, ClaimKind.EVENT, ClaimKind.PURCHASE, ClaimKind.ACTION)


@dataclass(frozen=True, slots=True)
class Period:
    """A digest's ISO week (``key``, e.g. ``2026-W47``) and the week it reports on: the Monday–Sunday
    before it, ``[start, end)``; promises are judged as of ``end``, the Monday it is sent."""

    key: str
    start: date
    end: date

    @classmethod
    def of(cls, key: str) -> "Period":
        """The period of an ISO week key; DossierError when malformed."""
        monday = iso_week_monday(key)
        return cls(iso_week(monday), monday - timedelta(days=7), monday)

    @classmethod
    def containing(cls, day: date) -> "Period":
        """The period of ``day``'s ISO week: on any day of week 47, the digest of week 47 (about week 46)."""
        return cls.of(iso_week(day))

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


class Section(NamedTuple):
    """A section of a client's part as shown: its label key, its first items, how many more there are, and
    whether each item is shown after its date (promises and requests say their dates themselves)."""

    key: str
    items: list[Item]
    more: int
    dated: bool


@dataclass(slots=True)
class ClientDigest:
    """One client's part of a digest: every item of each section (a digest shows the first ones)."""

    id: int
    name: str
    activity: str
    interactions: int
    changes: list[Item] = field(default_factory=list)
    new_risks: list[Item] = field(default_factory=list)
    open_risks: list[Item] = field(default_factory=list)
    overdue_us: list[Item] = field(default_factory=list)
    overdue_client: list[Item] = field(default_factory=list)
    upcoming: list[Item] = field(default_factory=list)
    tone: str = ""
    score: float = 0.0

    @property
    def sections(self) -> list[Section]:
        """The non-empty sections in reading order, each cut to :data:`MAX_ITEMS` items."""
        parts = [
            ("changes", self.changes),
            ("new_risks", self.new_risks),
            ("open_risks", self.open_risks),
            ("overdue_us", self.overdue_us),
            ("overdue_client", self.overdue_client),
            ("upcoming", self.upcoming),
        ]
        return [
            Section(key, items[:MAX_ITEMS], max(0, len(items) - MAX_ITEMS), key not in ACTION_SECTIONS)
            for key, items in parts
            if items
        ]


@dataclass(slots=True)
class Digest:
    """A user's digest for one week, ready to render."""

    user: User
    period: Period
    language: str
    clients: list[ClientDigest]

    @property
    def shown_citations(self) -> list[Cited]:
        """The citations of every item shown, in reading order."""
        return [
            cite
            for client in self.clients
            for section in client.sections
            for item in section.items
            for cite in item.sources
        ]


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    """A digest as an e-mail: subject, plain text and HTML."""

    subject: str
    text: str
    html: str


# --- who gets one, about which clients -------------------------------------------------------------


def recipients(session: Session, login: str | None = None) -> list[User]:
    """The user named ``login``, or every manager and every rep who owns a client."""
    if login is not None:
        return [find_user(session, login)]
    owners = select(Client.owner_id).where(Client.owner_id.is_not(None))
    return list(
        session.scalars(select(User).where(or_(User.role == "manager", User.id.in_(owners))).order_by(User.login))
    )


def clients_of(session: Session, user: User) -> list[Client]:
    """The active clients a user answers for: their own, and a manager's whole team's."""
    owners = (
        select(User.id).where(User.team_id == user.team_id)
        if user.role == "manager" and user.team_id
        else select(User.id).where(User.id == user.id)
    )
    return list(
        session.scalars(
            select(Client).where(Client.is_active.is_(True), Client.owner_id.in_(owners)).order_by(Client.name)
        )
    )


# --- what it says ------------------------------------------------------------------------------------


def client_digest(session: Session, client: Client, tree: ClientTree, period: Period, words: Labels) -> ClientDigest:
    """A client's week: activity, changes, new and still open risks, tone, overdue promises and deadlines."""
    window = (day_start(period.start), day_start(period.end))
    counts = Counter(channel for _at, channel in activity(session, client.id, *window))
    root, as_of = tree.root, period.end
    week = tree.notes_between("day", *window)
    new_risks = chronological(shown([*week, root], ClaimKind.RISK, start=period.start, end=period.end))
    people = people_of(session, client.id, root)
    digest = ClientDigest(
        id=client.id,
        name=client.name,
        interactions=sum(counts.values()),
        activity=(
            words["digest"]["activity"].format(
                count=sum(counts.values()), channels=channel_names(counts, words["channels"])
            )
            if counts
            else words["digest"]["no_activity"]
        ),
        changes=[quoted_item(c, words) for c in chronological(one_per_source(shown(week, *CHANGE_KINDS)))],
        new_risks=[quoted_item(c, words) for c in new_risks],
        open_risks=[quoted_item(c, words) for c in earlier_risks(root, new_risks, period.end)],
        overdue_us=_promises(overdue_promises(root, as_of, Side.US), as_of, words, people),
        overdue_client=_promises(overdue_promises(root, as_of, Side.CLIENT), as_of, words, people),
        upcoming=_promises(upcoming(root, as_of, DEADLINE_HORIZON), as_of, words, people),
        tone=tone_line(root.tone, period.last_day, words, months=TONE_MONTHS),
    )
    digest.score = (
        digest.interactions
        + 2 * len(digest.new_risks)
        + risk_weight(root)
        + 0.5 * (len(digest.overdue_us) + len(digest.overdue_client))
    )
    return digest


def earlier_risks(root: Notes, new_risks: list[Claim], end: date) -> list[Claim]:
    """The root's open risks from before ``end`` that are not among this week's ``new_risks``, newest first."""
    new = {normalize(claim.text) for claim in new_risks}
    risks = shown([root], ClaimKind.RISK, end=end) + [c for c in shown([root], ClaimKind.RISK) if c.date is None]
    return latest_first(claim for claim in risks if normalize(claim.text) not in new)


def _promises(claims: list[Claim], as_of: date, words: Labels, people: People) -> list[Item]:
    return [promise_item(claim, as_of, words, people) for claim in claims]


def compose_digest(session: Session, user: User, clients: list[Client], period: Period) -> Digest:
    """The user's digest about ``clients`` for ``period``: the top ones by activity and risk."""
    language = output_language(user.language)
    words = labels(language)
    parts = [
        client_digest(session, client, load_tree(session, client.id, language=language), period, words)
        for client in clients
    ]
    parts.sort(key=lambda part: (-part.score, part.name))
    return Digest(user, period, language, parts[:TOP_CLIENTS])


def build_digest(
    session: Session, user: User, client_ids: list[int], period: str, *, public_base_url: str | None = None
) -> tuple[str, str, str]:
    """(subject, text, HTML) of the user's digest about ``client_ids`` for the ISO week ``period``, its citations
    linked to the web app at ``public_base_url`` when given (see :func:`render_digest`).

    The builder contract of the batch jobs (``dossier.jobs.BUILDERS``).
    """
    clients = [client for client_id in client_ids if (client := session.get(Client, client_id)) is not None]
    rendered = render_digest(compose_digest(session, user, clients, Period.of(period)), public_base_url=public_base_url)
    return rendered.subject, rendered.text, rendered.html


def render_digest(digest: Digest, *, public_base_url: str | None = None) -> RenderedDigest:
    """The digest as an e-mail in its language. With ``public_base_url`` (the web app's address) each citation
    marker of the HTML links to its message page, and the plain text ends with the cited markers' addresses."""
    words = labels(digest.language)
    subject = words["digest"]["subject"].format(period=digest.period.key, count=len(digest.clients))
    links = source_links(digest.shown_citations, public_base_url=public_base_url)
    context = {
        "digest": digest,
        "L": words,
        "subject": subject,
        "public_base_url": public_base_url,
        "sources": sources_text(links, title=words["digest"]["sources"]),
    }
    return RenderedDigest(
        subject, render_template("digest.txt.j2", **context), render_template("digest.html.j2", **context)
    )


# --- the outbox --------------------------------------------------------------------------------------


def queue_digest(
    session: Session, user: User, as_of: date, *, public_base_url: str | None = None
) -> tuple[Delivery, bool]:
    """The user's digest for the week in the outbox: stored once per ISO week (True when stored now), its
    citations linked to the web app at ``public_base_url`` when given.

    A digest already stored for that week is kept as it is, sent or not, so re-runs (or two runs at
    once) never duplicate it.
    """
    period = Period.containing(as_of)

    def compose() -> Message:
        if not user.email:
            raise DossierError(f"user {user.login!r} has no e-mail address")
        subject, text, html = build_digest(
            session,
            user,
            [client.id for client in clients_of(session, user)],
            period.key,
            public_base_url=public_base_url,
        )
        return Message(recipient=user.email, subject=subject, text_body=text, html_body=html)

    return queue_once(session, DeliveryKey(KIND, user.id, period.key), compose)
