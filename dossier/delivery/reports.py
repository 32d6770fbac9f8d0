"""Quarterly business reviews and handover reports: HTML and PDF (WeasyPrint), every statement cited.

Both read the client's stored summary tree (:mod:`dossier.delivery.claims`): the root for the current facts, the
month buckets for what happened in a period. Each report ends with its sources (date, channel, author,
subject or first words, linked to the web app's message page when its address is known) and every citation
links to its row, or, when that address is known, to its message page (a call's at the cited second); a
``Report`` row records what was written where. Every word of a report comes from the label files of its one
language: what the CRM importer wrote about a deal change is worded again from the deal's fields, and an empty
section or chart says why it is empty.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dossier.delivery import charts
from dossier.delivery.claims import (
    Cited,
    ClientTree,
    Item,
    activity,
    chronological,
    cited_ids,
    day_start,
    latest_first,
    load_tree,
    open_actions,
    promise_item,
    shown,
    tone_direction,
    tone_points,
    upcoming,
)
from dossier.delivery.links import message_url
from dossier.delivery.people import People, find_user, people_of
from dossier.delivery.templating import Labels, labels, output_language, render_template
from dossier.settings import get_settings
from storage import repository
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import PUBLIC_SCOPE, Client, Interaction, Report, User
from storage.periods import month_key, parse_quarter, previous_quarter
from storage.periods import quarter as quarter_of
from storage.reports import ReportKey, find_report, is_current, save_report
from storage.vocabulary import closes_deal, deal_stage
from summarizer.notes import Citation, Claim, ClaimKind, is_steering_risk
from summarizer.redact import redact
from summarizer.render import load_labels as load_summary_labels
from summarizer.render import worded_deal_change

KINDS = ("quarterly", "handover")
NEXT_STEPS_HORIZON = timedelta(days=30)
SCOPES = (PUBLIC_SCOPE,)
#: Words of a message the sources table shows when it has no subject.
SOURCE_WORDS = 10
#: Who wrote an interaction of each direction, when its author is no name (a phone number, or nobody).
AUTHOR_SIDES = {"inbound": "from_client", "outbound": "from_us", "internal": "from_us"}
#: The ``[mm:ss] speaker:`` start of each line of a call's transcript (``storage.recordings.dialogue``).
CALL_LINE_START = re.compile(r"^\[(?:\d+:)?\d{2}:\d{2}\][^:\n]*:", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Quarter:
    """The quarter a review covers (``2026Q2``, its first day, the first day after), and whether it was chosen
    as the last finished one with activity because none was asked for."""

    label: str
    start: date
    end: date
    last_active: bool = False


@dataclass(frozen=True, slots=True)
class Line:
    """A cited statement as a section lists it, with a note such as the day it was carried over from."""

    item: Item
    note: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    """A titled list of cited statements, and what it says when the list is empty."""

    title: str
    lines: list[Line]
    empty: str
    intro: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart image (PNG data URI) with its title and caption; no image, and a caption saying why, when there is
    nothing to draw."""

    title: str
    caption: str
    image: str | None = None


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One cited interaction, as the sources table lists it: what a reader recognises, and where to open it."""

    id: int
    day: str
    channel: str
    author: str
    reference: str
    href: str | None = None


@dataclass(slots=True)
class Document:
    """A report ready to render; with ``public_base_url`` (the web app's address) its citations link to their
    message pages there, else to their rows in the sources table."""

    kind: str
    language: str
    title: str
    client: str
    meta: list[str]
    sections: list[Section]
    charts: list[Chart] = field(default_factory=list)
    sources: list[SourceRow] = field(default_factory=list)
    public_base_url: str | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """What ``make_report`` wrote."""

    report_id: int
    html_path: Path
    pdf_path: Path | None  # None: only the HTML was asked for
    new: bool = True  # False: the same report was written before and is still there
    quarter: Quarter | None = None  # a quarterly review's quarter


# --- wording -----------------------------------------------------------------------------------------


def spoken_date(day: date, words: Labels, *, year: int | None = None) -> str:
    """``12 March`` in the report's language; with the year (``12 March 2025``) unless it is ``year``."""
    report = words["report"]
    month = report["months_in_date"][day.month - 1]
    if day.year == year:
        return report["day_month"].format(day=day.day, month=month)
    return report["day_month_year"].format(day=day.day, month=month, year=day.year)


def month_name(key: str, words: Labels) -> str:
    """A tone month (``"2026-01"``) as a reader says it: ``January 2026``."""
    year, month = key.split("-")
    return words["report"]["month_year"].format(month=words["report"]["months"][int(month) - 1], year=year)


def decimal(value: float, words: Labels, *, signed: bool = False) -> str:
    """``value`` with two decimals in the report's language: ``1,380,000.00``, ``1 380 000,00``; ``signed``
    writes the sign as a reader does (``+0.30``, ``−0.30``)."""
    text = f"{value:+,.2f}" if signed else f"{value:,.2f}"
    marks = {",": words["report"]["group_mark"], ".": words["report"]["decimal_mark"], "-": "−"}
    return "".join(marks.get(character, character) for character in text)


def tone_words(points: list[tuple[str, float]], words: Labels) -> str:
    """The tone trend of the charted ``points`` in words: its direction (see ``tone_direction``), and the lowest
    month whenever one is negative ("mostly steady; lowest in January 2026 (−0.30)")."""
    report = words["report"]
    lowest = min(points, key=lambda point: point[1], default=None)
    direction = tone_direction(points)
    if lowest is None:
        return words["tone"]["unknown"]
    low = {"month": month_name(lowest[0], words), "value": decimal(lowest[1], words, signed=True)}
    if direction is None:
        return report["tone_one_month"].format(**low)
    if lowest[1] >= 0:
        return words["tone"][direction]
    trend = report["tone_mostly_steady"] if direction == "steady" else words["tone"][direction]
    return report["tone_lowest"].format(trend=trend, **low)


@dataclass(frozen=True, slots=True)
class Wording:
    """How a report words what it quotes, in its one language: a deal change from the deal's CRM fields (never
    the importer's English sentence), the summarizer's own risk label from the label files, open actions
    with their owners named (see ``People``)."""

    language: str
    deals: dict[int, Interaction] = field(default_factory=dict)
    people: People = field(default_factory=People)

    @property
    def words(self) -> Labels:
        """The labels of the report's language."""
        return labels(self.language)

    @classmethod
    def of(cls, session: Session, client_id: int, tree: ClientTree, language: str) -> "Wording":
        """The wording of ``client_id``'s reports in ``language``."""
        deals = session.scalars(
            select(Interaction).where(Interaction.client_id == client_id, Interaction.channel == "deal_event")
        )
        return cls(language, {deal.id: deal for deal in deals}, people_of(session, client_id, tree.root))

    def item(self, claim: Claim) -> Item:
        """A claim as a cited item: a quoted deal change worded from its fields, the steering label in the
        report's language, any other claim as the summary has it."""
        deal = self._quoted_deal(claim)
        if deal is not None:
            whole = _squeeze(claim.text) in (_squeeze(deal.body), _squeeze(redact(deal.body)))
            return Item.of(claim, self.deal_change(deal, reason=whole))
        if is_steering_risk(claim):
            return Item.of(claim, load_summary_labels(self.language)["text"]["steering"])
        return Item.of(claim)

    def items(self, claims: list[Claim]) -> list[Line]:
        """Each claim as a line of a section."""
        return [Line(self.item(claim)) for claim in claims]

    def promise(self, claim: Claim, as_of: date) -> Item:
        """An open action as a cited sentence (see ``promise_item``)."""
        return promise_item(claim, as_of, self.words, self.people)

    def _quoted_deal(self, claim: Claim) -> Interaction | None:
        """The deal change whose importer-written sentence ``claim`` quotes, if it does."""
        if len(claim.sources) != 1 or (deal := self.deals.get(claim.sources[0].interaction_id)) is None:
            return None
        quoted = _squeeze(claim.text)
        return deal if any(_squeeze(text).startswith(quoted) for text in (deal.body, redact(deal.body))) else None

    def deal_change(self, deal: Interaction, *, reason: bool = True) -> str:
        """``Deal LP-40 (D-17) moved to stage “proposal”: 12,000.00 EUR.`` in the report's language, from the
        CRM fields the importer kept (the importer's sentence when they are missing); the reason when asked."""
        meta, frames = deal.meta or {}, self.words["deal"]
        stage = deal_stage(meta.get("stage"))
        if not stage:
            return redact(deal.body)
        name, deal_id = meta.get("deal_name"), meta.get("deal_id")
        amount = (
            " ".join(filter(None, (decimal(float(meta["amount"]), self.words), meta.get("currency"))))
            if meta.get("amount") is not None
            else None
        )
        text = worded_deal_change(
            frames,
            deal=frames["named"].format(name=name, id=deal_id) if name and deal_id else name or deal_id or "",
            stage=meta["stage"],
            amount=amount,
            reason=str(meta["reason"]) if reason and meta.get("reason") else None,
        )
        return redact(text)


def _squeeze(text: str) -> str:
    return " ".join(text.split())


# --- sections ----------------------------------------------------------------------------------------


def open_deals(session: Session, client_id: int, until: date, wording: Wording) -> list[Item]:
    """Deals whose latest stage change before ``until`` left them open, each citing that change."""
    latest: dict[str, Interaction] = {}
    for interaction in session.scalars(
        select(Interaction)
        .where(
            Interaction.client_id == client_id,
            Interaction.channel == "deal_event",
            Interaction.scope.in_(SCOPES),
            Interaction.privileged.is_(False),
            Interaction.occurred_at < day_start(until),
        )
        .order_by(Interaction.occurred_at)
    ):
        latest[interaction.meta.get("deal_id") or str(interaction.deal_id)] = interaction
    return [
        Item(
            wording.deal_change(interaction),
            interaction.occurred_at.date(),
            (Cited.of(Citation(interaction_id=interaction.id)),),
        )
        for interaction in latest.values()
        if not closes_deal(str(interaction.meta.get("stage", "")))
    ]


def carried_over(items: list[Item], quarter: Quarter, words: Labels) -> list[Line]:
    """Items dated before ``quarter`` noted as carried over from their day."""
    report = words["report"]
    return [
        Line(item, report["carried_over"].format(date=spoken_date(item.day, words, year=quarter.start.year)))
        if item.day is not None and item.day < quarter.start
        else Line(item)
        for item in items
    ]


def has_activity(session: Session, client_id: int, start: date, end: date) -> bool:
    """Whether the client has a readable interaction in ``[start, end)``."""
    return last_activity(session, client_id, start=start, before=end) is not None


def last_activity(session: Session, client_id: int, *, before: date, start: date | None = None) -> date | None:
    """The day of the client's last readable, non-privileged interaction before ``before`` (from ``start``)."""
    query = select(func.max(Interaction.occurred_at)).where(
        Interaction.client_id == client_id,
        Interaction.scope.in_(SCOPES),
        Interaction.privileged.is_(False),
        Interaction.occurred_at < day_start(before),
    )
    if start is not None:
        query = query.where(Interaction.occurred_at >= day_start(start))
    last = session.scalar(query)
    return last.date() if last is not None else None


def review_quarter(session: Session, client_id: int, quarter: str | None, as_of: date) -> Quarter:
    """The quarter asked for; else the last finished quarter with activity of the client (else the current one
    when only it has some, else the last finished one: its review says there was no activity)."""
    if quarter:
        return Quarter(*parse_quarter(quarter))
    current = parse_quarter(quarter_of(as_of))
    last = last_activity(session, client_id, before=current[1]) or last_activity(
        session, client_id, start=current[1], before=as_of + timedelta(days=1)
    )
    if last is None:
        return Quarter(*parse_quarter(previous_quarter(as_of)))
    return Quarter(*parse_quarter(quarter_of(last)), last_active=True)


def quarterly_sections(
    session: Session, client: Client, tree: ClientTree, quarter: Quarter, as_of: date, wording: Wording
) -> list[Section]:
    """Purchases, key events, solved problems, open questions and upsell chances of one quarter; what is still
    open from before the quarter says since when, and an empty section says why."""
    start, end, words = quarter.start, quarter.end, wording.words
    period = [*tree.notes_between("month", day_start(start), day_start(end)), tree.root]
    solved = [c for c in shown(period, ClaimKind.STATUS, start=start, end=end) if c.topic == "issue"]
    solved += [c for c in shown([tree.root], ClaimKind.ACTION, start=start, end=end) if c.done]
    report = words["report"]
    if not tree.nodes:
        happened = still_open = report["not_summarized"]
    else:
        active = has_activity(session, client.id, start, end)
        happened = report["nothing_in" if active else "no_activity"].format(period=quarter.label)
        still_open = report["nothing_open"].format(period=quarter.label)
    questions = [wording.promise(c, as_of) for c in open_actions(tree.root) if c.date is None or c.date < end]
    return [
        Section(
            report["purchases"],
            wording.items(chronological(shown(period, ClaimKind.PURCHASE, start=start, end=end))),
            happened,
        ),
        Section(
            report["key_events"],
            wording.items(chronological(shown(period, ClaimKind.EVENT, ClaimKind.AGREEMENT, start=start, end=end))),
            happened,
        ),
        Section(report["solved"], wording.items(chronological(solved)), happened),
        Section(report["open_questions"], carried_over(questions, quarter, words), still_open),
        Section(
            report["upsell"], carried_over(open_deals(session, client.id, end, wording), quarter, words), still_open
        ),
    ]


def handover_sections(
    session: Session, client: Client, tree: ClientTree, as_of: date, wording: Wording
) -> list[Section]:
    """Status, history, agreements, people, open promises, risks, next steps, what not to ask again."""
    root, months = tree.root, tree.notes_between("month", None, day_start(as_of + timedelta(days=1)))
    report = wording.words["report"]
    empty = report["nothing"] if tree.nodes else report["not_summarized"]
    established = shown([root], ClaimKind.PREFERENCE, ClaimKind.AGREEMENT, ClaimKind.PURCHASE)
    next_steps = open_deals(session, client.id, as_of + timedelta(days=1), wording) + [
        wording.promise(c, as_of) for c in upcoming(root, as_of, NEXT_STEPS_HORIZON)
    ]
    return [
        Section(report["current_status"], wording.items(latest_first(shown([root], ClaimKind.STATUS))[:5]), empty),
        Section(
            report["history"],
            wording.items(chronological(shown([*months, root], ClaimKind.EVENT, ClaimKind.PURCHASE))),
            empty,
        ),
        Section(report["agreements"], wording.items(chronological(shown([root], ClaimKind.AGREEMENT))), empty),
        Section(report["people"], wording.items(shown([root], ClaimKind.PERSON)), empty),
        Section(report["open_promises"], [Line(wording.promise(c, as_of)) for c in open_actions(root)], empty),
        Section(report["risks"], wording.items(sorted(shown([root], ClaimKind.RISK), key=lambda c: -c.weight)), empty),
        Section(report["next_steps"], [Line(item) for item in next_steps], empty),
        Section(
            report["do_not_ask"], wording.items(chronological(established)), empty, intro=report["do_not_ask_intro"]
        ),
    ]


def report_charts(
    session: Session, client: Client, tree: ClientTree, quarter: Quarter | None, end: date, words: Labels
) -> list[Chart]:
    """Activity by channel (weekly within a quarter, monthly over a whole history) and the tone trend, each left
    out with the reason when there is nothing to draw."""
    start = quarter.start if quarter else None
    events = activity(session, client.id, day_start(start) if start else None, day_start(end))
    report = words["report"]
    by_week = quarter is not None
    if events:
        caption = report["activity_caption"].format(bin=report["week" if by_week else "month"], count=len(events))
        first = start or events[0][0].date()
        image = charts.activity_chart(events, first, end, by_week=by_week, channel_names=words["channels"])
        found = [Chart(report["activity"], caption, image)]
    elif quarter is not None:
        found = [Chart(report["activity"], report["no_activity_chart"].format(period=quarter.label))]
    else:
        found = [Chart(report["activity"], report["no_history_chart"])]
    points = tone_points(tree.root.tone, until=end - timedelta(days=1))
    if quarter is not None and not any(month >= month_key(quarter.start) for month, _value in points):
        found.append(Chart(report["tone"], report["no_tone_chart"].format(period=quarter.label)))
    elif not points:
        found.append(Chart(report["tone"], words["tone"]["unknown"]))
    else:
        caption = f"{report['tone_caption']} {report['tone']}: {tone_words(points, words)}"
        found.append(Chart(report["tone"], caption, charts.tone_chart(points)))
    return found


def source_rows(session: Session, ids: list[int], wording: Wording, public_base_url: str | None) -> list[SourceRow]:
    """The cited interactions, oldest first, as a reader recognises them: channel, time, author (a person, else
    the side), subject or first words; linked to their message page in the web app at ``public_base_url``."""
    rows = session.scalars(select(Interaction).where(Interaction.id.in_(ids)).order_by(Interaction.occurred_at))
    words = wording.words
    return [
        SourceRow(
            i.id,
            f"{i.occurred_at:%Y-%m-%d %H:%M}",
            words["report"]["channel"].get(i.channel, words["channels"].get(i.channel, i.channel)),
            author_name(i, words),
            source_reference(i, wording),
            message_url(public_base_url, i.id) if public_base_url else None,
        )
        for i in rows
    ]


def author_name(interaction: Interaction, words: Labels) -> str:
    """Who wrote ``interaction``: the person's name; a bare number or address with the side it came from; the
    side alone without an author."""
    report = words["report"]
    side = report[AUTHOR_SIDES[interaction.direction]] if interaction.direction in AUTHOR_SIDES else ""
    author = (interaction.author or "").strip()
    if not author:
        return side
    if any(character.isalpha() for character in author) or not side:
        return author
    return report["from_contact"].format(side=side, contact=author)


def source_reference(interaction: Interaction, wording: Wording) -> str:
    """What the interaction is about: a deal change in the report's words, the subject, else its first words (of a
    call, the first words said)."""
    if interaction.channel == "deal_event":
        return wording.deal_change(interaction, reason=False)
    if interaction.subject and interaction.subject.strip():
        return redact(interaction.subject.strip())
    body = CALL_LINE_START.sub("", interaction.body) if interaction.channel == "call" else interaction.body
    first = redact(body).split()
    return " ".join(first[:SOURCE_WORDS]) + ("…" if len(first) > SOURCE_WORDS else "")


# --- documents ---------------------------------------------------------------------------------------


def build_document(
    session: Session,
    kind: str,
    client: Client,
    *,
    quarter: Quarter | None,
    to: User | None,
    language: str,
    as_of: date,
    public_base_url: str | None = None,
) -> Document:
    """The report's content: header lines, sections, charts and sources (``quarter``: a quarterly review's)."""
    tree = load_tree(session, client.id, language=language, scopes=SCOPES)
    wording = Wording.of(session, client.id, tree, language)
    report = wording.words["report"]
    meta = [report["generated"].format(date=as_of.isoformat())]
    if kind == "quarterly":
        if quarter is None:
            raise ValueError("a quarterly review needs its quarter")
        period = {"quarter": quarter.label, "start": quarter.start, "end": quarter.end - timedelta(days=1)}
        meta.insert(0, report["quarter_last_active" if quarter.last_active else "quarter"].format(**period))
        sections = quarterly_sections(session, client, tree, quarter, as_of, wording)
        found_charts = report_charts(session, client, tree, quarter, quarter.end, wording.words)
    else:
        meta.insert(0, report["whole_history"].format(date=as_of.isoformat()))
        sections = handover_sections(session, client, tree, as_of, wording)
        found_charts = report_charts(session, client, tree, None, as_of + timedelta(days=1), wording.words)
    if client.owner_id and (owner := session.get(User, client.owner_id)):
        meta.append(report["owner"].format(name=owner.name))
    if to is not None:
        meta.append(report["prepared_for"].format(name=to.name))
    cited = cited_ids(line.item for section in sections for line in section.lines)
    sources = source_rows(session, cited, wording, public_base_url)
    return Document(kind, language, report[kind], client.name, meta, sections, found_charts, sources, public_base_url)


def report_language(session: Session, client: Client, to: User | None, language: str | None = None) -> str:
    """``language`` if given, else the reader's: the ``--to`` user's, else the account manager's (English
    when that language has no labels)."""
    reader = to or (session.get(User, client.owner_id) if client.owner_id else None)
    return output_language(language or (reader.language if reader else None))


def build_quarterly_review(
    session: Session,
    client: Client,
    _kind: str,
    period: str,
    _params: dict[str, Any],
    *,
    public_base_url: str | None = None,
) -> str:
    """HTML of the quarterly review of ``period`` (``2025Q4``), linked to the web app at ``public_base_url``:
    the batch jobs' builder contract (called by ``dossier.jobs``)."""
    as_of = date.today()
    document = build_document(
        session,
        "quarterly",
        client,
        quarter=review_quarter(session, client.id, period, as_of),
        to=None,
        language=report_language(session, client, None),
        as_of=as_of,
        public_base_url=public_base_url,
    )
    return render_html(document)


def build_handover_report(
    session: Session,
    client: Client,
    _kind: str,
    period: str,
    params: dict[str, Any],
    *,
    public_base_url: str | None = None,
) -> str:
    """HTML of the handover report on day ``period`` to ``params["to_manager"]`` (a user id), linked to the web
    app at ``public_base_url``: the batch jobs' builder contract (called by ``dossier.jobs``)."""
    to = session.get(User, params["to_manager"]) if params.get("to_manager") else None
    document = build_document(
        session,
        "handover",
        client,
        quarter=None,
        to=to,
        language=report_language(session, client, to),
        as_of=date.fromisoformat(period),
        public_base_url=public_base_url,
    )
    return render_html(document)


def render_html(document: Document) -> str:
    """The report as one self-contained HTML page (charts embedded)."""
    return render_template("report.html.j2", doc=document, L=labels(document.language))


def write_pdf(html: str, path: Path) -> None:
    """Lay the HTML out as a PDF with WeasyPrint (the ``reports`` extra)."""
    try:
        from weasyprint import HTML
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise DossierError(
            "PDF reports need WeasyPrint: pip install 'dossier[reports]' "
            f"(and its system libraries, Pango and HarfBuzz): {error}"
        ) from error
    HTML(string=html, base_url=str(path.parent)).write_pdf(path)


def output_paths(out: Path) -> tuple[Path, Path]:
    """(HTML path, PDF path) of a report file ``out`` named ``.html`` or ``.pdf``: both sit side by side."""
    return out.with_suffix(".html"), out.with_suffix(".pdf")


def out_file(out: Path, client: Client, key: ReportKey) -> Path:
    """The report file ``--out`` names: ``FILE.pdf`` or ``FILE.html`` as given, or the default name inside a
    folder (an existing one, or a path without a suffix); anything else is a ``DossierError``."""
    if out.suffix.lower() in (".html", ".pdf"):
        return out
    if out.is_dir() or not out.suffix:
        return out / default_name(client, key)
    raise DossierError(f"--out {out}: name a .pdf or .html file, or a folder")


def default_name(client: Client, key: ReportKey) -> str:
    """A report's file name: kind, client, period, reader and language."""
    name = "-".join(filter(None, (key.kind, client.name, key.period, key.reader, key.language)))
    slug = re.sub(r"[^\w-]+", "-", name, flags=re.UNICODE).strip("-").lower()
    return f"{slug}.pdf"


def make_report(
    kind: str,
    client_ref: str,
    *,
    quarter: str | None = None,
    to: str | None = None,
    out: Path | None = None,
    language: str | None = None,
    as_of: date | None = None,
    pdf: bool = True,
    database_url: str | None = None,
    public_base_url: str | None = None,
) -> Written:
    """Write a quarterly review or handover report as HTML (and PDF unless ``pdf`` is False) and record it.

    A review without ``quarter`` covers the client's last finished quarter with activity (see
    :func:`review_quarter`); with ``public_base_url`` (the web app's address) its citations and sources link to
    their message pages. The one way to make a report, for the ``dossier report`` commands and the batch jobs
    alike. The same report (client, kind, quarter or day, reader, language: a :class:`storage.reports.ReportKey`) is
    recorded once: asked for again, the recorded one is returned while its files are there (at ``out``
    when given) and nothing it reads has changed since; otherwise it is written again and its record updated.
    """
    if kind not in KINDS:
        raise DossierError(f"unknown report {kind!r}; expected one of: {', '.join(KINDS)}")
    as_of = as_of or date.today()
    with session_scope(database_url or get_settings().database_url) as session:
        client = repository.find_client(session, client_ref)
        if client is None:
            raise DossierError(f"no client matches {client_ref!r} (try `dossier clients`)")
        recipient = find_user(session, to) if to else None
        covered = review_quarter(session, client.id, quarter, as_of) if kind == "quarterly" else None
        period = covered.label if covered else as_of.isoformat()
        language = report_language(session, client, recipient, language)
        key = ReportKey(client.id, kind, period, recipient.login if recipient else None, language)
        wanted = output_paths(out_file(out, client, key)) if out is not None else None
        recorded = find_report(session, key)
        reusable = recorded is not None and is_current(session, recorded)
        if recorded is not None and reusable and (files := _recorded_files(recorded, wanted, pdf)) is not None:
            return Written(recorded.id, *files, new=False, quarter=covered)
        document = build_document(
            session,
            kind,
            client,
            quarter=covered,
            to=recipient,
            language=language,
            as_of=as_of,
            public_base_url=public_base_url,
        )
        html_path, pdf_path = wanted or output_paths(Path(get_settings().reports_dir) / default_name(client, key))
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html = render_html(document)
        html_path.write_text(html, encoding="utf-8")
        if pdf:
            write_pdf(html, pdf_path)
        row = save_report(session, key, as_of=as_of, html_path=html_path, pdf_path=pdf_path if pdf else None)
        return Written(row.id, html_path, pdf_path if pdf else None, new=True, quarter=covered)


def _recorded_files(report: Report, wanted: tuple[Path, Path] | None, pdf: bool) -> tuple[Path, Path | None] | None:
    """A recorded report's (HTML, PDF) files when those needed are there (and are ``wanted``), else None."""
    html_path = Path(report.html_path) if report.html_path else None
    pdf_path = Path(report.pdf_path) if report.pdf_path else None
    needed = (html_path, pdf_path) if pdf else (html_path,)
    if html_path is None or not all(path is not None and path.is_file() for path in needed):
        return None
    if wanted is not None and (html_path, pdf_path if pdf else None) != (
        wanted[0].resolve(),
        wanted[1].resolve() if pdf else None,
    ):
        return None
    return html_path, pdf_path
